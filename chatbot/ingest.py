"""Idempotent ingestion: files -> chunks -> embeddings -> store.

A chunk's id is derived from its document and its text, so re-ingesting a file embeds only
chunks whose text is new. Order of writes: add all new chunks (in batches), then update the
metadata of kept ones, then delete stale ones. A crash at any point leaves each affected
document inconsistent (chunks with mixed ``doc_hash`` or a wrong count), so the next run
re-plans it and repairs the store.

The sentences of each new chunk are embedded into the sentence-vector cache (``PassageVectors``)
before the chunk is written, so a stored chunk always has them; deleted chunks' sentence records
are dropped after the chunks are, and a sentence's vector goes when no chunk holds it.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .chunking import CHUNKER_VERSION, Chunk, chunk_text, split_sentences
from .config import Settings
from .loaders import LOADER_VERSION, Document, Skipped, load_documents
from .embeddings import ChatbotEmbeddings, PassageVectors
from .rules import EMBED_BATCH, PROGRESS_STEP
from .store import ChunkMeta, ChunkStore
from .text import language_of

Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


@dataclass
class IngestReport:
    """What an ingest run did; ``to_dict`` is the ``chatbot ingest --json`` output.

    ``documents`` has one entry per ingested file: ``path``, ``doc_id``, ``title``, ``status``
    (``added``, ``updated`` or ``unchanged``), ``chunks``, and how it was read: ``format``
    (markdown, text, html, pdf), ``encoding`` and ``encoding_source`` (bom, declared, utf-8,
    iso-2022-jp escapes, detected) for text and HTML, ``extractor`` (trafilatura or fallback)
    for HTML, ``pages`` for PDFs.
    """

    files: int = 0
    chunks_added: int = 0
    chunks_unchanged: int = 0
    chunks_removed: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def chunk_id(doc_id: str, text: str, occurrence: int) -> str:
    """Stable id: same document + same text (+ which repeat of it) = same id."""
    digest = hashlib.sha256(f"{doc_id}\0{text}\0{occurrence}".encode("utf-8")).hexdigest()[:16]
    return f"{doc_id}#{digest}"


METADATA_VERSION = 2  # bump when chunks gain a metadata field: their metadata is rewritten, not re-embedded


def _doc_hash(doc: Document, settings: Settings) -> str:
    """Changes when the file, the way files are read, or the chunking settings change."""
    key = (f"{doc.content_hash}|{CHUNKER_VERSION}|{settings.chunk_tokens}|{settings.chunk_overlap}"
           f"|loader{LOADER_VERSION}|meta{METADATA_VERSION}")
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def chunk_metadata(doc: Document, chunk: Chunk, doc_hash: str, n_chunks: int, model_id: str,
                   ingested_at: str = "") -> ChunkMeta:
    """Everything stored with a chunk (see :class:`ChunkMeta`)."""
    meta = ChunkMeta(
        doc_id=doc.doc_id, title=doc.title, source=doc.source, path=doc.path, chunk_index=chunk.index,
        start=chunk.start, end=chunk.end, content_hash=chunk.content_hash, doc_hash=doc_hash, n_chunks=n_chunks,
        embedding_model=model_id, ingested_at=ingested_at or None, text_language=language_of(chunk.text),
        format=str(doc.details["format"]) if doc.details.get("format") else None,
        encoding=str(doc.details["encoding"]) if doc.details.get("encoding") else None)
    for key in ("publisher", "author", "supervisor", "published", "language", "url"):
        value = doc.metadata.get(key)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            setattr(meta, key, str(value))
    if doc.pages:
        first, last = doc.page_at(chunk.start), doc.page_at(max(chunk.start, chunk.end - 1))
        meta.page = first
        if last != first:
            meta.page_end = last
            # where each later page begins (document offsets), so a sentence's own page can be told
            meta.page_starts = [(n, start) for n, start, _ in doc.pages if chunk.start < start < chunk.end]
    return meta


def _file_details(doc: Document, status: str, chunks: int) -> dict:
    return {"path": doc.source, "doc_id": doc.doc_id, "title": doc.title, "status": status, "chunks": chunks,
            **doc.details}


def ingest(
    paths: list[str | Path],
    store: ChunkStore,
    embeddings: ChatbotEmbeddings,
    settings: Settings,
    prune: bool = False,
    progress: Progress | None = None,
    sentences: PassageVectors | None = None,
    home: str | Path | None = None,
) -> IngestReport:
    """Bring the store in line with the files under ``paths``; see the module docstring.

    With ``sentences``, the sentences of every new chunk are embedded there before the chunk is
    written (so a stored chunk always has its sentence vectors), and the records of deleted
    chunks are dropped after they are deleted. Doc ids of files and folders below ``home``
    (default: the corpus dir) are relative to it."""
    if sentences is not None:
        _record_stored_chunks(store, sentences)
    docs, skipped = load_documents(paths, home=Path(home or settings.corpus_dir), settings=settings)
    report = IngestReport(files=len(docs), skipped=skipped)
    unique: dict[str, Document] = {}
    for doc in docs:
        unique.setdefault(doc.doc_id, doc)

    by_doc: dict[str, dict[str, ChunkMeta]] = defaultdict(dict)
    # Only these documents' chunks are read, unless pruning needs every one (the archive may be large).
    for cid, meta in (store.all_metadata() if prune else store.metadata_of(list(unique))).items():
        by_doc[meta.doc_id][cid] = meta

    plans = []  # (doc, chunks, ids, doc_hash, old) for documents that changed
    for doc in unique.values():
        dh = _doc_hash(doc, settings)
        old = by_doc.get(doc.doc_id, {})
        if old and all(m.doc_hash == dh and m.n_chunks == len(old) for m in old.values()):
            report.chunks_unchanged += len(old)
            report.documents.append(_file_details(doc, "unchanged", len(old)))
            continue
        chunks = chunk_text(doc.doc_id, doc.text, settings.chunk_tokens, settings.chunk_overlap)
        seen: dict[str, int] = defaultdict(int)
        ids = []
        for c in chunks:
            ids.append(chunk_id(doc.doc_id, c.text, seen[c.text]))
            seen[c.text] += 1
        plans.append((doc, chunks, ids, dh, old))
        report.documents.append(_file_details(doc, "updated" if old else "added", len(chunks)))

    total = sum(sum(1 for i in ids if i not in old) for _, _, ids, _, old in plans)
    pending: list[tuple[str, str, ChunkMeta]] = []  # chunks to embed, written in batches across documents
    kept_ids: list[str] = []
    kept_metas: list[ChunkMeta] = []
    stale: list[str] = []

    def flush() -> None:
        texts = [text for _, text, _ in pending]
        vectors: list[list[float]] = []
        step = max(PROGRESS_STEP, embeddings.parallel_texts)  # an embedding server takes many at once
        for j in range(0, len(texts), step):
            vectors += embeddings.embed_passages(texts[j:j + step]).tolist()
            if sentences is not None:  # evidence at question time becomes a lookup
                sentences.add({cid: sentence_texts(text) for cid, text, _ in pending[j:j + step]})
            if progress:
                progress(report.chunks_added + len(vectors), total)
        store.add([cid for cid, _, _ in pending], vectors, texts, [meta for _, _, meta in pending])
        report.chunks_added += len(pending)
        pending.clear()

    if progress:
        progress(0, total)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for doc, chunks, ids, dh, old in plans:
        for chunk, cid in zip(chunks, ids):
            meta = chunk_metadata(doc, chunk, dh, len(chunks), embeddings.model_id, now)
            if cid in old:
                kept_ids.append(cid)
                kept_metas.append(meta)
            else:
                pending.append((cid, chunk.text, meta))
                if len(pending) >= max(EMBED_BATCH, embeddings.parallel_texts):
                    flush()
        stale += sorted(set(old) - set(ids))
    if pending:
        flush()
    # Updates and deletes come after every add: until then the old chunks still answer queries.
    store.update_metadata(kept_ids, kept_metas)
    store.delete(stale)
    if sentences is not None:
        sentences.forget(stale)
    report.chunks_unchanged += len(kept_ids)
    report.chunks_removed += len(stale)

    if prune:
        gone = [cid for chunks in by_doc.values() for cid, m in chunks.items()
                if m.doc_id not in unique and not os.path.exists(m.path)]
        store.delete(gone)
        if sentences is not None:
            sentences.forget(gone)
        report.chunks_removed += len(gone)

    if plans or (prune and report.chunks_removed):
        store.bump_generation()
    return report


def sentence_texts(text: str) -> list[str]:
    """The sentences of a chunk, as evidence selection scores them."""
    return [text[s:e] for s, e in split_sentences(text)]


def _record_stored_chunks(store: ChunkStore, sentences: PassageVectors) -> None:
    """A sentence cache from before it recorded chunks: record (and embed, where missing) the
    sentences of every stored chunk, once, so that removals know which sentences are shared."""
    if sentences.chunks_recorded() == 0 and store.count() > 0:
        ids, texts, _ = store.all_texts()
        sentences.add({cid: sentence_texts(text) for cid, text in zip(ids, texts)})


@dataclass
class IndexedDocument:
    """One ingested article, as ``chatbot list`` shows it; ``to_dict`` is its ``--json`` row."""

    doc_id: str
    title: str
    publisher: str | None
    published: str | None
    chunks: int
    source: str
    path: str
    format: str | None
    pages: int | None  # PDFs: the last page a chunk reaches
    ingested_at: str | None  # UTC, ISO 8601: the latest write of any of its chunks

    def to_dict(self) -> dict:
        return asdict(self)


def list_documents(store: ChunkStore) -> list[IndexedDocument]:
    """Every ingested article, by doc id."""
    out = []
    for doc_id, chunks in sorted(store.by_document().items()):
        metas = list(chunks.values())
        first = metas[0]
        pages = [m.last_page for m in metas if m.last_page]
        out.append(IndexedDocument(
            doc_id, first.title, first.publisher, first.published, len(metas), first.source, first.path,
            first.format, max(pages) if pages else None, max((m.ingested_at or "" for m in metas), default="") or None))
    return out


@dataclass
class Removed:
    """What removing an article did; ``to_dict`` is ``chatbot remove --json``."""

    doc_id: str
    chunks_removed: int
    path: str  # its file
    file_deleted: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def find_document(store: ChunkStore, doc_id_or_path: str | Path) -> tuple[str, dict[str, ChunkMeta]] | None:
    """The ingested document named by its doc id, or by its file's path (as given at ingest, or
    any path to the same file): ``(doc_id, {chunk_id: metadata})``, or None."""
    key = str(doc_id_or_path)
    try:
        resolved = str(Path(key).expanduser().resolve())
    except (OSError, RuntimeError):
        resolved = None
    for field, value in (("doc_id", key), ("source", key), ("path", resolved)):
        if value and (chunks := store.metadata_where(field, value)):
            doc_id = next(iter(chunks.values())).doc_id
            return doc_id, store.metadata_of([doc_id])
    return None


def remove(store: ChunkStore, doc_id_or_path: str | Path, sentences: PassageVectors | None = None) -> Removed | None:
    """Delete every chunk of one document (and, with ``sentences``, the vectors of its sentences
    that no other chunk holds), or return None when no ingested document matches. The file itself
    is left alone."""
    if sentences is not None:
        _record_stored_chunks(store, sentences)
    found = find_document(store, doc_id_or_path)
    if found is None:
        return None
    doc_id, chunks = found
    store.delete(sorted(chunks))
    if sentences is not None:
        sentences.forget(sorted(chunks))
    store.bump_generation()
    return Removed(doc_id, len(chunks), next(iter(chunks.values())).path)
