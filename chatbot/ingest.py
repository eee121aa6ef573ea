"""Idempotent ingestion: files -> chunks -> embeddings -> store.

A chunk's id is derived from its document and its text, so re-ingesting a file embeds only
chunks whose text is new. Order of writes for a changed document: add new chunks, update
kept ones, then delete stale ones. A crash at any point leaves the document marked as
inconsistent (chunks with mixed ``doc_hash`` or a wrong count), and the next run repairs it.
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

EMBED_BATCH = 16
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
    docs, skipped = load_documents(paths)
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
    done = 0
    if progress:
        progress(0, total)
    for doc, chunks, ids, dh, old in plans:
        metas = [chunk_metadata(doc, c, dh, len(chunks), embeddings.model_id) for c in chunks]
        new = [k for k, cid in enumerate(ids) if cid not in old]
        for b in range(0, len(new), EMBED_BATCH):
            batch = new[b:b + EMBED_BATCH]
            vectors = embeddings.embed_passages([chunks[k].text for k in batch])
            store.add([ids[k] for k in batch], vectors.tolist(),
                      [chunks[k].text for k in batch], [metas[k] for k in batch])
            done += len(batch)
            if progress:
                progress(done, total)
        kept = [k for k, cid in enumerate(ids) if cid in old]
        if kept:
            store.update_metadata([ids[k] for k in kept], [metas[k] for k in kept])
        stale = sorted(set(old) - set(ids))
        store.delete(stale)
        report.chunks_added += len(new)
        report.chunks_unchanged += len(kept)
        report.chunks_removed += len(stale)

    if prune:
        gone = [cid for chunks in by_doc.values() for cid, m in chunks.items()
                if m.get("doc_id") not in unique and not os.path.exists(m.get("path", ""))]
        store.delete(gone)
        report.chunks_removed += len(gone)

    if plans or (prune and report.chunks_removed):
        store.bump_generation()
    return report
