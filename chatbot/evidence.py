"""Pick the evidence the model reads: the best sentences of the retrieved passages.

A 1.5B model on 2 CPU cores reads a prompt at 20–75 tokens/s, and a cheap scorer already finds
the answer-bearing sentence: on JSQuAD the top-scored sentence of the top-5 passages holds the
gold answer for 82% of questions, the top 3 for 92% (``../shared/NOTES.md`` §1). So the code
selects a few sentences and the model only decides and phrases.

Every sentence of every retrieved passage is scored against the question (e5 cosine + character
bigram overlap + a small bonus for the passage's rank, :mod:`chatbot.rules`). The best ones are
kept with their immediate neighbours (the subject or date often sits in the sentence before,
the reason in the one after) within a token budget; every article whose best sentence scores
near the top is represented. The kept sentences are numbered 1..n, grouped by article in text
order, and each keeps its exact span in its passage so that a citation quotes it verbatim.
"""

from __future__ import annotations

import math

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .chunking import count_tokens, split_sentences
from .lexical import tokenize
from .retrieval import SearchResult
from .rules import ARTICLE_MARGIN, GAP_CHARS, MAX_EVIDENCE_SENTENCES, NEIGHBOUR_SEEDS, LEXICAL_WEIGHT, QUESTION_WORDS, RANK_WEIGHT

Vectors = Callable[[list[str]], np.ndarray]  # texts -> unit passage vectors (n, dim)


@dataclass
class EvidenceSentence:
    """One numbered evidence sentence: ``text`` is ``result.text[start:end]`` exactly."""

    id: int
    text: str
    result: SearchResult
    start: int
    end: int
    score: float

    @property
    def doc_id(self) -> str:
        return self.result.doc_id

    def to_dict(self) -> dict:
        return {"id": self.id, "text": self.text, "doc_id": self.result.doc_id, "title": self.result.title,
                "chunk_id": self.result.chunk_id, "start": self.start, "end": self.end,
                "score": round(self.score, 4), "page": self.result.page_at(self.start)}


@dataclass
class Evidence:
    """The selected sentences in prompt order (grouped by article, text order within it)."""

    sentences: list[EvidenceSentence] = field(default_factory=list)
    ranked: list[EvidenceSentence] = field(default_factory=list)  # the same sentences, best score first

    def __bool__(self) -> bool:
        return bool(self.sentences)

    def get(self, n: int) -> EvidenceSentence | None:
        return self.sentences[n - 1] if 1 <= n <= len(self.sentences) else None

    def articles(self) -> list[tuple[SearchResult, list[EvidenceSentence]]]:
        """``(a passage of the article, its sentences)`` per article, in prompt order."""
        groups: dict[str, list[EvidenceSentence]] = {}
        for s in self.sentences:
            groups.setdefault(s.doc_id, []).append(s)
        return [(ss[0].result, ss) for ss in groups.values()]

    def tokens(self) -> int:
        return sum(count_tokens(s.text) for s in self.sentences)

    def to_dict(self) -> list[dict]:
        return [s.to_dict() for s in self.sentences]


@dataclass
class _Candidate:
    result: SearchResult
    rank: int
    start: int
    end: int
    text: str
    score: float = 0.0
    doc_pos: int = 0  # position in the article (passage offset + sentence offset)


def score_sentences(questions: Sequence[str], results: Sequence[SearchResult], query_vectors: np.ndarray,
                    vectors: Vectors) -> list[_Candidate]:
    """Every distinct sentence of ``results`` with its score against the best of ``questions``
    (the user's question and, for a follow-up, the standalone form)."""
    candidates: list[_Candidate] = []
    seen: set[tuple[str, str]] = set()
    for rank, r in enumerate(results):
        for s, e in split_sentences(r.text) or [(0, len(r.text))]:
            text = r.text[s:e]
            key = (r.doc_id, text)
            if key in seen:  # overlapping chunks repeat a sentence
                continue
            seen.add(key)
            candidates.append(_Candidate(r, rank, s, e, text, doc_pos=r.start + s))
    if not candidates:
        return []
    dense = vectors([c.text for c in candidates]) @ np.asarray(query_vectors).T  # (n, questions)
    k = max(len(results), 1)
    terms = [t for t in (content_terms(q) for q in questions) if t]
    words = [set(tokenize(c.text)) for c in candidates]
    # A question word found in few of the candidate sentences says more than one found in all
    # (「略」 vs 「AGI」 in an article about AGI): inverse document frequency over the candidates.
    df: dict[str, int] = {}
    for w in words:
        for t in w:
            df[t] = df.get(t, 0) + 1

    def weight(t: str) -> float:
        return math.log(1 + len(candidates) / (1 + df.get(t, 0)))

    for i, c in enumerate(candidates):
        lexical = max((sum(weight(t) for t in q if t in words[i]) / sum(weight(t) for t in q) for q in terms),
                      default=0.0)
        c.score = float(dense[i].max()) + LEXICAL_WEIGHT * lexical + RANK_WEIGHT * (1 - c.rank / k)
    return candidates


def content_terms(question: str) -> set[str]:
    """The question's content words (Sudachi normalized forms), without question words."""
    return {t for t in tokenize(question) if t not in QUESTION_WORDS}


def select_evidence(questions: Sequence[str], results: Sequence[SearchResult], budget_tokens: int,
                    query_vectors: np.ndarray, vectors: Vectors) -> Evidence:
    """The best sentences with their neighbours within ``budget_tokens`` (see module doc).

    The best sentence is always kept, even when it alone is over the budget."""
    candidates = score_sentences(questions, results, query_vectors, vectors)
    if not candidates:
        return Evidence()
    ranked = sorted(candidates, key=lambda c: -c.score)
    # Neighbours are the adjacent sentences of the same article, across passage boundaries
    # (passages overlap by a sentence, and a sentence is kept once).
    by_doc: dict[str, list[_Candidate]] = {}
    for c in sorted(candidates, key=lambda c: c.doc_pos):
        by_doc.setdefault(c.result.doc_id, []).append(c)

    chosen: dict[int, _Candidate] = {}
    used = 0

    def take(c: _Candidate, force: bool = False) -> bool:
        nonlocal used
        if id(c) in chosen:
            return True
        cost = count_tokens(c.text)
        if not force and (used + cost > budget_tokens or len(chosen) >= MAX_EVIDENCE_SENTENCES):
            return False
        chosen[id(c)] = c
        used += cost
        return True

    # Seeds: the best sentence, then the best of every other article that scores near it.
    top = ranked[0].score
    seeds = [ranked[0]]
    for c in ranked[1:]:
        if c.score < top - ARTICLE_MARGIN:
            break
        if all(c.result.doc_id != s.result.doc_id for s in seeds):
            seeds.append(c)
    seeds += [c for c in ranked if c not in seeds]
    def neighbours(c: _Candidate) -> list[_Candidate]:
        siblings = by_doc[c.result.doc_id]
        j = siblings.index(c)
        out = []
        if j > 0 and siblings[j - 1].doc_pos + len(siblings[j - 1].text) + GAP_CHARS >= c.doc_pos:
            out.append(siblings[j - 1])
        if j + 1 < len(siblings) and c.doc_pos + len(c.text) + GAP_CHARS >= siblings[j + 1].doc_pos:
            out.append(siblings[j + 1])
        return out

    # The best NEIGHBOUR_SEEDS sentences come first, then their neighbours, best-scoring first
    # (a sentence pointing forward, 「しかし、OpenAIの選択は違いました。」, is followed by the reason);
    # then further sentences with their neighbours while the budget lasts.
    for i, seed in enumerate(seeds[:NEIGHBOUR_SEEDS]):
        take(seed, force=(i == 0))
    near = {id(n): n for seed in seeds[:NEIGHBOUR_SEEDS] if id(seed) in chosen for n in neighbours(seed)}
    for n in sorted(near.values(), key=lambda c: -c.score):
        take(n)
    for seed in seeds[NEIGHBOUR_SEEDS:]:
        if used >= budget_tokens:
            break
        if take(seed):
            for n in neighbours(seed):
                take(n)

    # Prompt order: articles by their best sentence, sentences in text order.
    picked = list(chosen.values())
    best_of_doc: dict[str, float] = {}
    for c in picked:
        best_of_doc[c.result.doc_id] = max(best_of_doc.get(c.result.doc_id, -1e9), c.score)
    picked.sort(key=lambda c: (-best_of_doc[c.result.doc_id], c.result.doc_id, c.doc_pos))
    sentences = [EvidenceSentence(i, c.text, c.result, c.start, c.end, c.score) for i, c in enumerate(picked, 1)]
    return Evidence(sentences, sorted(sentences, key=lambda s: -s.score))
