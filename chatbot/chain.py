"""The answer chain, evidence first: the code selects and checks, the model decides and phrases.

:meth:`AnswerChain.stream` runs these steps in order, each a small typed value passed on:

1. **condense** (:class:`Query`): the question's language, the shape of answer it asks for
   (:mod:`chatbot.shapes`: a fact, a reason, a comparison, a summary), and for a follow-up a
   standalone search text (the previous question and the sentence its answer quoted);
2. **find** (:class:`Found`): hybrid retrieval; a question in another language than the
   passages is translated by the model first and searched in both forms (in an archive of both
   languages, its translation also searches the other one when its own search reached that
   language or it names what its own passages do not); every sentence of the
   passages is ranked by the learned ranker (:mod:`chatbot.ranker`) and the best ones become
   the evidence (:mod:`chatbot.evidence`); an :class:`EvidenceFound` event is yielded at once;
3. **gate**: refusals decided in code: no relevant passage, a name or number of the question
   that no passage mentions, evidence that cannot hold the kind of answer asked for, or no
   sentence to quote (among the best few) that names every subject of the question and holds it;
4. **decide** (:class:`Decision`): one forward pass over the evidence and the question gives
   the model's P(yes); with the ranker's scores it makes one calibrated probability that the
   answer is right (:mod:`chatbot.answerability`), refused below ``min_confidence``;
5. **lead**: the sentences that answer, quoted verbatim and cited: the best one (and the
   runner-up when the ranker scores them nearly alike); for a why
   question with its lead-in when it refers back; for a comparison one per article; for a
   question in another language, translated by the model and checked (numbers, codes) against
   the original;
6. **write** (same language only): the model's short answer citing evidence numbers; its prompt
   extends the decision prompt, so nothing is read twice;
7. **check** (:mod:`chatbot.citations`, :mod:`chatbot.subjects`): the model's sentences that
   their citations do not support, that cite evidence about another company or person than the
   question's, or that cite evidence the ranker scored below the quotes, are removed; every
   citation quotes its evidence sentence verbatim.

A summary request skips 3–7: it quotes the article's most central sentences (:mod:`chatbot.summaries`).
"""

from __future__ import annotations

import re
import time
from functools import lru_cache
from typing import Iterator, Sequence

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser

from .answer import (ANSWER_TYPE, MODEL_REFUSED, NO_RELEVANT_SOURCES, NOT_ABOUT_QUESTION, NOT_ANSWERABLE,
                     TERMS_NOT_FOUND, Answer, EvidenceFound, Quote, StreamEvent, final_answer, since)
from .answer_types import asked_unit, expected_kind
from .answerability import Calibration, signals
from .citations import MARKER, CheckedSentence, check_answer, lexical_support
from .config import Settings
from .embeddings import ChatbotEmbeddings, PassageVectors
from .evidence import Evidence, EvidenceSentence, select_evidence
from .facts import missing_terms
from .history import History, previous_context, turns_of
from .prompts import PromptSet, prompts_for
from .quotes import compose, foreign, quote_block, translated_quotes
from .ranker import Ranker, candidates_of, featurize
from .retrieval import HybridRetriever, SearchResult
from .rules import HISTORY_CHARS, HISTORY_TURNS, QUOTE_CANDIDATES, TITLE_COPY
from .shapes import COMPARE, SUMMARY, WHY, form_of, refers_back
from .subjects import Subjects
from .steps import Decision, Found, Query
from .summaries import Summaries, stream_summary
from .text import bigrams, is_full_sentence, is_question, language_of, other_language


class AnswerChain:
    """Answers one question (with optional history) from the retriever's passages."""

    def __init__(self, retriever: HybridRetriever, model: BaseChatModel, embeddings: ChatbotEmbeddings,
                 settings: Settings, vectors: PassageVectors | None = None, ranker: Ranker | None = None,
                 calibration: Calibration | None = None, summaries: Summaries | None = None,
                 aux: BaseChatModel | None = None) -> None:
        self.retriever = retriever
        self.model = model
        self.aux = aux or model  # one-line requests: translation, follow-up rewrite (chatbot.llm.aux_model)
        self.settings = settings
        self.embeddings = embeddings
        self.vectors = vectors or PassageVectors(embeddings)
        self.ranker = ranker or Ranker.load()
        self.calibration = calibration or Calibration.load()
        self.summaries = summaries
        # The e5 query vector of a text. Per instance and bounded: the answer check asks for the
        # same sentence once per candidate.
        self.query_vector = lru_cache(maxsize=512)(lambda text: self.embeddings.embed_queries([text])[0])

    # -- the steps -----------------------------------------------------------------------------

    def condense(self, question: str, history: History | None = None, top_k: int | None = None) -> Query:
        """Step 1: the standalone forms of the question (see :class:`Query`)."""
        language = language_of(question)
        top_k = top_k or self.settings.top_k
        form, kind, unit = form_of(question), expected_kind(question), asked_unit(question)
        turns = turns_of(history)
        context = previous_context(turns)
        if context is None:
            return Query(question, language, form, kind, question, question, [question], top_k, unit)
        prompts = prompts_for(language)
        rewritten = self._rewrite(prompts, turns, question) if self.settings.follow_up_rewrite else None
        standalone = rewritten or f"{context.question} {question}"
        # The previous answer's quoted sentence names what "it" is; it joins the search, not the
        # sentence scores (it would rank itself first).
        search = f"{standalone} {context.answer}".strip()
        return Query(question, language, form, kind, search,
                     rewritten or prompts.format_follow_up(question, context.question),
                     list(dict.fromkeys([question, standalone])), top_k, unit)

    def _rewrite(self, prompts: PromptSet, turns, question: str) -> str | None:
        """The model's standalone rewrite of a follow-up, or ``None`` when it failed (echoed the
        question, answered it instead, or refused)."""
        lines = [f"{'Q' if t.role == 'user' else 'A'}: {MARKER.sub('', t.text)[:HISTORY_CHARS]}"
                 for t in turns[-HISTORY_TURNS:]]
        out = self.one_line(prompts.condense_prompt.invoke({"history": "\n".join(lines), "question": question}))
        out = re.sub(r"^(【?書き換えた質問】?|REWRITTEN QUESTION:)\s*", "", out)
        if (not out or len(out) > HISTORY_CHARS or prompts.is_refusal(out) or bigrams(out) <= bigrams(question)
                or (is_question(question) and not is_question(out))):
            return None
        return out

    def one_line(self, messages) -> str:
        """The auxiliary model's reply to ``messages`` (a one-line request: a translation, a
        rewrite): its first line, without quotes around it."""
        out = (self.aux.bind(stop=["\n"]) | StrOutputParser()).invoke(messages).strip()
        return out.splitlines()[0].strip(" 「」\"'") if out else ""

    def find(self, query: Query) -> Found:
        """Step 2: passages, then every sentence ranked, then the evidence within the budget. A
        question in another language than the passages is translated, and both forms search and
        score (e5 alone matches an English question to Japanese sentences poorly); in a mixed
        archive the translation also searches the other language (docs/architecture.md)."""
        results = self.retriever.search(query.search_text, query.top_k)
        if not results:
            return Found([], [], np.zeros((0, 0)), Evidence(), 0.0)
        relevance = max((r.dense or 0.0) for r in results)
        translation = None
        found_other = language_of(" ".join(r.text for r in results)) != query.language
        # Not for a question the gate refuses anyway (off-topic, or naming what no passage mentions;
        # in a mixed archive the name may be in an article of the other language, found only by it).
        if self.settings.translate_questions and relevance >= self.settings.min_relevance and (
                not self._missing_terms(query, results) if found_other else self._may_answer_across(query, results)):
            translation = self._translate(query)
        extra: list[SearchResult] = []
        if translation and found_other:
            results = self.retriever.search(f"{query.search_text} {translation}", query.top_k) or results
        elif translation:
            # A mixed archive: the translation's passages in the other language join only when one
            # matches as well as the question's own best (else, on news-dev, they only competed
            # with the answer); the own language's passages keep their similarities (featurize).
            other = self.retriever.in_other_language(translation, query.language, query.top_k, relevance)
            seen = {r.chunk_id for r in results}
            extra = [r for r in other if r.chunk_id not in seen]
            translation = translation if other else None
        candidates = candidates_of(results) + candidates_of(extra)  # extra ranked apart: the own ranks stay
        results = results + extra
        forms = [*query.forms, translation] if translation else list(query.forms)
        features = featurize(forms, candidates, np.stack([self.query_vector(t) for t in forms]), self.vectors,
                             translated=int(bool(translation)))
        scores = self.ranker.score(features)
        order = np.argsort(-scores, kind="stable")
        for c, score in zip(candidates, scores):
            c.score = float(score)
        ranked = [candidates[i] for i in order]
        evidence = select_evidence(ranked, self.settings.evidence_tokens, self.ranker.article_margin)
        subjects = Subjects.of([query.question, *([translation] if translation else [])], results)
        return Found(results, ranked, features[order], evidence, relevance, translation, subjects)

    def _may_answer_across(self, query: Query, results: Sequence[SearchResult]) -> bool:
        """Whether articles in the other language may answer a question whose passages are in its
        own language, so that its translation should search them: its own search already reached
        one (e5 matches across languages, less well), or it names something that no passage of its
        own language mentions (東京, which an English article spells Tokyo) and the archive holds
        the other language. On news-dev this leaves out 30 of 34 translations, all of which
        :meth:`HybridRetriever.in_other_language` had dropped (docs/evaluation.md)."""
        if any(language_of(r.text) != query.language for r in results):
            return True
        return bool(self._missing_terms(query, results)) and self.retriever.store.holds_language(
            other_language(query.language))

    def _translate(self, query: Query) -> str | None:
        """The search text in the other language (one line), or ``None`` when the model gave none."""
        out = self.one_line(prompts_for(query.language).translate_messages(query.search_text))
        return out if out and language_of(out) != query.language and len(out) <= 4 * len(query.search_text) else None

    def gate(self, query: Query, found: Found) -> Decision:
        """Step 3: refusals decided in code, before the model is asked."""
        if not found.evidence or found.relevance < self.settings.min_relevance:
            return Decision(False, reason=NO_RELEVANT_SOURCES)
        missing = self._missing_terms(query, found.results)
        if missing:
            return Decision(False, reason=TERMS_NOT_FOUND, missing=missing)
        if not any(query.answered_by(s.text) for s in found.evidence.sentences):
            return Decision(False, reason=ANSWER_TYPE)
        # Of the sentences the quote is chosen from, one must name all the question's subjects and
        # hold what it asks (a comparison quotes one sentence per article: it is not checked).
        if query.form != COMPARE and not any(query.answered_by(s.text) and found.subjects.covers(s)
                                             for s in _about(found.evidence, found.subjects)[:QUOTE_CANDIDATES]):
            return Decision(False, reason=NOT_ABOUT_QUESTION)
        return Decision(True)

    @staticmethod
    def _missing_terms(query: Query, results: Sequence[SearchResult]) -> list[str]:
        """The question's names and numbers that no passage mentions (codes only when any passage
        is in the other language: 東京 is Tokyo there)."""
        texts = [f"{r.title}\n{r.byline}\n{r.text}" for r in results]
        same = all(language_of(r.text) == query.language for r in results)
        return missing_terms(query.question, texts, same_language=same)

    def decide(self, prompts: PromptSet, evidence_text: str, query: Query, found: Found) -> Decision:
        """Step 4: the model's P(yes) that the evidence answers the question (one forward pass),
        then the calibrated probability that the answer is right, against ``min_confidence``."""
        messages = prompts.decision_messages(evidence_text, query.model_question)
        score = getattr(self.model, "choice_probabilities", None)
        if score is not None:
            p = score(messages, [prompts.yes, prompts.no])[prompts.yes]
        else:  # a remote backend: its short reply decides
            reply = (self.model.bind(stop=["\n", "。", "."]) | StrOutputParser()).invoke(messages)
            p = 1.0 if reply.strip().lower().startswith(prompts.yes.lower()) else 0.0
        confidence = self.calibration.probability(signals(query, found, p))
        ok = confidence >= self.settings.min_confidence
        return Decision(ok, probability=round(p, 4), confidence=round(confidence, 4),
                        reason=None if ok else NOT_ANSWERABLE)

    def lead(self, query: Query, found: Found) -> list[EvidenceSentence]:
        """Step 5: the evidence sentences that lead the answer, in article order (see module doc)."""
        evidence = found.evidence
        about = _about(evidence, found.subjects)
        best = next((s for s in about[:QUOTE_CANDIDATES] if query.answered_by(s.text)), about[0])
        lead = [best]
        if query.form == WHY and refers_back(best.text):
            before = evidence.get(best.id - 1)
            if before is not None and before.doc_id == best.doc_id and not is_question(before.text):
                lead.insert(0, before)
        elif query.form == COMPARE:
            other = next((s for s in about if s.doc_id != best.doc_id), None)
            if other is not None:
                lead.append(other)
        else:
            # The ranker cannot tell the best two apart: quoting both holds the answering sentence
            # more often at the same citation precision (dev, cross-validated; see Ranker.quote_margin).
            runner = next((s for s in about if s is not best and query.answered_by(s.text)), None)
            if runner is not None and best.score - runner.score < self.ranker.quote_margin:
                lead.append(runner)
        return sorted(lead, key=lambda s: s.id)

    def quotes(self, prompts: PromptSet, query: Query, lead: list[EvidenceSentence], evidence: Evidence,
               bullets: bool = False) -> Iterator[str | list[Quote]]:
        """Step 5, as shown: the lead sentences verbatim, or, for a question in another language
        than the article, the model's translation of each (streamed, then checked: a translation
        that drops or changes a number or code, or names what only another evidence sentence
        names, is replaced by the original). Yields text deltas, then the list of :class:`Quote`."""
        if language_of(" ".join(s.text for s in lead)) == query.language:
            quotes = [Quote(s.text, i, s.id) for i, s in enumerate(lead, 1)]
            yield quote_block(prompts, quotes, bullets) + "\n"
            yield quotes
            return
        parts: list[str] = []
        messages = prompts.translation_messages(self.format_evidence(prompts, evidence), query.model_question,
                                                [s.id for s in foreign(lead, query.language)])
        for delta in self._generate(messages, stop=["\n\n"]):
            yield (prompts.quote_translated if not parts else "") + delta
            parts.append(delta)
        yield "\n"
        yield translated_quotes(lead, "".join(parts), query.language,
                                lambda text: self.one_line(prompts.sentence_translation_messages(text)),
                                [s.text for s in evidence.sentences], query.question,
                                (prompts.translate_evidence, prompts.translate_sentence))

    def check(self, reply: str, found: Found, query: Query, prompts: PromptSet,
              lead: list[EvidenceSentence]) -> tuple[list[CheckedSentence], list[str]] | None:
        """Step 7: the model's sentences that pass the citation, subject and rank checks (``cites``
        = the evidence ids they cite) and the removed ones; ``None`` when the model itself says the
        evidence does not answer."""
        if prompts.is_refusal(reply):
            return None
        checked = check_answer(reply, found.evidence, self.similarity, question=query.model_question)
        kept: list[CheckedSentence] = []
        removed = [s.text for s in checked.removed]
        # A claim cites the quoted sentences or evidence the ranker scored above them (a heading or
        # list item the quote skipped as not a full sentence): on dev, the model's citations of
        # lower-ranked evidence were rarely gold (docs/evaluation.md, "Claims that cite below the quotes").
        quoted, floor = {s.id for s in lead}, min(s.score for s in lead)
        for sentence in checked.sentences:
            ids = [checked.citations[c - 1].evidence_id for c in sentence.cites]
            if any(lexical_support(sentence.text, s.text) >= TITLE_COPY for s in lead):
                continue  # the model copied a quoted sentence
            if not all(found.subjects.about(found.evidence.get(n)) for n in ids):
                removed.append(sentence.text)  # it cites a sentence about another company or person
                continue
            if any(n not in quoted and found.evidence.get(n).score < floor for n in ids):
                removed.append(sentence.text)  # it cites a sentence the ranker put below the quotes
                continue
            kept.append(CheckedSentence(sentence.text, ids, supported=True))
        return kept, removed

    # -- running them --------------------------------------------------------------------------

    def stream(self, question: str, history: History | None = None,
               top_k: int | None = None) -> Iterator[StreamEvent]:
        """Yield :class:`EvidenceFound`, then the answer's text deltas as they are written, then
        the checked :class:`Answer`."""
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        query = self.condense(question, history, top_k)
        if query.form == SUMMARY and self.summaries is not None:
            yield from stream_summary(self, query, t0)
            return
        found = self.find(query)
        prompts = prompts_for(query.language)
        timings["evidence_s"] = since(t0)
        yield EvidenceFound(found.evidence, found.results, query.language)

        def answer(**kw) -> Answer:
            timings.setdefault("first_token_s", since(t0))
            timings["total_s"] = since(t0)
            return Answer(question=question, sources=found.results, language=query.language,
                          query=query.search_text, model=self.model_name(), form=query.form,
                          evidence=found.evidence.to_dict(), translation=found.translation, timings=timings, **kw)

        def refuse(decision: Decision) -> Answer:
            return answer(text=prompts.refusal, refused=True, citations=[], refusal_reason=decision.reason,
                          missing_terms=decision.missing, answerable=decision.probability,
                          confidence=decision.confidence)

        decision = self.gate(query, found)
        evidence_text = self.format_evidence(prompts, found.evidence)
        if decision.answerable:
            decision = self.decide(prompts, evidence_text, query, found)
            timings["decide_s"] = since(t0)
        if not decision.answerable:
            yield refuse(decision)
            return

        lead = self.lead(query, found)
        quotes: list[Quote] = []
        for event in self.quotes(prompts, query, lead, found.evidence):
            if isinstance(event, list):
                quotes = event
            else:
                timings.setdefault("first_token_s", since(t0))
                yield event

        raw, kept, removed = "", [], []
        if language_of(" ".join(s.text for s in lead)) == query.language:  # the model's own short answer
            parts: list[str] = []
            for delta in self._generate(prompts.answer_messages(evidence_text, query.model_question)):
                timings.setdefault("model_first_token_s", since(t0))
                parts.append(delta)
                yield delta
            raw = "".join(parts).strip()
            checked = self.check(raw, found, query, prompts, lead)
            if checked is None:
                yield refuse(Decision(False, decision.probability, decision.confidence, MODEL_REFUSED))
                return
            kept, removed = checked
        text, citations = compose(prompts, quotes, kept, found.evidence)
        yield answer(text=text, refused=False, citations=citations, quotes=quotes, removed=removed, raw=raw,
                     quoted=not kept, answerable=decision.probability, confidence=decision.confidence)

    def invoke(self, question: str, history: History | None = None, top_k: int | None = None) -> Answer:
        """The checked :class:`Answer` (no streaming)."""
        return final_answer(self.stream(question, history, top_k))

    @staticmethod
    def format_evidence(prompts: PromptSet, evidence: Evidence) -> str:
        return prompts.format_evidence([(r.title, r.byline, [(s.id, s.text) for s in sentences])
                                        for r, sentences in evidence.articles()])

    def _generate(self, messages, stop: list[str] | None = None) -> Iterator[str]:
        for chunk in self.model.stream(messages, stop=stop or ["\n\n"]):  # one short paragraph
            delta = chunk.content if isinstance(chunk.content, str) else str(chunk.content)
            if delta:
                yield delta

    def similarity(self, sentence: str, candidates: Sequence[str]) -> Sequence[float]:
        """e5 cosine of an answer sentence (as a query) to evidence sentences (as passages)."""
        return self.vectors(list(candidates)) @ self.query_vector(sentence)

    def model_name(self) -> str:
        """``backend:model`` of the chat model, as each answer records it."""
        return f"{self.settings.llm_backend}:{self.settings.llm_model}"


def _about(evidence: Evidence, subjects: Subjects) -> list[EvidenceSentence]:
    """The evidence sentences an answer can quote, best first: full sentences, not questions,
    about one of the question's subjects (each filter dropped when it would leave none)."""
    quotable = [s for s in evidence.ranked if is_full_sentence(s.text) and not is_question(s.text)] or evidence.ranked
    return [s for s in quotable if subjects.about(s)] or quotable
