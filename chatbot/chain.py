"""The answer chain, evidence first: the code selects and checks, the model decides and phrases.

:meth:`AnswerChain.stream` runs these steps, each a small typed value passed to the next:

1. **condense** (:class:`Query`): a follow-up becomes a standalone search text (the previous
   question plus this one, or the model's rewrite when ``follow_up_rewrite`` is on);
2. **find** (:class:`Found`): hybrid retrieval, then the best *sentences* of the passages within
   a small token budget (:mod:`chatbot.evidence`); a question in the other language than the
   passages is translated by the model first and searched and scored in both forms; an
   :class:`EvidenceFound` event is yielded at once, before the model reads anything;
3. **gate** — refusals decided in code before the model is asked: no relevant passage, a name
   or number of the question that no passage mentions, or evidence that cannot hold the kind of
   answer asked for (a date for いつ/when, :mod:`chatbot.answer_types`);
4. **decide** (:class:`Decision`): one forward pass over the evidence and the question: the
   model's next-token probabilities of yes and no give P(yes) that the evidence answers, against
   ``min_answerable``;
5. **write**: the answer opens with the best evidence sentence quoted verbatim (streamed at
   once: it is known before the model writes), then the model's short answer in the question's
   language citing evidence numbers (streamed); its prompt extends the decision prompt, so
   nothing is read twice;
6. **check** (:mod:`chatbot.citations`): the model's unsupported sentences and stray figures
   are removed (when none survives the quote stands alone); every citation quotes its evidence
   sentence verbatim.

Why the quote leads: on the dev set the 1.5B model's checked short answers held the key facts
less often than the best-scoring evidence sentence itself (0.54 vs 0.65 on the same questions),
so the sentence is always shown and the model's phrasing comes with it (docs/evaluation.md).
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Iterator, Sequence

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import RunnableLambda

from .answer_types import expected_kind, holds_kind
from .citations import (MARKER, CheckedAnswer, CheckedSentence, Citation, bigrams, check_answer, is_question, join,
                        lexical_support, renumber)
from .config import Settings
from .embeddings import ChatbotEmbeddings, PassageVectors
from .evidence import Evidence, EvidenceSentence, select_evidence
from .facts import missing_terms
from .prompts import PromptSet, language_of, prompts_for
from .retrieval import HybridRetriever, SearchResult
from .rules import HISTORY_CHARS, HISTORY_TURNS, MIN_QUOTE_CHARS, QUOTE_CANDIDATES, TITLE_COPY

History = Sequence[Any]  # [{"role": "user"|"assistant", "content": str}, ...] or [(user, assistant), ...]

# refusal_reason values
NO_RELEVANT_SOURCES = "no_relevant_sources"
TERMS_NOT_FOUND = "terms_not_in_sources"
ANSWER_TYPE = "answer_type_not_in_evidence"
NOT_ANSWERABLE = "decided_not_answerable"
MODEL_REFUSED = "model_refused"
UNSUPPORTED = "unsupported"  # old results only: a failed answer now stands on its quote


@dataclass
class Answer:
    """A checked answer. ``text`` carries [n] markers that index ``citations``."""

    question: str
    text: str
    refused: bool
    citations: list[Citation]
    sources: list[SearchResult]  # everything retrieved, best first
    language: str
    query: str  # the standalone search text (differs from ``question`` for follow-ups)
    model: str
    timings: dict[str, float] = field(default_factory=dict)
    refusal_reason: str | None = None  # see the constants above
    removed: list[str] = field(default_factory=list)  # answer sentences dropped as unsupported
    raw: str = ""  # the model's reply before checking
    draft: str = ""  # kept for compatibility (answers are no longer translated)
    missing_terms: list[str] = field(default_factory=list)  # question terms no passage mentions
    evidence: list[dict] = field(default_factory=list)  # the numbered evidence sentences the model read
    quoted: bool = False  # the answer is only the quoted evidence sentence (the model's own sentences failed)
    answerable: float | None = None  # the model's probability that the evidence answers the question
    translation: str | None = None  # the question translated into the articles' language (evidence search)

    def to_dict(self) -> dict:
        """JSON-ready form (the CLI's ``--json`` and the eval results)."""
        return {
            "question": self.question, "answer": self.text, "refused": self.refused,
            "refusal_reason": self.refusal_reason, "language": self.language, "query": self.query,
            "citations": [asdict(c) for c in self.citations],
            "sources": [s.to_dict() for s in self.sources],
            "removed": self.removed, "raw": self.raw, "draft": self.draft, "missing_terms": self.missing_terms,
            "evidence": self.evidence, "quoted": self.quoted, "answerable": self.answerable,
            "translation": self.translation,
            "timings": self.timings, "model": self.model,
        }


@dataclass
class EvidenceFound:
    """Stream event: the evidence was selected (yielded before the model reads anything)."""

    evidence: Evidence
    sources: list[SearchResult]
    language: str  # the question's language


# -- the typed values passed between the steps ----------------------------------------------------

@dataclass
class Query:
    """What the user asked, and the forms of it each step uses."""

    question: str  # the user's question, as typed
    language: str  # the question's language: the answer's language
    search_text: str  # standalone text for retrieval and evidence scoring
    model_question: str  # the question as put to the model
    top_k: int


@dataclass
class Found:
    """What retrieval found for a :class:`Query`."""

    results: list[SearchResult]  # passages, best first
    evidence: Evidence  # the selected sentences
    relevance: float  # the best passage's dense cosine
    translation: str | None = None  # the question in the articles' language, when it differs


@dataclass
class Decision:
    answerable: bool
    probability: float | None = None  # P(yes) from the model, when it was asked
    reason: str | None = None  # the refusal_reason when not answerable
    missing: list[str] = field(default_factory=list)


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
                 settings: Settings, vectors: PassageVectors | None = None) -> None:
        self.retriever = retriever
        self.model = model
        self.settings = settings
        self.embeddings = embeddings
        self.vectors = vectors or PassageVectors(embeddings)
        # Per instance and bounded: the answer check asks for the same sentence once per candidate.
        self._query_vector = lru_cache(maxsize=512)(lambda text: self.embeddings.embed_queries([text])[0])
        # Retrieval and evidence selection as one LCEL pipeline: {question, history, top_k} -> (Query, Found).
        self.prepare = RunnableLambda(self.condense) | RunnableLambda(lambda q: (q, self.find(q)))

    # -- the steps -----------------------------------------------------------------------------

    def condense(self, x: dict) -> Query:
        """Step 1: the standalone forms of the question (see :class:`Query`)."""
        question = x["question"]
        language = language_of(question)
        top_k = x.get("top_k") or self.settings.top_k
        turns = normalize_history(x.get("history"))
        previous = next((text for role, text in reversed(turns) if role == "user"), None)
        if previous is None:
            return Query(question, language, question, question, top_k)
        prompts = prompts_for(language)
        fallback = Query(question, language, f"{previous} {question}",
                         prompts.format_follow_up(question, previous), top_k)
        if not self.settings.follow_up_rewrite:
            return fallback
        rewritten = self._rewrite(prompts, turns, question)
        if rewritten is None:
            return fallback
        return Query(question, language, rewritten, rewritten, top_k)

    def _rewrite(self, prompts: PromptSet, turns: list[tuple[str, str]], question: str) -> str | None:
        """The model's standalone rewrite of a follow-up, or ``None`` when it failed (echoed the
        question, answered it instead, or refused)."""
        lines = [f"{'Q' if role == 'user' else 'A'}: {MARKER.sub('', text)[:HISTORY_CHARS]}"
                 for role, text in turns[-HISTORY_TURNS:]]
        out = self._one_line(prompts.condense_prompt.invoke({"history": "\n".join(lines), "question": question}))
        out = re.sub(r"^(【?書き換えた質問】?|REWRITTEN QUESTION:)\s*", "", out)
        if (not out or len(out) > HISTORY_CHARS or prompts.is_refusal(out) or bigrams(out) <= bigrams(question)
                or (is_question(question) and not is_question(out))):
            return None
        return out

    def _one_line(self, messages) -> str:
        """The model's reply to ``messages``: its first line, without quotes around it."""
        out = (self.model.bind(stop=["\n"]) | StrOutputParser()).invoke(messages).strip()
        return out.splitlines()[0].strip(" 「」\"'") if out else ""

    def find(self, query: Query) -> Found:
        """Step 2: passages, then the evidence sentences within the budget. A question in another
        language than the passages is translated, and both forms search and score (e5 alone
        matches an English question to Japanese sentences poorly, and shares no words with them)."""
        results = self.retriever.search(query.search_text, query.top_k)
        if not results:
            return Found([], Evidence(), 0.0)
        relevance = max((r.dense or 0.0) for r in results)
        texts = list(dict.fromkeys([query.question, query.search_text]))
        translation = None
        # Not for a question the gate refuses anyway (off-topic, or naming what no passage mentions).
        if (self.settings.translate_questions and language_of(" ".join(r.text for r in results)) != query.language
                and relevance >= self.settings.min_relevance and not self._missing_terms(query, results)):
            translation = self._translate(query)
            if translation:
                results = self.retriever.search(f"{query.search_text} {translation}", query.top_k) or results
                texts.append(translation)
        query_vectors = np.stack([self._query_vector(t) for t in texts])
        evidence = select_evidence(texts, results, self.settings.evidence_tokens, query_vectors, self.vectors)
        return Found(results, evidence, relevance, translation)

    def _translate(self, query: Query) -> str | None:
        """The search text in the other language (one line), or ``None`` when the model gave none."""
        out = self._one_line(prompts_for(query.language).translate_messages(query.search_text))
        return out if out and language_of(out) != query.language and len(out) <= 4 * len(query.search_text) else None

    def gate(self, query: Query, found: Found) -> Decision:
        """Step 3: refusals decided in code, before the model is asked."""
        if not found.evidence or found.relevance < self.settings.min_relevance:
            return Decision(False, reason=NO_RELEVANT_SOURCES)
        missing = self._missing_terms(query, found.results)
        if missing:
            return Decision(False, reason=TERMS_NOT_FOUND, missing=missing)
        if not holds_kind(expected_kind(query.question), [s.text for s in found.evidence.sentences]):
            return Decision(False, reason=ANSWER_TYPE)
        return Decision(True)

    @staticmethod
    def _missing_terms(query: Query, results: Sequence[SearchResult]) -> list[str]:
        """The question's names and numbers that no passage mentions (codes only across languages)."""
        texts = [f"{r.title}\n{r.byline}\n{r.text}" for r in results]
        same = language_of(" ".join(r.text for r in results)) == query.language
        return missing_terms(query.question, texts, same_language=same)

    def decide(self, prompts: PromptSet, evidence_text: str, query: Query) -> Decision:
        """Step 4: P(yes) that the evidence answers the question, from one forward pass."""
        messages = prompts.decision_messages(evidence_text, query.model_question)
        score = getattr(self.model, "choice_probabilities", None)
        if score is not None:
            p = score(messages, [prompts.yes, prompts.no])[prompts.yes]
        else:  # a remote backend: its short reply decides
            reply = (self.model.bind(stop=["\n", "。", "."]) | StrOutputParser()).invoke(messages)
            p = 1.0 if reply.strip().lower().startswith(prompts.yes.lower()) else 0.0
        ok = p >= self.settings.min_answerable
        return Decision(ok, probability=round(p, 4), reason=None if ok else NOT_ANSWERABLE)

    def check(self, reply: str, found: Found, query: Query, prompts: PromptSet,
              best: EvidenceSentence) -> CheckedAnswer | None:
        """Step 6: the answer: the verbatim quote of the best evidence sentence, then the model's
        sentences that pass the citation checks (none when all fail: the quote alone). ``None``
        when the model itself says the evidence does not answer."""
        if prompts.is_refusal(reply):
            return None
        checked = check_answer(reply, found.evidence, self.similarity, question=query.model_question)
        pairs = [(CheckedSentence(quote_text(prompts, best.text), supported=True), [best.id])]
        for sentence in checked.sentences:
            if lexical_support(sentence.text, best.text) >= TITLE_COPY:
                continue  # the model copied the quoted sentence
            pairs.append((CheckedSentence(sentence.text, supported=True),
                          [checked.citations[c - 1].evidence_id for c in sentence.cites]))
        answer = renumber(pairs, found.evidence)
        answer.text = "\n".join(filter(None, [join(answer.sentences[:1]), join(answer.sentences[1:])]))
        answer.removed = checked.removed
        return answer

    # -- running them --------------------------------------------------------------------------

    def stream(self, question: str, history: History | None = None,
               top_k: int | None = None) -> Iterator[str | EvidenceFound | Answer]:
        """Yield :class:`EvidenceFound`, then the answer's text deltas as the model writes them,
        then the checked :class:`Answer`."""
        t0 = time.perf_counter()
        query, found = self.prepare.invoke({"question": question, "history": history, "top_k": top_k})
        prompts = prompts_for(query.language)
        answer = Answer(question=question, text="", refused=False, citations=[], sources=found.results,
                        language=query.language, query=query.search_text, model=self._model_name(),
                        evidence=found.evidence.to_dict(), translation=found.translation)
        answer.timings["evidence_s"] = _since(t0)
        yield EvidenceFound(found.evidence, found.results, query.language)

        decision = self.gate(query, found)
        evidence_text = self.format_evidence(prompts, found.evidence)
        if decision.answerable:
            decision = self.decide(prompts, evidence_text, query)
            answer.answerable = decision.probability
            answer.timings["decide_s"] = _since(t0)
        if not decision.answerable:
            answer.missing_terms = decision.missing
            yield self._refuse(answer, prompts, decision.reason, t0)
            return

        # The best evidence sentence, verbatim, leads the answer: it is known before the model
        # writes, so the reader has an answer at once; the model's short answer follows.
        best = best_sentence(found.evidence, expected_kind(query.question))
        lead = quote_text(prompts, best.text) + "\n"
        answer.timings["first_token_s"] = _since(t0)
        yield lead
        parts: list[str] = []
        for delta in self._generate(prompts.answer_messages(evidence_text, query.model_question)):
            answer.timings.setdefault("model_first_token_s", _since(t0))
            parts.append(delta)
            yield delta
        answer.raw = "".join(parts).strip()
        checked = self.check(answer.raw, found, query, prompts, best)
        if checked is None:
            yield self._refuse(answer, prompts, MODEL_REFUSED, t0)
            return
        answer.text, answer.citations = checked.text, checked.citations
        answer.removed = [s.text for s in checked.removed]
        answer.quoted = len(checked.sentences) == 1  # the model's own sentences all failed the checks
        answer.timings["total_s"] = _since(t0)
        yield answer

    def invoke(self, question: str, history: History | None = None, top_k: int | None = None) -> Answer:
        """The checked :class:`Answer` (no streaming)."""
        return final_answer(self.stream(question, history, top_k))

    @staticmethod
    def format_evidence(prompts: PromptSet, evidence: Evidence) -> str:
        return prompts.format_evidence([(r.title, r.byline, [(s.id, s.text) for s in sentences])
                                        for r, sentences in evidence.articles()])

    def _generate(self, messages) -> Iterator[str]:
        for chunk in self.model.stream(messages, stop=["\n\n"]):  # one short paragraph
            delta = chunk.content if isinstance(chunk.content, str) else str(chunk.content)
            if delta:
                yield delta

    def similarity(self, sentence: str, candidates: Sequence[str]) -> Sequence[float]:
        """e5 cosine of an answer sentence (as a query) to evidence sentences (as passages)."""
        return self.vectors(list(candidates)) @ self._query_vector(sentence)

    def _refuse(self, answer: Answer, prompts: PromptSet, reason: str | None, t0: float) -> Answer:
        answer.refused, answer.refusal_reason, answer.text = True, reason, prompts.refusal
        answer.timings.setdefault("first_token_s", _since(t0))
        answer.timings["total_s"] = _since(t0)
        return answer

    def _model_name(self) -> str:
        return f"{self.settings.llm_backend}:{self.settings.llm_model}"


def best_sentence(evidence: Evidence, kind: str | None = None) -> EvidenceSentence:
    """The sentence quoted at the head of the answer: the best-scoring full sentence (not a
    heading, a byline line or a rhetorical question) among the top ``QUOTE_CANDIDATES`` that
    holds the kind of answer asked for (a date for いつ/when), else the best full sentence."""
    full = [s for s in evidence.ranked if _is_full_sentence(s.text) and not is_question(s.text)] or evidence.ranked
    return next((s for s in full[:QUOTE_CANDIDATES] if holds_kind(kind, [s.text])), full[0])


def quote_text(prompts: PromptSet, sentence: str) -> str:
    """An article sentence quoted verbatim, with its label (「…」 marks the exact article text)."""
    return f"{prompts.quote}「{sentence}」"


def final_answer(events: Iterator[str | EvidenceFound | Answer]) -> Answer:
    """The :class:`Answer` that ends an answer stream."""
    for event in events:
        if isinstance(event, Answer):
            return event
    raise RuntimeError("the answer stream ended without an answer")  # pragma: no cover


def _is_full_sentence(text: str) -> bool:
    return len(text) >= MIN_QUOTE_CHARS and bool(re.search(r"[。．！？!?.」』)）]$", text.strip()))


def _since(t0: float) -> float:
    return round(time.perf_counter() - t0, 3)
