"""Pick the evidence the model reads: the best-ranked sentences with their neighbours.

A 1.5B model on 2 CPU cores reads a prompt at 20–75 tokens/s, and the answering sentence is
almost always among the first few that a cheap ranker picks (``../shared/NOTES.md`` §1, §5), so
the code selects a few sentences and the model only decides and phrases.

The sentences come ranked from :mod:`chatbot.ranker`. The best ones are kept with their
immediate neighbours (the subject or date often sits in the sentence before, the reason in the
one after) within a token budget; every article whose best sentence ranks near the top is
represented. The kept sentences are numbered 1..n, grouped by article in text order, and each
keeps its exact span in its passage so that a citation quotes it verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from .chunking import count_tokens
from .ranker import Candidate
from .retrieval import SearchResult
from .rules import MAX_EVIDENCE_SENTENCES, NEIGHBOUR_SEEDS


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



def select_evidence(ranked: Sequence[Candidate], budget_tokens: int, article_margin: float) -> Evidence:
    """The best sentences with their neighbours within ``budget_tokens`` (see module doc).

    ``ranked`` is best first; an article is represented when its best sentence scores within
    ``article_margin`` of the best overall. The best sentence is always kept, even when it alone
    is over the budget."""
    if not ranked:
        return Evidence()
    chosen: dict[int, Candidate] = {}
    used = 0

    def take(c: Candidate, force: bool = False) -> bool:
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
    seeds = [ranked[0]]
    for c in ranked[1:]:
        if c.score < ranked[0].score - article_margin:
            break
        if all(c.doc_id != s.doc_id for s in seeds):
            seeds.append(c)
    seeds += [c for c in ranked if c not in seeds]

    def neighbours(c: Candidate) -> list[Candidate]:
        return [n for n in (c.prev, c.next) if n is not None]

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
        best_of_doc[c.doc_id] = max(best_of_doc.get(c.doc_id, -1e9), c.score)
    picked.sort(key=lambda c: (-best_of_doc[c.doc_id], c.doc_id, c.doc_pos))
    sentences = [EvidenceSentence(i, c.text, c.result, c.start, c.end, c.score) for i, c in enumerate(picked, 1)]
    return Evidence(sentences, sorted(sentences, key=lambda s: -s.score))
