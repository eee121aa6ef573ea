"""The 11-25 pipeline's source selection (``chatbot/context.py`` at a31d87c), kept for the
benchmark's old-vs-new comparison (:mod:`bench.old_pipeline`). Unchanged except for absolute
imports and the ``Source.passage()`` helper, dropped (it built the old citation checker's
``Passage``, which no longer exists and which the benchmark does not need).

Pick what the model reads: the best retrieved passages, within a token budget.

On 2 CPU cores a 1.5B model reads a prompt at about 20 tokens/s, so every token of source
text delays the first word of the answer. Passages go into the prompt whole, best first, while
they fit the budget (the hybrid ranking is the strongest relevance signal there is: a sentence
ranked on its own by a small embedding model loses the context that made the passage relevant).
The best passage gets at most half the budget when others wait. A passage that does not fit is
cut down to its most relevant sentences (e5 cosine plus character-bigram overlap with the
question), each with its neighbours. Every passage that
contributes becomes one numbered source; its full text stays available for citation checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from chatbot.chunking import count_tokens, split_sentences
from chatbot.citations import lexical_support
from chatbot.retrieval import SearchResult

LEXICAL_WEIGHT = 0.5  # bigram overlap (0..1) next to the e5 cosine (≈0.7..0.9)
GAP = " … "  # marks left-out sentences between two excerpts of one passage
MIN_EXCERPT_TOKENS = 60  # a smaller remainder of the budget is left empty


@dataclass
class Source:
    """A numbered source in the prompt: the passage and the excerpt the model reads."""

    n: int
    result: SearchResult
    excerpt: str


def select_sources(question: str, results: Sequence[SearchResult], budget_tokens: int,
                   query_vector: np.ndarray | None = None,
                   passage_vectors: Callable[[list[str]], np.ndarray] | None = None) -> list[Source]:
    """Fill ``budget_tokens`` with ``results``, best first (see module doc).

    The best passage always contributes, so a question never goes to the model without its
    most likely evidence.
    """
    sources: list[Source] = []
    used = 0
    # No passage may take more than half the budget while others wait: merged neighbours can
    # make one passage as long as the whole budget, and the second-ranked passage often holds
    # the answer.
    cap = budget_tokens // 2 if len(results) > 1 else budget_tokens
    for r in results:
        left = budget_tokens - used
        limit = left if sources else min(left, cap)
        cost = count_tokens(r.text)
        if cost <= limit:
            excerpt = r.text
        else:
            if sources and left < MIN_EXCERPT_TOKENS:
                break
            excerpt = _excerpt(question, r.text, limit, query_vector, passage_vectors)
            cost = count_tokens(excerpt)
        used += cost
        sources.append(Source(n=len(sources) + 1, result=r, excerpt=excerpt))
        if used >= budget_tokens:
            break
    return sources


def _excerpt(question: str, text: str, budget_tokens: int, query_vector: np.ndarray | None,
             passage_vectors: Callable[[list[str]], np.ndarray] | None) -> str:
    """The most relevant sentences of ``text`` (each with its neighbours) within the budget,
    in their original order, with `` … `` where sentences were left out."""
    spans = split_sentences(text) or [(0, len(text))]
    texts = [text[s:e] for s, e in spans]
    scores = np.array([LEXICAL_WEIGHT * lexical_support(question, t) for t in texts])
    if query_vector is not None and passage_vectors is not None:
        scores += passage_vectors(texts) @ query_vector
    chosen: set[int] = set()
    used = 0
    # The date or subject often sits in the previous sentence, the reason in the next one.
    for best in np.argsort(-scores, kind="stable"):
        for j in (int(best), int(best) - 1, int(best) + 1):
            if j in chosen or not 0 <= j < len(spans):
                continue
            cost = count_tokens(texts[j])
            if chosen and used + cost > budget_tokens:
                continue
            chosen.add(j)
            used += cost
    parts, prev_end = [], None
    for j in sorted(chosen):
        s, e = spans[j]
        if prev_end is not None:
            between = text[prev_end:s]
            parts.append(between if not between.strip() else GAP)
        parts.append(texts[j])
        prev_end = e
    return "".join(parts).strip()
