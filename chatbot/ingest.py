"""Idempotent ingestion: files -> chunks -> embeddings -> store.

A chunk's id is derived from its document and its text, so re-ingesting a file embeds only
chunks whose text is new. Order of writes: add all new chunks (in batches), then update the
metadata of kept ones, then delete stale ones. A crash at any point leaves each affected
document inconsistent (chunks with mixed ``doc_hash`` or a wrong count), so the next run
re-plans it and repairs the store.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from .chunking import CHUNKER_VERSION, Chunk, chunk_text
from .config import Settings
from .documents import Document, Skipped, load_documents
from .embeddings import ChatbotEmbeddings
from .store import ChunkStore

EMBED_BATCH = 32  # chunks per store write; small enough that a crash loses little work
PROGRESS_STEP = 4  # chunks embedded between progress updates
Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


@dataclass
class IngestReport:
    """What an ingest run did; ``to_dict`` is the ``chatbot ingest --json`` output."""

    files: int = 0
    chunks_added: int = 0
    chunks_unchanged: int = 0
    chunks_removed: int = 0
    skipped: list[Skipped] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def chunk_id(doc_id: str, text: str, occurrence: int) -> str:
    """Stable id: same document + same text (+ which repeat of it) = same id."""
    digest = hashlib.sha256(f"{doc_id}\0{text}\0{occurrence}".encode("utf-8")).hexdigest()[:16]
    return f"{doc_id}#{digest}"


def _doc_hash(doc: Document, settings: Settings) -> str:
    """Changes when the file or the chunking settings change."""
    key = f"{doc.content_hash}|{CHUNKER_VERSION}|{settings.chunk_tokens}|{settings.chunk_overlap}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def chunk_metadata(doc: Document, chunk: Chunk, doc_hash: str, n_chunks: int, model_id: str) -> dict:
    """Everything stored with a chunk (Chroma accepts only scalar values)."""
    meta = {
        "doc_id": doc.doc_id, "title": doc.title, "source": doc.source, "path": doc.path,
        "chunk_index": chunk.index, "start": chunk.start, "end": chunk.end,
        "content_hash": chunk.content_hash, "doc_hash": doc_hash, "n_chunks": n_chunks,
        "embedding_model": model_id,
    }
    for key in ("publisher", "author", "supervisor", "published", "language", "url"):
        value = doc.metadata.get(key)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            meta[key] = str(value)
    return meta


def ingest(
    paths: list[str | Path],
    store: ChunkStore,
    embeddings: ChatbotEmbeddings,
    settings: Settings,
    prune: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the store in line with the files under ``paths``; see the module docstring."""
    docs, skipped = load_documents(paths, home=Path(settings.corpus_dir))
    report = IngestReport(files=len(docs), skipped=skipped)
    by_doc: dict[str, dict[str, dict]] = defaultdict(dict)
    for cid, meta in store.all_metadata().items():
        by_doc[meta.get("doc_id", "")][cid] = meta

    unique: dict[str, Document] = {}
    for doc in docs:
        unique.setdefault(doc.doc_id, doc)

    plans = []  # (doc, chunks, ids, doc_hash, old) for documents that changed
    for doc in unique.values():
        dh = _doc_hash(doc, settings)
        old = by_doc.get(doc.doc_id, {})
        if old and all(m.get("doc_hash") == dh and m.get("n_chunks") == len(old) for m in old.values()):
            report.chunks_unchanged += len(old)
            continue
        chunks = chunk_text(doc.doc_id, doc.text, settings.chunk_tokens, settings.chunk_overlap)
        seen: dict[str, int] = defaultdict(int)
        ids = []
        for c in chunks:
            ids.append(chunk_id(doc.doc_id, c.text, seen[c.text]))
            seen[c.text] += 1
        plans.append((doc, chunks, ids, dh, old))

    total = sum(sum(1 for i in ids if i not in old) for _, _, ids, _, old in plans)
    pending: list[tuple[str, str, dict]] = []  # chunks to embed, written in batches across documents
    kept_ids: list[str] = []
    kept_metas: list[dict] = []
    stale: list[str] = []

    def flush() -> None:
        texts = [text for _, text, _ in pending]
        vectors: list[list[float]] = []
        for j in range(0, len(texts), PROGRESS_STEP):
            vectors += embeddings.embed_passages(texts[j:j + PROGRESS_STEP]).tolist()
            if progress:
                progress(report.chunks_added + len(vectors), total)
        store.add([cid for cid, _, _ in pending], vectors, texts, [meta for _, _, meta in pending])
        report.chunks_added += len(pending)
        pending.clear()

    if progress:
        progress(0, total)
    for doc, chunks, ids, dh, old in plans:
        for chunk, cid in zip(chunks, ids):
            meta = chunk_metadata(doc, chunk, dh, len(chunks), embeddings.model_id)
            if cid in old:
                kept_ids.append(cid)
                kept_metas.append(meta)
            else:
                pending.append((cid, chunk.text, meta))
                if len(pending) >= EMBED_BATCH:
                    flush()
        stale += sorted(set(old) - set(ids))
    if pending:
        flush()
    # Updates and deletes come after every add: until then the old chunks still answer queries.
    store.update_metadata(kept_ids, kept_metas)
    store.delete(stale)
    report.chunks_unchanged += len(kept_ids)
    report.chunks_removed += len(stale)

    if prune:
        gone = [cid for chunks in by_doc.values() for cid, m in chunks.items()
                if m.get("doc_id") not in unique and not os.path.exists(m.get("path", ""))]
        store.delete(gone)
        report.chunks_removed += len(gone)

    if plans or (prune and report.chunks_removed):
        store.bump_generation()
    return report
