"""The answer chain: condense → retrieve → select sources → generate → check citations → refuse.

Built from LangChain runnables: :attr:`AnswerChain.prepare` is an LCEL pipeline that turns
``{"question", "history"}`` into the standalone query, the retrieved passages, the numbered
sources and the prompt messages; the chat model then streams the answer, and
:meth:`AnswerChain.stream` checks it in code (:mod:`chatbot.citations`). Refusal is decided
here, never left to the model alone:

- no retrieved passage is relevant enough (dense cosine below ``min_relevance``);
- the question names a number, a name or a code that no retrieved passage mentions;
- the model's answer says the sources do not hold the answer;
- no sentence of the answer survives the citation check (every claim unsupported, or stating
  a number or name that no cited source contains).

When the question and the sources are in different languages (an English question over
Japanese articles), a small model answers far better in the sources' language: the question is
translated, answered and checked there, and the checked answer is translated back (streamed),
keeping its verified citations (:func:`chatbot.citations.check_translation`).
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
from .citations import MARKER, CheckedAnswer, Citation, Passage, bigrams, check_answer, check_translation
from .config import Settings
from .context import Source, select_sources
from .embeddings import ChatbotEmbeddings, PassageVectors
from .facts import missing_terms
from .prompts import PromptSet, detect_language, prompts_for, text_language
from .retrieval import HybridRetriever, SearchResult

History = Sequence[Any]  # [{"role": "user"|"assistant", "content": str}, ...] or [(user, assistant), ...]

NO_RELEVANT_SOURCES = "no_relevant_sources"
MODEL_REFUSED = "model_refused"
UNSUPPORTED = "unsupported"
TERMS_NOT_FOUND = "terms_not_in_sources"


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
    refusal_reason: str | None = None  # no_relevant_sources | terms_not_in_sources | model_refused | unsupported
    removed: list[str] = field(default_factory=list)  # answer sentences dropped as unsupported
    raw: str = ""  # the model's reply before checking
    draft: str = ""  # the answer in the sources' language, when it was translated
    missing_terms: list[str] = field(default_factory=list)  # question terms no passage mentions

    def to_dict(self) -> dict:
        """JSON-ready form (the CLI's ``--json`` and the eval results)."""
        return {
            "question": self.question, "answer": self.text, "refused": self.refused,
            "refusal_reason": self.refusal_reason, "language": self.language, "query": self.query,
            "citations": [asdict(c) for c in self.citations],
            "sources": [s.to_dict() for s in self.sources],
            "removed": self.removed, "raw": self.raw, "draft": self.draft, "missing_terms": self.missing_terms,
            "timings": self.timings, "model": self.model,
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
            | RunnableLambda(self._condense)  # adds query (for retrieval) and ask (for the model)
            | RunnablePassthrough.assign(results=RunnableLambda(self._retrieve))
            | RunnablePassthrough.assign(sources=RunnableLambda(self._select))
            | RunnablePassthrough.assign(missing=RunnableLambda(self._missing_terms),
                                         answer_prompts=RunnableLambda(self._answer_prompts))
            | RunnablePassthrough.assign(asked=RunnableLambda(self._translate_question))
            | RunnablePassthrough.assign(messages=RunnableLambda(self._messages))
        )

    # -- the LCEL steps -------------------------------------------------------------------------

    def _condense(self, x: dict) -> dict:
        turns = normalize_history(x.get("history"))
        if not any(role == "user" for role, _ in turns):
            return {**x, "query": x["question"], "ask": x["question"]}
        recent = turns[-4:]  # the last two exchanges are enough to resolve "それ" / "it"
        lines = [f"{'Q' if role == 'user' else 'A'}: {MARKER.sub('', text)[:300]}" for role, text in recent]
        prompts: PromptSet = x["prompts"]
        # The rewrite is one line; stopping at the newline keeps a chatty model short.
        chain = prompts.condense_prompt | self.model.bind(stop=["\n"]) | StrOutputParser()
        rewritten = chain.invoke({"history": "\n".join(lines), "question": x["question"]})
        rewritten = rewritten.strip().splitlines()[0].strip(" 「」\"'") if rewritten.strip() else ""
        rewritten = re.sub(r"^(【?書き換えた質問】?|REWRITTEN QUESTION:)\s*", "", rewritten)
        if (not rewritten or len(rewritten) > 300 or prompts.is_refusal(rewritten)
                or bigrams(rewritten) <= bigrams(x["question"])
                or (_is_question(x["question"]) and not _is_question(rewritten))):
            # The rewrite failed, only echoed the question or answered it: search on the previous
            # question plus this one, and show the model this one with the previous as context.
            last_user = next(text for role, text in reversed(turns) if role == "user")
            return {**x, "query": f"{last_user} {x['question']}",
                    "ask": prompts.format_follow_up(x["question"], last_user)}
        return {**x, "query": rewritten, "ask": rewritten}

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

    def _missing_terms(self, x: dict) -> list[str]:
        if not x["sources"]:
            return []
        texts = [f"{r.title}\n{r.byline}\n{r.text}" for r in x["results"]]
        same = text_language(" ".join(texts)) == x["prompts"].language
        return missing_terms(x["question"], texts, same_language=same)

    def _answer_prompts(self, x: dict) -> PromptSet:
        """The prompts of the language the sources are written in (the model answers there)."""
        if not x["sources"]:
            return x["prompts"]
        return prompts_for(text_language(" ".join(s.excerpt for s in x["sources"])))

    def _translate_question(self, x: dict) -> str:
        """The question as put to the model: translated into the sources' language if needed."""
        target: PromptSet = x["answer_prompts"]
        if target.language == x["prompts"].language or x["missing"]:
            return x["ask"]
        chain = target.translate_prompt | self.model.bind(stop=["\n"]) | StrOutputParser()
        translated = chain.invoke({"text": x["ask"]}).strip()
        translated = translated.splitlines()[0].strip(" 「」\"'") if translated else ""
        return translated if translated and len(translated) <= 3 * len(x["ask"]) + 20 else x["ask"]

    def _messages(self, x: dict):
        if not x["sources"] or x["missing"]:
            return []
        prompts: PromptSet = x["answer_prompts"]
        sources = "\n\n".join(prompts.format_source(s.n, s.result.title, s.excerpt, s.result.byline)
                            for s in x["sources"])
        return prompts.answer_prompt.format_messages(sources=sources, question=x["asked"])

    # -- running it -----------------------------------------------------------------------------

    def stream(self, question: str, history: History | None = None,
               top_k: int | None = None) -> Iterator[str | Answer]:
        """Yield the answer's text deltas as they come, then the checked :class:`Answer`.

        When the answer is translated, only the translation is streamed."""
        t0 = time.perf_counter()
        x = self.prepare.invoke({"question": question, "history": history, "top_k": top_k})
        prompts: PromptSet = x["prompts"]
        answer = Answer(question=question, text="", refused=False, citations=[], sources=x["results"],
                        language=prompts.language, query=x["query"], model=self._model_name())
        answer.timings["retrieve_s"] = round(time.perf_counter() - t0, 3)
        if not x["sources"]:
            yield self._refuse(answer, prompts, NO_RELEVANT_SOURCES, t0)
            return
        if x["missing"]:
            answer.missing_terms = x["missing"]
            yield self._refuse(answer, prompts, TERMS_NOT_FOUND, t0)
            return

        source_prompts: PromptSet = x["answer_prompts"]
        translate = source_prompts.language != prompts.language
        parts: list[str] = []
        for delta in self._generate(x["messages"]):
            if not translate:
                answer.timings.setdefault("first_token_s", round(time.perf_counter() - t0, 3))
                yield delta
            parts.append(delta)
        reply = "".join(parts).strip()
        answer.raw = reply
        checked = self._check(source_prompts, x["sources"], reply, x["asked"])
        if checked is None or not checked.sentences or not translate:
            yield self._finish(answer, prompts, checked, t0)
            return

        # Translate the checked answer back into the question's language, streaming it.
        answer.draft, parts = checked.text, []
        for delta in self._generate(prompts.translate_prompt.format_messages(text=checked.text)):
            answer.timings.setdefault("first_token_s", round(time.perf_counter() - t0, 3))
            parts.append(delta)
            yield delta
        answer.raw = "".join(parts).strip()
        translated = check_translation(answer.raw, checked, self.similarity)
        translated.removed = checked.removed + translated.removed
        yield self._finish(answer, prompts, translated, t0)

    def invoke(self, question: str, history: History | None = None, top_k: int | None = None) -> Answer:
        """The checked :class:`Answer` (no streaming)."""
        return final_answer(self.stream(question, history, top_k))

    def _generate(self, messages) -> Iterator[str]:
        for chunk in self.model.stream(messages):
            delta = chunk.content if isinstance(chunk.content, str) else str(chunk.content)
            if delta:
                yield delta

    def _check(self, prompts: PromptSet, sources: list[Source], reply: str, question: str) -> CheckedAnswer | None:
        """The reply with its citations checked (``None`` when the model says it cannot answer)."""
        if prompts.is_refusal(reply):
            return None
        passages: list[Passage] = [s.passage() for s in sources]
        return check_answer(reply, passages, self.similarity, keep_unsupported=False, question=question)

    def _finish(self, answer: Answer, prompts: PromptSet, checked: CheckedAnswer | None, t0: float) -> Answer:
        if checked is None:
            return self._refuse(answer, prompts, MODEL_REFUSED, t0)
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


def _is_question(text: str) -> bool:
    return bool(re.search(r"[?？か]\W*$", text.strip()))


def _relevance(results: Sequence[SearchResult]) -> float:
    """How relevant the best passage is: its dense cosine (passages found only by BM25 count 0)."""
    return max((r.dense or 0.0) for r in results)
