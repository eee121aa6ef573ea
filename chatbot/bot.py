"""``Chatbot``: the public API that the CLI, the web chat and the eval all use."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Iterator

from langchain_core.language_models import BaseChatModel

from .chain import Answer, AnswerChain, History, final_answer
from .config import Settings
from .embeddings import ChatbotEmbeddings, PassageVectors, get_embeddings
from .errors import DocumentNotFoundError, EmptyIndexError, InvalidQuestionError
from .ingest import IngestReport, Progress, ingest, remove
from .llm import get_chat_model
from .retrieval import HybridRetriever, SearchResult
from .store import ChunkStore

MAX_QUERY_CHARS = 2000  # longer search queries are cut; the embedder sees 512 tokens anyway
MAX_QUESTION_CHARS = 2000  # longer questions are rejected with a message (they would crowd out the sources)


class Chatbot:
    """Question answering over the ingested articles.

    >>> bot = Chatbot()              # settings from CHATBOT_* env vars / defaults
    >>> bot.ingest("corpus")
    >>> bot.search("OpenAIとAWSの契約額は?")[0].title
    >>> answer = bot.ask("OpenAIとAWSの契約額は?")
    >>> answer.text, answer.refused, answer.citations
    """

    def __init__(self, settings: Settings | None = None, embeddings: ChatbotEmbeddings | None = None,
                 chat_model: BaseChatModel | None = None) -> None:
        self.settings = settings or Settings()
        self._embeddings = embeddings
        self._chat_model = chat_model

    @cached_property
    def embeddings(self) -> ChatbotEmbeddings:
        return self._embeddings or get_embeddings(self.settings)

    @cached_property
    def store(self) -> ChunkStore:
        return ChunkStore(self.settings, self.embeddings.model_id)

    @cached_property
    def retriever(self) -> HybridRetriever:
        return HybridRetriever(store=self.store, embeddings=self.embeddings, settings=self.settings)

    @cached_property
    def chat_model(self) -> BaseChatModel:
        return self._chat_model or get_chat_model(self.settings)

    @cached_property
    def sentence_vectors(self) -> PassageVectors:
        """Evidence-sentence vectors, embedded at ingest and stored next to the index."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return PassageVectors(self.embeddings, self.settings.data_dir / "sentence_vectors.sqlite")

    @cached_property
    def chain(self) -> AnswerChain:
        return AnswerChain(self.retriever, self.chat_model, self.embeddings, self.settings, self.sentence_vectors)

    def ask(self, question: str, history: History | None = None, top_k: int | None = None) -> Answer:
        """Answer ``question`` from the articles, with checked citations (or a refusal)."""
        return final_answer(self.stream(question, history, top_k))

    def stream(self, question: str, history: History | None = None,
               top_k: int | None = None) -> Iterator[str | Answer]:
        """Yield the answer's text deltas as the model writes them, then the checked :class:`Answer`.

        ``history`` is the conversation so far, as chat messages
        (``[{"role": "user", "content": ...}, {"role": "assistant", ...}]``) or ``(user, assistant)`` pairs.
        The final answer may differ from the streamed text: unsupported sentences are removed and
        citations renumbered. ``top_k`` overrides how many passages are retrieved.
        """
        question = check_question(question)
        if len(question) > MAX_QUESTION_CHARS:
            raise InvalidQuestionError(
                f"The question is too long ({len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}). "
                "Ask about one thing at a time.")
        if self.store.count() == 0:
            raise EmptyIndexError()
        yield from self.chain.stream(question, history, top_k)

    def ingest(self, *paths: str | Path, prune: bool = False, rebuild: bool = False,
               progress: Progress | None = None) -> IngestReport:
        """Ingest files or folders (default: the corpus dir); unchanged files cost nothing."""
        if rebuild:
            self.store.reset()
        # Every new chunk's sentences are embedded too, so that choosing evidence at question time is a lookup.
        return ingest(list(paths) or [self.settings.corpus_dir], self.store, self.embeddings,
                      self.settings, prune=prune, progress=progress, sentence_vectors=self.sentence_vectors)

    def search(self, query: str, k: int | None = None) -> list[SearchResult]:
        """Hybrid search over the ingested chunks."""
        query = check_question(query)
        if self.store.count() == 0:
            raise EmptyIndexError()
        return self.retriever.search(query[:MAX_QUERY_CHARS], k)

    def documents(self) -> list[dict]:
        """One row per ingested document: doc_id, title, publisher, published, chunks, source,
        path, format, pages (PDFs: the last page a chunk reaches) and ingested_at (UTC, ISO 8601)."""
        rows: dict[str, dict] = {}
        for meta in self.store.all_metadata().values():
            row = rows.setdefault(meta["doc_id"], {
                "doc_id": meta["doc_id"], "title": meta.get("title", ""),
                "publisher": meta.get("publisher"), "published": meta.get("published"), "chunks": 0,
                "source": meta.get("source", ""), "path": meta.get("path", ""), "format": meta.get("format"),
                "pages": None, "ingested_at": meta.get("ingested_at")})
            row["chunks"] += 1
            page = meta.get("page_end") or meta.get("page")
            if page:
                row["pages"] = max(row["pages"] or 0, int(page))
            if (meta.get("ingested_at") or "") > (row["ingested_at"] or ""):
                row["ingested_at"] = meta["ingested_at"]
        return sorted(rows.values(), key=lambda r: r["doc_id"])

    def remove(self, doc_id: str | Path, delete_file: bool = False) -> dict:
        """Remove one article's chunks from the index, by doc id or by its file's path.

        The file stays (so the next ingest of its folder adds it again) unless ``delete_file``.
        Returns ``{"doc_id", "chunks_removed", "path", "file_deleted"}``; raises
        :class:`DocumentNotFoundError` when no ingested article matches.
        """
        removed = remove(self.store, doc_id)
        if removed is None:
            raise DocumentNotFoundError(str(doc_id))
        found_id, n, path = removed
        deleted = False
        if delete_file and path and os.path.isfile(path) and not os.path.islink(path):
            os.unlink(path)
            deleted = True
        return {"doc_id": found_id, "chunks_removed": n, "path": path, "file_deleted": deleted}


def check_question(text: str) -> str:
    """Strip control characters and reject an empty question."""
    if not isinstance(text, str):
        raise InvalidQuestionError("The question must be text.")
    cleaned = "".join(ch for ch in text if ch.isprintable() or ch in "\n\t").strip()
    if not cleaned:
        raise InvalidQuestionError("The question is empty. Type a question about the articles.")
    return cleaned
