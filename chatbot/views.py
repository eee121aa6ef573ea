"""What other tools see of an answer, a search result or an article: JSON-ready records and a
plain-text "Sources" list, shared by the OpenAI-compatible API, the MCP server and the LangChain
runnable, so every entry point shows the same citations the same way.

Built only from the public fields of :class:`~chatbot.Answer`, :class:`~chatbot.SearchResult` and
the rows of :meth:`Chatbot.documents`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .quotes import QUOTE_MARKS
from .store import ChunkMeta

SOURCES_HEADER = {"ja": "出典:", "en": "Sources:"}


@dataclass
class CitationView:
    """One cited article sentence. ``quote`` is the sentence verbatim, and
    ``passage[start:end] == quote``; ``page`` is the PDF page of the sentence (else null)."""

    n: int
    title: str
    publisher: str | None
    published: str | None
    doc_id: str
    source: str
    url: str | None
    page: int | None
    quote: str
    passage: str
    start: int | None
    end: int | None
    chunk_id: str
    translation: str | None = None  # the quote's checked translation, when the answer shows it translated

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class AnswerView:
    """A checked answer: ``answer`` carries ``[n]`` markers that index ``citations``. A refusal is
    an answer too (``refused`` true, ``refusal_reason`` says why, no citations)."""

    answer: str
    refused: bool
    refusal_reason: str | None
    language: str
    citations: list[CitationView]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SearchView:
    """One retrieved passage (``score`` is the fused score, higher is better)."""

    rank: int
    doc_id: str
    title: str
    publisher: str | None
    published: str | None
    source: str
    url: str | None
    page: int | None
    chunk_id: str
    text: str
    score: float


@dataclass
class ArticleView:
    """One ingested article."""

    doc_id: str
    title: str
    publisher: str | None
    published: str | None
    source: str
    chunks: int
    pages: int | None


def citation_views(answer) -> list[CitationView]:
    """The answer's citations with the byline of the article each one comes from."""
    results = {r.chunk_id: r for r in answer.sources}
    translations = {q.n: q.translation for q in getattr(answer, "quotes", [])}
    views = []
    for c in answer.citations:
        result = results.get(c.chunk_id)
        meta = result.meta if result is not None else ChunkMeta(c.doc_id)
        page = getattr(c, "page", None) or (result.page_of(c.quote) if result is not None else None)
        views.append(CitationView(
            n=c.n, title=c.title, publisher=meta.publisher, published=meta.published,
            doc_id=c.doc_id, source=c.source, url=meta.url, page=page, quote=c.quote,
            passage=c.text, start=c.start, end=c.end, chunk_id=c.chunk_id, translation=translations.get(c.n)))
    return views


def answer_view(answer) -> AnswerView:
    return AnswerView(answer=answer.text, refused=answer.refused, refusal_reason=answer.refusal_reason,
                      language=answer.language, citations=citation_views(answer))


def search_view(result) -> SearchView:
    meta = result.meta
    return SearchView(rank=result.rank, doc_id=result.doc_id, title=result.title,
                      publisher=meta.publisher, published=meta.published,
                      source=result.source, url=meta.url, page=result.page,
                      chunk_id=result.chunk_id, text=result.text, score=round(float(result.score), 4))


def article_view(row) -> ArticleView:
    return ArticleView(doc_id=row.doc_id, title=row.title, publisher=row.publisher, published=row.published,
                       source=row.source, chunks=row.chunks, pages=row.pages)


def sources_text(view: AnswerView) -> str:
    """The citations as a short plain-text list (also a Markdown list), e.g.::

        Sources:
        - [1] OpenAI signs $38B deal with AWS — Nikkei, 2025-11-03, p. 2: “The seven-year deal …”
    """
    if not view.citations:
        return ""
    language = view.language if view.language in SOURCES_HEADER else "en"
    open_mark, close_mark = QUOTE_MARKS[language]
    lines = [SOURCES_HEADER[language]]
    for c in view.citations:
        byline = ", ".join(str(x) for x in (c.publisher, c.published, c.page and f"p. {c.page}") if x)
        lines.append(f"- [{c.n}] {c.title}{' — ' + byline if byline else ''}: {open_mark}{c.quote}{close_mark}")
    return "\n".join(lines)


def with_sources(view: AnswerView) -> str:
    """The answer text followed by its Sources list (what a plain chat client shows)."""
    sources = sources_text(view)
    return f"{view.answer}\n\n{sources}" if sources else view.answer


def without_sources(text: str) -> str:
    """An earlier reply as sent back by a chat client, without the Sources list we appended."""
    for header in SOURCES_HEADER.values():
        head, sep, _ = text.rpartition(f"\n\n{header}\n- [")
        if sep:
            return head
    return text
