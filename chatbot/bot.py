"""``Chatbot``: the public API that the CLI, the web chat and the eval all use."""

from __future__ import annotations

import os
import threading
from functools import cached_property
from pathlib import Path
from typing import Iterator

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable

from .answer import Answer, StreamEvent, final_answer
from .chain import AnswerChain
from .config import Settings
from .embeddings import ChatbotEmbeddings, PassageVectors, get_embeddings
from .errors import DocumentNotFoundError, EmptyIndexError, InvalidQuestionError, QuestionTooLongError
from .history import History
from .ingest import IndexedDocument, IngestReport, Progress, Removed, ingest, list_documents, remove
from .llm import aux_model, get_chat_model
from .retrieval import HybridRetriever, SearchResult
from .rules import MAX_QUERY_CHARS, MAX_QUESTION_CHARS
from .store import ChunkStore
from .summaries import Summaries


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
        self._write_lock = threading.Lock()  # one ingest or removal at a time (watcher, uploads, API)

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
    def summaries(self) -> Summaries:
        """Each article's most central sentences, chosen at ingest (for summary requests)."""
        return Summaries(self.store, self.sentence_vectors, self.settings.data_dir / "summaries.sqlite")

    @cached_property
    def chain(self) -> AnswerChain:
        return AnswerChain(self.retriever, self.chat_model, self.embeddings, self.settings, self.sentence_vectors,
                           summaries=self.summaries, aux=aux_model(self.chat_model))

    def as_retriever(self, k: int | None = None) -> HybridRetriever:
        """A LangChain ``BaseRetriever`` over the articles returning ``k`` passages a query
        (default: ``top_k``); it shares this bot's store and keyword index."""
        return self.retriever.model_copy(update={"k": k})

    def as_runnable(self) -> Runnable:
        """The answer chain as a LangChain ``Runnable`` (``invoke``, ``stream``, ``batch``); see
        :mod:`chatbot.runnable` for its input and output."""
        from .runnable import answer_runnable

        return answer_runnable(self)

    def ask(self, question: str, history: History | None = None, top_k: int | None = None) -> Answer:
        """Answer ``question`` from the articles, with checked citations (or a refusal)."""
        return final_answer(self.stream(question, history, top_k))

    def stream(self, question: str, history: History | None = None,
               top_k: int | None = None) -> Iterator[StreamEvent]:
        """Yield :class:`EvidenceFound` (the evidence, before the model reads it), then the answer's
        text deltas as they are written, then the checked :class:`Answer`.

        ``history`` is the conversation so far, as chat messages
        (``[{"role": "user", "content": ...}, {"role": "assistant", ...}]``) or ``(user, assistant)`` pairs.
        The final answer may differ from the streamed text: unsupported sentences are removed and
        citations renumbered. ``top_k`` overrides how many passages are retrieved.
        """
        question = check_question(question)
        if len(question) > MAX_QUESTION_CHARS:
            raise QuestionTooLongError(
                f"The question is too long ({len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}). "
                "Ask about one thing at a time.")
        if self.store.count() == 0:
            raise EmptyIndexError()
        yield from self.chain.stream(question, history, top_k)

    def ingest(self, *paths: str | Path, prune: bool = False, rebuild: bool = False,
               progress: Progress | None = None, root: str | Path | None = None) -> IngestReport:
        """Ingest files or folders (default: the corpus dir); unchanged files cost nothing.

        A file or folder below ``root`` (default: the corpus dir) gets the doc id it has when the whole
        of ``root`` is ingested (``corpus/sub/a.md``).
        """
        with self._write_lock:
            if rebuild:
                self.store.reset()
                self.sentence_vectors.clear()
            report = ingest(list(paths) or [self.settings.corpus_dir], self.store, self.embeddings, self.settings,
                            prune=prune, progress=progress, sentences=self.sentence_vectors, home=root)
            for doc in report.documents:
                if doc["status"] != "unchanged" or not self.summaries.has(doc["doc_id"]):
                    self.summaries.update(doc["doc_id"])
        return report

    def search(self, query: str, k: int | None = None) -> list[SearchResult]:
        """Hybrid search over the ingested chunks."""
        query = check_question(query)
        if self.store.count() == 0:
            raise EmptyIndexError()
        return self.retriever.search(query[:MAX_QUERY_CHARS], k)

    def documents(self) -> list[IndexedDocument]:
        """Every ingested article (doc id, title, publisher, date, chunks, file, format, pages, when)."""
        return list_documents(self.store)

    def remove(self, doc_id: str | Path, delete_file: bool = False) -> Removed:
        """Remove one article's chunks from the index, by doc id or by its file's path.

        The file stays (so the next ingest of its folder adds it again) unless ``delete_file``.
        Raises :class:`DocumentNotFoundError` when no ingested article matches.
        """
        with self._write_lock:
            removed = remove(self.store, doc_id, self.sentence_vectors)
            if removed is None:
                raise DocumentNotFoundError(str(doc_id))
            self.summaries.remove(removed.doc_id)
        path = removed.path
        if delete_file and path and os.path.isfile(path) and not os.path.islink(path):
            os.unlink(path)
            removed.file_deleted = True
        return removed


def check_question(text: str) -> str:
    """Strip control characters and reject an empty question."""
    if not isinstance(text, str):
        raise InvalidQuestionError("The question must be text.")
    cleaned = "".join(ch for ch in text if ch.isprintable() or ch in "\n\t").strip()
    if not cleaned:
        raise InvalidQuestionError("The question is empty. Type a question about the articles.")
    return cleaned
