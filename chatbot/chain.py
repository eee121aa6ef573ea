"""The answer chain: condense → retrieve → select sources → generate → check citations → refuse.

Built from LangChain runnables: :attr:`AnswerChain.prepare` is an LCEL pipeline that turns
``{"question", "history"}`` into the standalone query, the retrieved passages, the numbered
sources and the prompt messages; the chat model then streams the answer, and
:meth:`AnswerChain.stream` checks it in code (:mod:`chatbot.citations`). Refusal is decided
here, never left to the model alone:

- no retrieved passage is relevant enough (dense cosine below ``min_relevance``);
- the model's answer says the sources do not hold the answer;
- no sentence of the answer survives the citation check (every claim unsupported, or stating
  a number or name that no cited source contains).
"""

from __future__ import annotations

import re
import time
from functools import lru_cache
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator, Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from .chunking import count_tokens
from .citations import MARKER, Citation, Passage, bigrams, check_answer
from .config import Settings
from .context import Source, select_sources
from .embeddings import ChatbotEmbeddings, PassageVectors
from .prompts import PromptSet, detect_language, prompts_for
from .retrieval import HybridRetriever, SearchResult

History = Sequence[Any]  # [{"role": "user"|"assistant", "content": str}, ...] or [(user, assistant), ...]

NO_RELEVANT_SOURCES = "no_relevant_sources"
MODEL_REFUSED = "model_refused"
UNSUPPORTED = "unsupported"


@dataclass
class Answer:
    """A checked answer. ``text`` carries [n] markers that index ``citations``."""

    question: str
    text: str
    refused: bool
    citations: list[Citation]
    sources: list[SearchResult]  # everything retrieved, best first
    language: str
    query: str  # the standalone question used for retrieval (differs from ``question`` after condensing)
    model: str
    timings: dict[str, float] = field(default_factory=dict)
    refusal_reason: str | None = None  # no_relevant_sources | model_refused | unsupported
    removed: list[str] = field(default_factory=list)  # answer sentences dropped as unsupported
    raw: str = ""  # the model's reply before checking

    def to_dict(self) -> dict:
        """JSON-ready form (the CLI's ``--json`` and the eval results)."""
        return {
            "question": self.question, "answer": self.text, "refused": self.refused,
            "refusal_reason": self.refusal_reason, "language": self.language, "query": self.query,
            "citations": [asdict(c) for c in self.citations],
            "sources": [s.to_dict() for s in self.sources],
            "removed": self.removed, "raw": self.raw, "timings": self.timings, "model": self.model,
        }


def normalize_history(history: History | None) -> list[tuple[str, str]]:
    """``(role, text)`` pairs from chat messages or ``(user, assistant)`` tuples."""
    turns: list[tuple[str, str]] = []
    for item in history or []:
        if isinstance(item, dict):
            turns.append((item.get("role", "user"), message_text(item.get("content"))))
        else:
            user, assistant = item
            turns += [("user", user or ""), ("assistant", assistant or "")]
    return [(role, text) for role, text in turns if text]


def message_text(content: Any) -> str:
    """Message content as text (chat UIs may send a list of parts such as ``{"type": "text", ...}``)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(message_text(p.get("text", "") if isinstance(p, dict) else p) for p in content)
    return str(content or "")


class AnswerChain:
    """Answers one question (with optional history) from the retriever's passages."""

    def __init__(self, retriever: HybridRetriever, model: BaseChatModel, embeddings: ChatbotEmbeddings,
                 settings: Settings) -> None:
        self.retriever = retriever
        self.model = model
        self.settings = settings
        self.vectors = PassageVectors(embeddings)
        self.embeddings = embeddings
        self.prepare = (
            RunnablePassthrough.assign(prompts=RunnableLambda(lambda x: prompts_for(detect_language(x["question"]))))
            | RunnablePassthrough.assign(query=RunnableLambda(self._condense))
            | RunnablePassthrough.assign(results=RunnableLambda(self._retrieve))
            | RunnablePassthrough.assign(sources=RunnableLambda(self._select))
            | RunnablePassthrough.assign(messages=RunnableLambda(self._messages))
        )

    # -- the LCEL steps -------------------------------------------------------------------------

    def _condense(self, x: dict) -> str:
        turns = normalize_history(x.get("history"))
        if not any(role == "user" for role, _ in turns):
            return x["question"]
        recent = turns[-4:]  # the last two exchanges are enough to resolve "それ" / "it"
        lines = [f"{'Q' if role == 'user' else 'A'}: {MARKER.sub('', text)[:300]}" for role, text in recent]
        prompts: PromptSet = x["prompts"]
        # The rewrite is one line; stopping at the newline keeps a chatty model short.
        chain = prompts.condense_prompt | self.model.bind(stop=["\n"]) | StrOutputParser()
        rewritten = chain.invoke({"history": "\n".join(lines), "question": x["question"]})
        rewritten = rewritten.strip().splitlines()[0].strip(" 「」\"'") if rewritten.strip() else ""
        rewritten = re.sub(r"^(【?書き換えた質問】?|REWRITTEN QUESTION:)\s*", "", rewritten)
        if (not rewritten or len(rewritten) > 300 or prompts.is_refusal(rewritten)
                or bigrams(rewritten) <= bigrams(x["question"])):
            # The rewrite failed or only echoed the question: search on the previous question
            # plus this one instead.
            last_user = next(text for role, text in reversed(turns) if role == "user")
            return f"{last_user} {x['question']}"
        return rewritten

    def _retrieve(self, x: dict) -> list[SearchResult]:
        return self.retriever.search(x["query"], x.get("top_k") or self.settings.top_k)

    def _select(self, x: dict) -> list[Source]:
        results = x["results"]
        if not results or _relevance(results) < self.settings.min_relevance:
            return []
        query_vector = self.embeddings.embed_queries([x["query"]])[0]
        return select_sources(x["query"], results, self._source_budget(x["query"]), query_vector, self.vectors)

    def _source_budget(self, question: str) -> int:
        """Tokens left for sources: the setting, capped by what fits in the model's context."""
        fixed = 300 + count_tokens(question) + self.settings.llm_max_tokens  # system prompt and template
        return max(64, min(self.settings.context_tokens, self.settings.llm_context - fixed))

    def _messages(self, x: dict):
        if not x["sources"]:
            return []
        prompts: PromptSet = x["prompts"]
        sources = "\n\n".join(prompts.format_source(s.n, s.result.title, s.excerpt) for s in x["sources"])
        return prompts.answer_prompt.format_messages(sources=sources, question=x["query"])

    # -- running it -----------------------------------------------------------------------------

    def stream(self, question: str, history: History | None = None,
               top_k: int | None = None) -> Iterator[str | Answer]:
        """Yield the model's text deltas as they come, then the checked :class:`Answer`."""
        t0 = time.perf_counter()
        x = self.prepare.invoke({"question": question, "history": history, "top_k": top_k})
        prompts: PromptSet = x["prompts"]
        answer = Answer(question=question, text="", refused=False, citations=[], sources=x["results"],
                        language=prompts.language, query=x["query"], model=self._model_name())
        answer.timings["retrieve_s"] = round(time.perf_counter() - t0, 3)
        if not x["sources"]:
            yield self._refuse(answer, prompts, NO_RELEVANT_SOURCES, t0)
            return

        parts: list[str] = []
        for chunk in self.model.stream(x["messages"]):
            delta = chunk.content if isinstance(chunk.content, str) else str(chunk.content)
            if delta:
                if not parts:
                    answer.timings["first_token_s"] = round(time.perf_counter() - t0, 3)
                parts.append(delta)
                yield delta
        answer.raw = "".join(parts).strip()
        yield self._check(answer, prompts, x["sources"], t0)

    def invoke(self, question: str, history: History | None = None, top_k: int | None = None) -> Answer:
        """The checked :class:`Answer` (no streaming)."""
        return final_answer(self.stream(question, history, top_k))

    def _check(self, answer: Answer, prompts: PromptSet, sources: list[Source], t0: float) -> Answer:
        if prompts.is_refusal(answer.raw):
            return self._refuse(answer, prompts, MODEL_REFUSED, t0)
        passages: list[Passage] = [s.passage() for s in sources]
        checked = check_answer(answer.raw, passages, self.similarity, keep_unsupported=False,
                               question=answer.query)
        answer.removed = [s.text for s in checked.removed]
        if not checked.sentences:
            return self._refuse(answer, prompts, UNSUPPORTED, t0)
        answer.text, answer.citations = checked.text, checked.citations
        answer.timings["total_s"] = round(time.perf_counter() - t0, 3)
        return answer

    def similarity(self, sentence: str, candidates: Sequence[str]) -> Sequence[float]:
        """e5 cosine of an answer sentence (as a query) to source sentences (as passages)."""
        return self.vectors(list(candidates)) @ self._sentence_vector(sentence)

    @lru_cache(maxsize=1024)  # check_answer asks once per source for the same sentence
    def _sentence_vector(self, sentence: str):
        return self.embeddings.embed_queries([sentence])[0]

    def _refuse(self, answer: Answer, prompts: PromptSet, reason: str, t0: float) -> Answer:
        answer.refused, answer.refusal_reason, answer.text = True, reason, prompts.refusal
        answer.timings.setdefault("first_token_s", round(time.perf_counter() - t0, 3))
        answer.timings["total_s"] = round(time.perf_counter() - t0, 3)
        return answer

    def _model_name(self) -> str:
        return f"{self.settings.llm_backend}:{self.settings.llm_model}"


def final_answer(events: Iterator[str | Answer]) -> Answer:
    """The :class:`Answer` that ends an answer stream."""
    for event in events:
        if isinstance(event, Answer):
            return event
    raise RuntimeError("the answer stream ended without an answer")  # pragma: no cover


def _relevance(results: Sequence[SearchResult]) -> float:
    """How relevant the best passage is: its dense cosine (passages found only by BM25 count 0)."""
    return max((r.dense or 0.0) for r in results)
