"""The chunk store: one Chroma collection holding chunk text, embeddings and metadata.

Embedded (``PersistentClient`` under the data dir) by default, or a Chroma server when
``CHATBOT_CHROMA_URL`` is set. The collection records which embedding model built it, so
a query with another model fails with an error that names the fix instead of returning noise.
Every chunk written or deleted here also goes to the keyword index (:mod:`chatbot.keyword_index`),
after Chroma, so the two indexes of the same chunks never need a rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from urllib.parse import urlparse

import chromadb
import httpx

from .config import Settings
from .errors import EmbeddingMismatchError, StoreUnavailableError
from .keyword_index import KeywordIndex, open_keyword_index

_PAGE = 2000  # rows per get/add call; keeps requests to a Chroma server small


@dataclass
class ChunkMeta:
    """Everything stored with a chunk. Chroma takes only scalars: :meth:`to_chroma` writes the
    stored form (unset optional fields left out) and :meth:`from_chroma` reads it back.

    PDF chunks carry ``page`` (the page the chunk starts on) and, when the chunk runs onto later
    pages, ``page_end`` and ``page_starts``: ``(page, document offset where it begins)`` of each
    later page, stored as ``"4:1203,5:2410"``.
    """

    doc_id: str
    title: str = ""
    source: str = ""  # the path as given at ingest, for display
    path: str = ""  # the absolute path, to find deleted files
    chunk_index: int = 0
    start: int = 0  # character offsets of the chunk in the document's normalized text
    end: int = 0
    content_hash: str = ""  # of the file
    doc_hash: str = ""  # of the file and the way it was read and chunked (see ingest)
    n_chunks: int = 0
    embedding_model: str = ""
    publisher: str | None = None
    author: str | None = None
    supervisor: str | None = None
    published: str | None = None
    language: str | None = None  # as the document's front matter or page says
    text_language: str | None = None  # "ja" or "en": the chunk's own text (text.language_of), set at ingest
    url: str | None = None
    format: str | None = None  # markdown, text, html, pdf
    encoding: str | None = None
    page: int | None = None
    page_end: int | None = None
    page_starts: list[tuple[int, int]] = field(default_factory=list)
    ingested_at: str | None = None  # UTC, ISO 8601

    def to_chroma(self) -> dict:
        """The stored form: scalars only, unset fields left out."""
        out: dict = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "page_starts":
                value = ",".join(f"{n}:{start}" for n, start in value)
            if value is not None and value != "" or f.name in _ALWAYS:
                out[f.name] = value
        return out

    @classmethod
    def from_chroma(cls, meta: dict) -> "ChunkMeta":
        """Read the stored form (unknown keys ignored, missing ones left at their defaults)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in (meta or {}).items() if k in known}
        values["page_starts"] = parse_page_starts(values.get("page_starts"))
        for key in ("page", "page_end"):
            if values.get(key) in (None, ""):
                values.pop(key, None)
            else:
                values[key] = int(values[key])
        return cls(**{"doc_id": "", **values})

    @property
    def last_page(self) -> int | None:
        """The last page the chunk reaches (PDFs), else None."""
        return self.page_end or self.page

    @property
    def byline(self) -> str:
        """Publisher, author and date of the article, as far as its front matter gives them."""
        return ", ".join(v for v in (self.publisher, self.author, self.published) if v)


_ALWAYS = {"doc_id", "title", "source", "path", "chunk_index", "start", "end", "content_hash", "doc_hash",
           "n_chunks", "embedding_model"}  # written even when empty, as ingest always did


def parse_page_starts(value) -> list[tuple[int, int]]:
    """``"4:1203,5:2410"`` -> ``[(4, 1203), (5, 2410)]``."""
    out = []
    for item in str(value or "").split(","):
        number, _, start = item.partition(":")
        if number and start:
            out.append((int(number), int(start)))
    return out


@dataclass
class Hit:
    """One chunk returned by a vector query."""

    chunk_id: str
    text: str
    meta: ChunkMeta
    distance: float


class ChunkStore:
    """Chunks of all ingested documents, with their embeddings."""

    def __init__(self, settings: Settings, embedding_model_id: str) -> None:
        self.settings = settings
        self.embedding_model_id = embedding_model_id
        self._client = self._connect()
        self._collection = None

    def _connect(self):
        url = self.settings.chroma_url
        try:
            if url:
                parsed = urlparse(url)
                return chromadb.HttpClient(
                    host=parsed.hostname or "127.0.0.1",
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=chromadb.Settings(anonymized_telemetry=False),
                )
            path = self.settings.chroma_path()
            path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(
                path=str(path), settings=chromadb.Settings(anonymized_telemetry=False)
            )
        except Exception as exc:  # chromadb raises plain exceptions for connection errors
            raise StoreUnavailableError(self._where(), exc) from exc

    def _where(self) -> str:
        return self.settings.chroma_url or str(self.settings.chroma_path())

    @cached_property
    def keyword(self) -> KeywordIndex:
        """BM25 over the same chunks (``CHATBOT_KEYWORD_INDEX``), opened, not rebuilt."""
        s = self.settings
        return open_keyword_index(s.keyword_index, s.data_dir / "keyword" / f"{s.keyword_index}-{s.collection}", self)

    @property
    def collection(self):
        """The Chroma collection, created on first use and checked against the embedding model."""
        if self._collection is None:
            try:
                col = self._client.get_or_create_collection(
                    self.settings.collection,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={"embedding_model": self.embedding_model_id},
                    embedding_function=None,
                )
            except Exception as exc:
                raise StoreUnavailableError(self._where(), exc) from exc
            built_with = (col.metadata or {}).get("embedding_model")
            if built_with and built_with != self.embedding_model_id and self._count(col) > 0:
                raise EmbeddingMismatchError(built_with, self.embedding_model_id)
            self._collection = col
        return self._collection

    def _call(self, fn, *args, **kwargs):
        """Run a Chroma call; connection failures become :class:`StoreUnavailableError`."""
        try:
            return fn(*args, **kwargs)
        except (EmbeddingMismatchError, StoreUnavailableError):
            raise
        except Exception as exc:
            if _is_connection_error(exc):
                self._collection = None  # reconnect next time
                raise StoreUnavailableError(self._where(), exc) from exc
            raise

    def _count(self, col) -> int:
        return self._call(col.count)

    def count(self) -> int:
        """Number of chunks in the store."""
        return self._count(self.collection)

    def all_metadata(self) -> dict[str, ChunkMeta]:
        """``chunk_id -> metadata`` for every chunk (paged)."""
        out: dict[str, ChunkMeta] = {}
        offset = 0
        while True:
            page = self._call(self.collection.get, include=["metadatas"], limit=_PAGE, offset=offset)
            out.update(zip(page["ids"], map(ChunkMeta.from_chroma, page["metadatas"])))
            if len(page["ids"]) < _PAGE:
                return out
            offset += _PAGE

    def by_document(self) -> dict[str, dict[str, ChunkMeta]]:
        """``doc_id -> {chunk_id: metadata}`` for every chunk."""
        out: dict[str, dict[str, ChunkMeta]] = {}
        for cid, meta in self.all_metadata().items():
            out.setdefault(meta.doc_id, {})[cid] = meta
        return out

    def metadata_of(self, doc_ids: list[str]) -> dict[str, ChunkMeta]:
        """``chunk_id -> metadata`` for every chunk of these documents."""
        out: dict[str, ChunkMeta] = {}
        for i in range(0, len(doc_ids), 100):
            part = doc_ids[i:i + 100]
            out.update(self._get_where({"doc_id": part[0]} if len(part) == 1 else {"doc_id": {"$in": part}}))
        return out

    def metadata_where(self, field: str, value: str) -> dict[str, ChunkMeta]:
        """``chunk_id -> metadata`` for the chunks whose ``field`` is ``value``."""
        return self._get_where({field: value})

    def _get_where(self, where: dict) -> dict[str, ChunkMeta]:
        out: dict[str, ChunkMeta] = {}
        while True:
            page = self._call(self.collection.get, where=where, include=["metadatas"], limit=_PAGE, offset=len(out))
            out.update((c, ChunkMeta.from_chroma(m)) for c, m in zip(page["ids"], page["metadatas"]))
            if len(page["ids"]) < _PAGE:
                return out

    def all_ids(self) -> list[str]:
        """Every chunk id (paged; for reconciling the keyword index)."""
        out: list[str] = []
        while True:
            page = self._call(self.collection.get, include=[], limit=_PAGE * 10, offset=len(out))
            out += page["ids"]
            if len(page["ids"]) < _PAGE * 10:
                return out

    def texts(self, ids: list[str]) -> dict[str, str]:
        """``chunk_id -> text`` for the chunks among ``ids`` that exist."""
        out: dict[str, str] = {}
        for i in range(0, len(ids), _PAGE):
            page = self._call(self.collection.get, ids=ids[i:i + _PAGE], include=["documents"])
            out.update(zip(page["ids"], page["documents"]))
        return out

    def all_texts(self) -> tuple[list[str], list[str], list[ChunkMeta]]:
        """Ids, texts and metadata of every chunk (for the keyword index)."""
        ids: list[str] = []
        texts: list[str] = []
        metas: list[ChunkMeta] = []
        offset = 0
        while True:
            page = self._call(self.collection.get, include=["documents", "metadatas"],
                              limit=_PAGE, offset=offset)
            ids += page["ids"]
            texts += page["documents"]
            metas += map(ChunkMeta.from_chroma, page["metadatas"])
            if len(page["ids"]) < _PAGE:
                return ids, texts, metas
            offset += _PAGE

    def add(self, ids: list[str], embeddings, texts: list[str], metas: list[ChunkMeta]) -> None:
        """Insert or overwrite chunks."""
        stored = [m.to_chroma() for m in metas]
        for i in range(0, len(ids), _PAGE):
            self._call(self.collection.upsert, ids=ids[i:i + _PAGE], embeddings=embeddings[i:i + _PAGE],
                       documents=texts[i:i + _PAGE], metadatas=stored[i:i + _PAGE])
            self.keyword.add(ids[i:i + _PAGE], texts[i:i + _PAGE])

    def holds_language(self, language: str) -> bool:
        """Whether any chunk's text is in ``language`` (``ChunkMeta.text_language``; chunks
        ingested before it was recorded have none and do not count)."""
        return bool(self._call(self.collection.get, where={"text_language": language}, limit=1, include=[])["ids"])

    def update_metadata(self, ids: list[str], metas: list[ChunkMeta]) -> None:
        """Replace the metadata of existing chunks (no re-embedding)."""
        # Chroma merges an update into what is stored and removes a key given as None: so a
        # field that is unset now (an author dropped from the front matter) does not linger.
        cleared = dict.fromkeys(f.name for f in fields(ChunkMeta))
        stored = [{**cleared, **m.to_chroma()} for m in metas]
        for i in range(0, len(ids), _PAGE):
            self._call(self.collection.update, ids=ids[i:i + _PAGE], metadatas=stored[i:i + _PAGE])

    def delete(self, ids: list[str]) -> None:
        """Remove chunks by id."""
        for i in range(0, len(ids), _PAGE):
            self._call(self.collection.delete, ids=ids[i:i + _PAGE])
            self.keyword.delete(ids[i:i + _PAGE])

    def query(self, embedding, n: int) -> list[Hit]:
        """The ``n`` chunks nearest to ``embedding`` (cosine distance)."""
        n = min(n, self.count())
        if n <= 0:
            return []
        res = self._call(self.collection.query, query_embeddings=[list(map(float, embedding))],
                         n_results=n, include=["documents", "metadatas", "distances"])
        return [Hit(i, t, ChunkMeta.from_chroma(m), d) for i, t, m, d in
                zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0])]

    def get(self, ids: list[str]) -> list[Hit]:
        """Chunks by id, in the order asked (ids not in the store are left out; distance 0)."""
        found: dict[str, Hit] = {}
        for i in range(0, len(ids), _PAGE):
            page = self._call(self.collection.get, ids=ids[i:i + _PAGE], include=["documents", "metadatas"])
            found.update((c, Hit(c, t, ChunkMeta.from_chroma(m), 0.0))
                         for c, t, m in zip(page["ids"], page["documents"], page["metadatas"]))
        return [found[c] for c in ids if c in found]

    def chunks_of(self, doc_id: str) -> list[Hit]:
        """Every chunk of one document, in text order."""
        page = self._call(self.collection.get, where={"doc_id": doc_id}, include=["documents", "metadatas"])
        hits = [Hit(c, t, ChunkMeta.from_chroma(m), 0.0) for c, t, m in zip(page["ids"], page["documents"], page["metadatas"])]
        return sorted(hits, key=lambda h: h.meta.start)

    def keyword_query(self, query: str, n: int) -> list[tuple[Hit, float]]:
        """The ``n`` best chunks for ``query`` by BM25 over morphemes, with their scores
        (``Hit.distance`` is unused: 0)."""
        ranked = self.keyword.search(query, n)
        if not ranked:
            return []
        return [(h, score) for h, (_, score) in zip(self.get([cid for cid, _ in ranked]), ranked)]

    def generation(self) -> str:
        """Changes whenever the collection content changes (used to refresh the keyword index)."""
        meta = self._call(lambda: self._client.get_collection(self.settings.collection).metadata) or {}
        return f"{meta.get('generation', 0)}:{self.count()}"

    def bump_generation(self) -> None:
        """Record that the content changed, so other processes refresh their keyword index."""
        meta = dict(self._call(lambda: self._client.get_collection(self.settings.collection).metadata) or {})
        previous = int(meta.get("generation", 0))
        meta["generation"] = previous + 1
        meta["embedding_model"] = self.embedding_model_id
        self._call(self.collection.modify, metadata=meta)
        self.keyword.bumped(previous)

    def reset(self) -> None:
        """Delete the collection (used by ``chatbot ingest --rebuild``)."""
        try:
            self._call(self._client.delete_collection, self.settings.collection)
        except StoreUnavailableError:
            raise
        except Exception:
            pass  # nothing to delete
        self._collection = None
        self.keyword.cleared()


# What a Chroma server that is down, unreachable or cut off mid-request raises: the HTTP client's
# transport errors (connect, timeouts, a dropped connection; chromadb's HttpClient uses httpx) and
# the OS's connection errors. chromadb re-raises some of them as a plain ValueError at client
# start-up, with the original as its context, so the whole chain is searched. Errors the server
# answers with (chromadb.errors.ChromaError: bad argument, missing collection ...) are not here.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (httpx.TransportError, ConnectionError)


def _is_connection_error(exc: BaseException) -> bool:
    return any(isinstance(e, CONNECTION_ERRORS) for e in _chain(exc))


def _chain(exc: BaseException):
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__
