"""Hybrid retrieval: dense (Chroma) + BM25 over Japanese morphemes, fused into one ranking.

Fusion is a convex combination of min-max-normalized scores by default (measured better than
reciprocal rank fusion on JSQuAD, see docs/evaluation.md); RRF is one setting away.

Exposed as a LangChain ``BaseRetriever`` so LCEL chains compose with it; :meth:`search`
returns typed :class:`SearchResult` objects for the CLI, the web chat and the eval.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .config import Settings
from .embeddings import ChatbotEmbeddings
from .store import ChunkMeta, ChunkStore
from .text import language_of


def page_label(page: int | None, page_end: int | None = None) -> str:
    """``p. 3`` or ``pp. 3–4`` for a span of a PDF, else ``""`` (for citations and sources)."""
    if not page:
        return ""
    return f"pp. {page}–{page_end}" if page_end and page_end != page else f"p. {page}"


@dataclass
class SearchResult:
    """One retrieved passage; ``score`` is the fused score (higher is better). For a PDF, ``page``
    to ``page_end`` (``pages``) are the pages it is on and :meth:`page_at` the page of an offset."""

    rank: int
    doc_id: str
    title: str
    source: str
    chunk_id: str
    text: str
    score: float
    dense: float | None = None  # cosine similarity, if the dense search found it
    bm25: float | None = None  # BM25 score, if the keyword search found it
    start: int = 0
    end: int = 0
    meta: ChunkMeta = None  # type: ignore[assignment]  # the stored metadata of the passage's best chunk
    page: int | None = None  # PDFs: the page the passage starts on
    page_end: int | None = None  # PDFs: the last page, when the passage runs onto later pages
    page_starts: list[tuple[int, int]] = field(default_factory=list)  # PDFs: (page, document offset) of later pages

    def __post_init__(self) -> None:
        if self.meta is None:
            self.meta = ChunkMeta(self.doc_id, self.title, self.source)

    @property
    def pages(self) -> list[int]:
        """Every PDF page the passage is on (``[]`` for articles that are not PDFs)."""
        return list(range(self.page, (self.page_end or self.page) + 1)) if self.page else []

    @property
    def page_label(self) -> str:
        """``p. 3`` or ``pp. 3–4`` for a passage of a PDF, else ``""`` (for citations)."""
        return page_label(self.page, self.page_end)

    def page_of(self, quote: str) -> int | None:
        """The PDF page of ``quote`` (a sentence of this passage, e.g. a citation's), else the
        passage's first page; None for articles that are not PDFs."""
        at = self.text.find(quote) if quote else -1
        return self.page_at(at) if at >= 0 else self.page

    def page_at(self, offset: int) -> int | None:
        """The PDF page of character ``offset`` of this passage's ``text`` (e.g. a cited
        sentence's start), or None for articles that are not PDFs."""
        page = self.page
        for number, start in self.page_starts:
            if self.start + offset >= start:
                page = number
        return page

    @property
    def byline(self) -> str:
        """Publisher, author and date of the article, as far as its front matter gives them."""
        return self.meta.byline

    def to_dict(self) -> dict:
        d = asdict(self)
        for key in ("meta", "page_starts"):
            d.pop(key)
        d["pages"] = self.pages
        return d

    @classmethod
    def of_chunk(cls, chunk_id: str, text: str, meta: ChunkMeta, rank: int = 1, score: float = 0.0,
                 **scores) -> SearchResult:
        """A passage that is one stored chunk (``meta``: its stored metadata)."""
        return cls(rank=rank, doc_id=meta.doc_id, title=meta.title, source=meta.source, chunk_id=chunk_id, text=text,
                   score=score, start=meta.start, end=meta.end, meta=meta, page=meta.page, page_end=meta.page_end,
                   page_starts=list(meta.page_starts), **scores)


@dataclass
class Candidate:
    """A chunk proposed by one retriever, with that retriever's score."""

    chunk_id: str
    text: str
    meta: ChunkMeta
    score: float


class HybridRetriever(BaseRetriever):
    """Dense + BM25 retrieval with score fusion and near-duplicate merging."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: ChunkStore
    embeddings: ChatbotEmbeddings
    settings: Settings
    mode: str = "hybrid"  # "hybrid", "dense" or "bm25" (the last two for evaluation)
    k: int | None = None  # passages per LangChain query (default: settings.top_k)

    def search(self, query: str, k: int | None = None) -> list[SearchResult]:
        """The ``k`` best passages for ``query`` (default: ``settings.top_k``)."""
        k = k or self.settings.top_k
        n = max(self.settings.candidates, k)
        dense = self.dense_candidates(query, n) if self.mode in ("hybrid", "dense") else []
        bm25 = self.bm25_candidates(query, n) if self.mode in ("hybrid", "bm25") else []
        return fuse(dense, bm25, k, self.settings.fusion, self.settings.bm25_weight, self.settings.rrf_k)

    def in_other_language(self, text: str, language: str, k: int, at_least: float) -> list[SearchResult]:
        """The passages ``text`` (a question's translation) finds in another language than
        ``language``, when the best of them matches it (e5 cosine) at least as well as
        ``at_least``, the question's best match in its own language; else none."""
        other = [r for r in self.search(text, k) if language_of(r.text) != language]
        return other if max((r.dense or 0.0 for r in other), default=0.0) >= at_least else []

    def dense_candidates(self, query: str, n: int) -> list[Candidate]:
        """Nearest chunks by embedding; score = cosine similarity."""
        vector = self.embeddings.embed_queries([query])[0]
        return [Candidate(h.chunk_id, h.text, h.meta, 1.0 - h.distance) for h in self.store.query(vector, n)]

    def bm25_candidates(self, query: str, n: int) -> list[Candidate]:
        """Best chunks by BM25 over morphemes (the store's persistent keyword index)."""
        return [Candidate(h.chunk_id, h.text, h.meta, score) for h, score in self.store.keyword_query(query, n)]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        return [as_document(r) for r in self.search(query, self.k)]


def as_document(r: SearchResult) -> LCDocument:
    """A passage as a LangChain ``Document``: the chunk text, and in ``metadata`` the chunk's
    stored metadata with, always present (None when unknown), ``doc_id``, ``title``,
    ``publisher``, ``published``, ``source``, ``page`` (PDFs), and this passage's rank and scores."""
    return LCDocument(page_content=r.text, id=r.chunk_id,
                      metadata={**r.meta.to_chroma(), "doc_id": r.doc_id, "title": r.title,
                                "publisher": r.meta.publisher, "published": r.meta.published,
                                "source": r.source, "page": r.page, "page_end": r.page_end, "rank": r.rank,
                                "score": r.score, "dense": r.dense, "bm25": r.bm25, "chunk_id": r.chunk_id})


def fuse(dense: list[Candidate], bm25: list[Candidate], k: int, method: str = "convex",
         bm25_weight: float = 1.0, rrf_k: int = 60) -> list[SearchResult]:
    """Combine the two candidate lists into the ``k`` best passages.

    ``convex``: min-max-normalize each list's scores to [0, 1], then
    score = dense + ``bm25_weight`` * BM25 (a chunk missing from a list gets 0 there).
    ``rrf``: score = 1/(rrf_k + dense rank) + ``bm25_weight``/(rrf_k + BM25 rank).
    """
    if method not in FUSIONS:
        raise ValueError(f"unknown fusion '{method}'; choose one of {', '.join(FUSIONS)}")
    found: dict[str, dict] = {}
    for name, weight, cands in (("dense", 1.0, dense), ("bm25", bm25_weight, bm25)):
        if not cands:
            continue
        lo, hi = min(c.score for c in cands), max(c.score for c in cands)
        for rank, c in enumerate(cands, start=1):
            e = found.setdefault(c.chunk_id, {"text": c.text, "meta": c.meta, "score": 0.0})
            e[name] = c.score
            if method == "rrf":
                e["score"] += weight / (rrf_k + rank)
            else:
                e["score"] += weight * ((c.score - lo) / (hi - lo) if hi > lo else 1.0)
    ranked = sorted(found.items(), key=lambda kv: -kv[1]["score"])
    return _merge_neighbours(ranked, k)


FUSIONS = ("convex", "rrf")


def _merge_neighbours(ranked: list[tuple[str, dict]], k: int) -> list[SearchResult]:
    """Fold a chunk whose span overlaps a better-ranked chunk of the same document into it
    (sentence overlap makes neighbours share text), and drop a passage whose text repeats a
    better-ranked one (the same article ingested twice). Merged text stays an exact slice."""
    results: list[SearchResult] = []
    for cid, e in ranked:
        meta: ChunkMeta = e["meta"]
        text, start, end = e["text"], meta.start, meta.end
        twin = next((r for r in results if r.text == text or (
            r.doc_id == meta.doc_id and start < r.end and end > r.start)), None)
        if twin is not None:
            if twin.text != text:
                if start < twin.start:
                    twin.text, twin.start = text[: twin.start - start] + twin.text, start
                    if meta.page and twin.page:
                        twin.page_end = max(twin.page_end or twin.page, twin.page)
                        twin.page = min(twin.page, meta.page)
                if end > twin.end:
                    twin.text, twin.end = twin.text + text[len(text) - (end - twin.end):], end
                    if meta.last_page and twin.page:
                        twin.page_end = max(twin.page_end or twin.page, meta.last_page)
                if twin.page_end == twin.page:
                    twin.page_end = None
                if meta.page_starts:
                    twin.page_starts = sorted(set(twin.page_starts) | set(meta.page_starts), key=lambda p: p[1])
            continue
        if len(results) == k:
            break
        results.append(SearchResult.of_chunk(cid, text, meta, len(results) + 1, e["score"],
                                             dense=e.get("dense"), bm25=e.get("bm25")))
    return results
