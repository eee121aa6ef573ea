"""Which retrieved sentence answers the question: cheap features and a learned ranker.

Every distinct sentence of the retrieved passages is a :class:`Candidate`. :func:`featurize`
describes each one by numbers that cost no model call: its e5 cosine to the question (and to
the question's translation), alone and as a window with its neighbours (the reason often sits
next to the sentence that names the question's terms); IDF-weighted overlap of content words,
alone, in the window and in each neighbour; character-bigram overlap; the passage's rank and
score; the sentence's place in its passage and article; its length and form (a heading, a
question); and the question's type crossed with sentence cues (a reason connective for
なぜ/why, a date for いつ/when, an amount for いくら/how much, a count for 何人, a name for
誰/who). Scores relative to the best candidate are features too, so one linear model fits
questions whose cosines run high or low.

:class:`Ranker` scores them with a learned model (``chatbot/data/ranker.json``: LambdaMART trees,
:mod:`chatbot.trees`, trained by ``python -m eval train-ranker`` on JSQuAD's training paragraphs
and the dev split; that file says what it was trained on and how it scored). :meth:`Ranker.baseline` is the earlier hand-set score
(e5 cosine + 0.5 × lexical overlap + 0.05 × passage rank), kept for comparison in the eval.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .answer_types import expected_kind, holds_kind
from .chunking import split_sentences
from .errors import ModelNotFoundError
from .lexical import tokenize
from .linear import LinearModel, read
from .trees import BoostedTrees
from .retrieval import SearchResult
from .rules import ARTICLE_MARGIN, GAP_CHARS, LEXICAL_WEIGHT, QUESTION_WORDS, RANK_WEIGHT
from .shapes import WHY, form_of, gives_reason, refers_back
from .text import bigrams, is_full_sentence, is_question, language_of

Vectors = Callable[[list[str]], np.ndarray]  # texts -> unit passage vectors (n, dim)


@dataclass(eq=False)
class Candidate:
    """One distinct sentence of a retrieved passage: ``text == result.text[start:end]``."""

    result: SearchResult
    rank: int  # the passage's rank, 0 = best
    start: int
    end: int
    text: str
    doc_pos: int  # offset in the article (passage offset + sentence offset)
    index_in_passage: float = 0.0  # 0 = the passage's first sentence, 1 = its last
    prev: Candidate | None = field(default=None, repr=False)  # the adjacent sentences of the same article
    next: Candidate | None = field(default=None, repr=False)
    score: float = 0.0  # the ranker's score (higher is better)

    @property
    def doc_id(self) -> str:
        return self.result.doc_id


def candidates_of(results: Sequence[SearchResult]) -> list[Candidate]:
    """Every distinct sentence of ``results`` (overlapping passages repeat sentences), in
    retrieval order, each linked to its neighbours in the article when they were retrieved too."""
    out: list[Candidate] = []
    seen: set[tuple[str, str]] = set()
    for rank, r in enumerate(results):
        spans = split_sentences(r.text) or [(0, len(r.text))]
        for j, (s, e) in enumerate(spans):
            text = r.text[s:e]
            if (r.doc_id, text) in seen:
                continue
            seen.add((r.doc_id, text))
            out.append(Candidate(r, rank, s, e, text, r.start + s, j / max(len(spans) - 1, 1)))
    by_doc: dict[str, list[Candidate]] = {}
    for c in sorted(out, key=lambda c: c.doc_pos):
        by_doc.setdefault(c.doc_id, []).append(c)
    for siblings in by_doc.values():
        for a, b in zip(siblings, siblings[1:]):
            if a.doc_pos + len(a.text) + GAP_CHARS >= b.doc_pos:
                a.next, b.prev = b, a
    return out


def content_terms(question: str) -> set[str]:
    """The question's content words (Sudachi normalized forms), without question words."""
    return {t for t in tokenize(question) if t not in QUESTION_WORDS}


_KINDS = ("date", "amount", "quantity", "count", "person")
FEATURES = (
    "dense", "dense_rel", "dense_window", "dense_window_rel", "dense_prev", "dense_next",
    "lexical", "lexical_rel", "lexical_window", "lexical_prev", "lexical_next", "bigrams",
    "passage_rank", "passage_dense", "in_passage", "article_start", "article_position",
    "log_length", "short", "full_sentence", "question", "refers_back", "title_words", "caption",
    "novelty", "novelty_prev", "novelty_next", "after_restatement", "restates_then_next",
    "focus", "focus_rel", "focus_window", "focus_prev", "focus_next", "has_focus",
    "why", "why_reason", "why_reason_next", "kind_asked", "kind_match", "kind_match_next",
    *(f"asks_{k}" for k in _KINDS),
    "baseline", "baseline_rel",
)


def featurize(questions: Sequence[str], candidates: Sequence[Candidate], query_vectors: np.ndarray,
              vectors: Vectors, translated: int = 0) -> np.ndarray:
    """The :data:`FEATURES` of every candidate, shape (n, len(FEATURES)). ``questions`` are the
    forms of the question (as asked, standalone, translated); ``query_vectors`` their e5 query
    vectors. Similarities take the best form. The last ``translated`` forms are translations
    that score only the candidates in their own language (in a mixed archive the question's own
    language's sentences are ranked as without them)."""
    n = len(candidates)
    if n == 0:
        return np.zeros((0, len(FEATURES)), np.float32)
    index = {id(c): i for i, c in enumerate(candidates)}
    prev = [index.get(id(c.prev), -1) for c in candidates]
    nxt = [index.get(id(c.next), -1) for c in candidates]
    own = len(questions) - translated
    languages = [language_of(q) for q in questions]
    # A candidate's language is its passage's: a Latin-only line of a Japanese article
    # ("NVIDIA GB200") is still scored by the Japanese translation.
    passage_language: dict[int, str] = {}
    for c in candidates:
        passage_language.setdefault(id(c.result), language_of(c.result.text))
    applies = np.array([[j < own or passage_language[id(c.result)] == languages[j] for j in range(len(questions))]
                        for c in candidates])  # (n, forms): which forms score which candidate
    sv = vectors([c.text for c in candidates])
    qv = np.asarray(query_vectors, dtype=np.float32).reshape(len(questions), -1)
    dense = np.where(applies, sv @ qv.T, -np.inf).max(axis=1)
    window = sv.copy()
    for i in range(n):
        for j in (prev[i], nxt[i]):
            if j >= 0:
                window[i] += sv[j]
    window /= np.linalg.norm(window, axis=1, keepdims=True)
    dense_window = np.where(applies, window @ qv.T, -np.inf).max(axis=1)

    words = [set(tokenize(c.text)) for c in candidates]
    df: dict[str, int] = {}
    for w in words:
        for t in w:
            df[t] = df.get(t, 0) + 1
    form_terms = [content_terms(q) for q in questions]
    terms_of = [[t for j, t in enumerate(form_terms) if t and applies[i, j]] for i in range(n)]

    def overlap(i: int, ws: set[str]) -> float:
        """IDF-weighted share of the best question form's content words found in ``ws`` (a word
        found in few candidates says more than one found in all: 「略」 vs 「AGI」)."""
        weight = lambda t: math.log(1 + n / (1 + df.get(t, 0)))  # noqa: E731
        # sorted: a set's order follows the hash seed, and float sums follow the order
        return max((sum(weight(t) for t in sorted(q) if t in ws) / sum(weight(t) for t in sorted(q))
                    for q in terms_of[i]), default=0.0)

    lexical = np.array([overlap(i, words[i]) for i in range(n)])
    # The question's focus: its words that are not the article's topic (its title). 「ツバメ・エナジーの熊本
    # 工場はいつ着工？」 over an article titled ツバメ・エナジー熊本工場: the answer is the sentence with
    # 着工, not the lead that names the company, the town and the plant.
    title_words = [content_terms(c.result.title) for c in candidates]
    focus_terms = [[q - title_words[i] for q in terms_of[i]] for i in range(n)]

    def focus_overlap(i: int, ws: set[str]) -> float:
        weight = lambda t: math.log(1 + n / (1 + df.get(t, 0)))  # noqa: E731
        return max((sum(weight(t) for t in sorted(q) if t in ws) / sum(weight(t) for t in sorted(q))
                    for q in focus_terms[i] if q), default=0.0)

    focus = np.array([focus_overlap(i, words[i]) for i in range(n)])
    focus_window = np.array([focus_overlap(i, words[i] | (words[prev[i]] if prev[i] >= 0 else set())
                                           | (words[nxt[i]] if nxt[i] >= 0 else set())) for i in range(n)])
    has_focus = np.array([float(any(q for q in focus_terms[i])) for i in range(n)])
    # How much of a sentence is new against the question: one that only restates it (a heading, a
    # topic sentence 「今回の契約の衝撃は金額だけではありません」) is often followed by the answer.
    asked = [set().union(*terms_of[i]) for i in range(n)]
    novelty = np.array([len(w - asked[i]) / len(w) if w else 0.0 for i, w in enumerate(words)])
    lexical_window = np.array([overlap(i, words[i] | (words[prev[i]] if prev[i] >= 0 else set())
                                       | (words[nxt[i]] if nxt[i] >= 0 else set())) for i in range(n)])
    wanted = [bigrams(q) for q in questions]
    bigram_share = np.array([max((len(b & bigrams(c.text)) / len(b) for j, b in enumerate(wanted) if b and applies[i, j]),
                                 default=0.0) for i, c in enumerate(candidates)])
    k = max(max(c.rank for c in candidates) + 1, 1)
    rank = np.array([1 - c.rank / k for c in candidates])
    baseline = dense + LEXICAL_WEIGHT * lexical + RANK_WEIGHT * rank

    kind = expected_kind(questions[0])
    why = form_of(questions[0]) == WHY
    reason = np.array([gives_reason(c.text) for c in candidates], dtype=np.float32)
    match = np.array([holds_kind(kind, [c.text]) if kind else 0.0 for c in candidates], dtype=np.float32)
    def at(values: np.ndarray, j: list[int]) -> np.ndarray:
        return np.array([values[x] if x >= 0 else 0.0 for x in j])

    columns = {
        "dense": dense, "dense_rel": dense - dense.max(),
        "dense_window": dense_window, "dense_window_rel": dense_window - dense_window.max(),
        "dense_prev": at(dense, prev), "dense_next": at(dense, nxt),
        "lexical": lexical, "lexical_rel": lexical - lexical.max(), "lexical_window": lexical_window,
        "lexical_prev": at(lexical, prev), "lexical_next": at(lexical, nxt), "bigrams": bigram_share,
        "passage_rank": rank, "passage_dense": np.array([c.result.dense or 0.0 for c in candidates]),
        "in_passage": np.array([c.index_in_passage for c in candidates]),
        "article_start": np.array([c.doc_pos < 3 for c in candidates], dtype=np.float32),
        "article_position": np.array([_article_position(c) for c in candidates]),
        "log_length": np.log1p([len(c.text) for c in candidates]),
        "short": np.array([not is_full_sentence(c.text) for c in candidates], dtype=np.float32),
        "full_sentence": np.array([is_full_sentence(c.text) for c in candidates], dtype=np.float32),
        "question": np.array([is_question(c.text) for c in candidates], dtype=np.float32),
        "refers_back": np.array([refers_back(c.text) for c in candidates], dtype=np.float32),
        "title_words": np.array([len(t & words[i]) / max(len(t), 1) for i, t in enumerate(title_words)]),
        "why": np.full(n, float(why)), "why_reason": why * reason, "why_reason_next": why * at(reason, nxt),
        "kind_asked": np.full(n, float(kind is not None)), "kind_match": match, "kind_match_next": at(match, nxt),
        **{f"asks_{k}": np.full(n, float(kind == k)) for k in _KINDS},
        "caption": np.array([bool(_CAPTION.match(c.text)) for c in candidates], dtype=np.float32),
        "novelty": novelty, "novelty_prev": at(novelty, prev), "novelty_next": at(novelty, nxt),
        "after_restatement": at(lexical * (1 - novelty), prev) * novelty,
        "restates_then_next": lexical * (1 - novelty) * at(novelty, nxt),
        "focus": focus, "focus_rel": focus - focus.max(), "focus_window": focus_window,
        "focus_prev": at(focus, prev), "focus_next": at(focus, nxt), "has_focus": has_focus,
        "baseline": baseline, "baseline_rel": baseline - baseline.max(),
    }
    return np.stack([np.asarray(columns[f], dtype=np.float32) for f in FEATURES], axis=1)


_CAPTION = re.compile(r"^\s*(?:図|表|写真|画像|出所|出典|資料|Figure|Fig\.|Table|Source)\s*[\d０-９:：)）]")


def _article_position(c: Candidate) -> float:
    """Where the sentence's passage sits in its article: 0 = the first chunk, 1 = the last."""
    return c.result.meta.chunk_index / max(c.result.meta.n_chunks - 1, 1)


@dataclass(frozen=True)
class Ranker:
    """A learned score over :data:`FEATURES` (higher = more likely the answering sentence)."""

    model: LinearModel | BoostedTrees
    article_margin: float = ARTICLE_MARGIN  # in this ranker's score units: see chatbot.evidence
    # The runner-up sentence is quoted too when it scores within this of the best (in this ranker's
    # units; 0: never). Chosen by `python -m eval train-ranker` on dev by cross-validation.
    quote_margin: float = 0.0

    def score(self, features: np.ndarray) -> np.ndarray:
        """One score per row of ``features``."""
        return self.model(features) if len(features) else np.zeros(0)

    def to_json(self) -> dict:
        return {**self.model.to_json(), "article_margin": self.article_margin, "quote_margin": self.quote_margin}

    @classmethod
    def from_json(cls, data: dict) -> Ranker:
        model = (BoostedTrees.from_json(data, FEATURES) if data.get("kind") == "lightgbm"
                 else LinearModel.from_json(data, FEATURES))
        return cls(model, float(data.get("article_margin", ARTICLE_MARGIN)), float(data.get("quote_margin", 0.0)))

    @classmethod
    def load(cls, path: str | Path | None = None) -> Ranker:
        """The ranker in ``path``, or the shipped one (``chatbot/data/ranker.json``)."""
        if path is None:
            return _shipped()
        return cls.from_json(read(path, "ranker.json"))

    @classmethod
    def baseline(cls) -> Ranker:
        """The earlier hand-set score: e5 cosine + 0.5 × lexical + 0.05 × passage rank."""
        return cls(LinearModel.one(FEATURES, "baseline", {"name": "baseline"}), ARTICLE_MARGIN)


@lru_cache(maxsize=1)
def _shipped() -> Ranker:
    data = read(None, "ranker.json")
    if data is None:
        raise ModelNotFoundError("chatbot/data/ranker.json is missing from the package: reinstall it, or retrain "
                                 "it with `python -m eval train-ranker`.")
    return Ranker.from_json(data)
