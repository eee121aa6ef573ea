"""Hybrid retrieval: dense (Chroma) + BM25 over Japanese morphemes, fused into one ranking.

Fusion is a convex combination of min-max-normalized scores by default (measured better than
reciprocal rank fusion on JSQuAD, see README); RRF is one setting away.

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
from .store import ChunkStore


@dataclass
class SearchResult:
    """One retrieved passage; ``score`` is the fused score (higher is better)."""

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
    metadata: dict = field(default_factory=dict)
    page: int | None = None  # PDFs: the page the passage starts on
    page_end: int | None = None  # PDFs: the last page, when the passage runs onto later pages

    @property
    def page_label(self) -> str:
        """``p. 3`` or ``pp. 3–4`` for a passage of a PDF, else ``""`` (for citations)."""
        if not self.page:
            return ""
        return f"pp. {self.page}–{self.page_end}" if self.page_end and self.page_end != self.page else f"p. {self.page}"

    def page_of(self, quote: str) -> int | None:
        """The PDF page of ``quote`` (a sentence of this passage, e.g. a citation's), else the
        passage's first page; None for articles that are not PDFs."""
        at = self.text.find(quote) if quote else -1
        return self.page_at(at) if at >= 0 else self.page

    def page_at(self, offset: int) -> int | None:
        """The PDF page of character ``offset`` of this passage's ``text`` (e.g. a cited
        sentence's start), or None for articles that are not PDFs."""
        page = self.page
        for item in str(self.metadata.get("page_starts") or "").split(","):
            number, _, start = item.partition(":")
            if number and start and self.start + offset >= int(start):
                page = int(number)
        return page

    @property
    def byline(self) -> str:
        """Publisher, author and date of the article, as far as its front matter gives them."""
        return ", ".join(str(self.metadata[k]) for k in ("publisher", "author", "published") if self.metadata.get(k))

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("metadata")
        return d


@dataclass
class Candidate:
    """A chunk proposed by one retriever, with that retriever's score."""

    chunk_id: str
    text: str
    metadata: dict
    score: float


class HybridRetriever(BaseRetriever):
    """Dense + BM25 retrieval with score fusion and near-duplicate merging."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: ChunkStore
    embeddings: ChatbotEmbeddings
    settings: Settings
    mode: str = "hybrid"  # "hybrid", "dense" or "bm25" (the last two for evaluation)

    def search(self, query: str, k: int | None = None) -> list[SearchResult]:
        """The ``k`` best passages for ``query`` (default: ``settings.top_k``)."""
        k = k or self.settings.top_k
        n = max(self.settings.candidates, k)
        dense = self.dense_candidates(query, n) if self.mode in ("hybrid", "dense") else []
        bm25 = self.bm25_candidates(query, n) if self.mode in ("hybrid", "bm25") else []
        return fuse(dense, bm25, k, self.settings.fusion, self.settings.bm25_weight, self.settings.rrf_k)

    def dense_candidates(self, query: str, n: int) -> list[Candidate]:
        """Nearest chunks by embedding; score = cosine similarity."""
        vector = self.embeddings.embed_queries([query])[0]
        return [Candidate(h.chunk_id, h.text, h.metadata, 1.0 - h.distance) for h in self.store.query(vector, n)]

    def bm25_candidates(self, query: str, n: int) -> list[Candidate]:
        """Best chunks by BM25 over morphemes (the store's persistent keyword index)."""
        return [Candidate(h.chunk_id, h.text, h.metadata, score) for h, score in self.store.keyword_query(query, n)]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        return [
            LCDocument(page_content=r.text, id=r.chunk_id,
                       metadata={**r.metadata, "rank": r.rank, "score": r.score, "dense": r.dense,
                                 "bm25": r.bm25, "chunk_id": r.chunk_id})
            for r in self.search(query)
        ]


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
            e = found.setdefault(c.chunk_id, {"text": c.text, "meta": c.metadata, "score": 0.0})
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
        meta, text = e["meta"], e["text"]
        start, end = int(meta.get("start", 0)), int(meta.get("end", 0))
        twin = next((r for r in results if r.text == text or (
            r.doc_id == meta.get("doc_id") and start < r.end and end > r.start)), None)
        if twin is not None:
            if twin.text != text:
                if start < twin.start:
                    twin.text, twin.start = text[: twin.start - start] + twin.text, start
                    if meta.get("page") and twin.page:
                        twin.page_end = max(twin.page_end or twin.page, twin.page)
                        twin.page = min(twin.page, int(meta["page"]))
                if end > twin.end:
                    twin.text, twin.end = twin.text + text[len(text) - (end - twin.end):], end
                    last = meta.get("page_end") or meta.get("page")
                    if last and twin.page:
                        twin.page_end = max(twin.page_end or twin.page, int(last))
                if twin.page_end == twin.page:
                    twin.page_end = None
                if meta.get("page_starts"):
                    both = f"{twin.metadata.get('page_starts') or ''},{meta['page_starts']}"
                    starts = sorted({x for x in both.split(",") if x}, key=lambda x: int(x.split(":")[1]))
                    # a new dict: the stored metadata is shared with the BM25 snapshot
                    twin.metadata = {**twin.metadata, "page_starts": ",".join(starts)}
            continue
        if len(results) == k:
            break
        results.append(SearchResult(
            rank=len(results) + 1, doc_id=meta.get("doc_id", ""), title=meta.get("title", ""),
            source=meta.get("source", ""), chunk_id=cid, text=text, score=e["score"],
            dense=e.get("dense"), bm25=e.get("bm25"), start=start, end=end, metadata=meta,
            page=_int_or_none(meta.get("page")), page_end=_int_or_none(meta.get("page_end"))))
    return results


def _int_or_none(value) -> int | None:
    return int(value) if value not in (None, "") else None
