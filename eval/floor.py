"""The quote floor: the best sentence of the retrieved passages, quoted verbatim, with no LLM.

Recipe (``../shared/NOTES.md`` §1): retrieve with the product's public search
(``Chatbot.search(query, k=5)``), split the passages into sentences, score every sentence by
the e5 cosine between the question (``query:``) and the sentence (``passage:``) plus
``BIGRAM_WEIGHT`` × the share of the question's character bigrams that the sentence contains,
and answer with the top sentence. Any answer step that scores below this floor on the same
questions loses information the retrieval already had.

:func:`floor_sentences` is shared with the JSQuAD runner; :func:`floor_row` scores one eval
question with the same independent key-fact matcher as the pipeline (:mod:`eval.scoring`).
"""

from __future__ import annotations

import threading
import time

import numpy as np

from chatbot.chunking import split_sentences

from .corpus_retrieval import retrieval_query
from .scoring import bigrams, fact_found

BIGRAM_WEIGHT = 0.5
TOP_K = 5  # passages retrieved
CONTAINMENT_N = 3  # the floor's top-N containment figure

# Sentence vectors by (embedding model, sentence), this process only: the same article sentences
# come back for many questions and embedding costs ~0.1 s each on 2 cores. Retrieval is not cached.
_VECTORS: dict[tuple[str, str], np.ndarray] = {}
_LOCK = threading.Lock()
_MAX_VECTORS = 50_000


def passage_sentences(texts: list[str]) -> list[str]:
    """The sentences of the passages, in order, each once (neighbouring passages may overlap)."""
    seen: dict[str, None] = {}
    for text in texts:
        for start, end in split_sentences(text):
            sentence = text[start:end].strip()
            if len(sentence) >= 2 and not sentence.startswith("#"):
                seen.setdefault(sentence)
    return list(seen)


def _vectors(embeddings, sentences: list[str]) -> np.ndarray:
    model = getattr(embeddings, "model_id", type(embeddings).__name__)
    with _LOCK:
        missing = [s for s in sentences if (model, s) not in _VECTORS]
    if missing:
        fresh = np.asarray(embeddings.embed_passages(missing), dtype=np.float32)
        with _LOCK:
            if len(_VECTORS) + len(missing) > _MAX_VECTORS:
                _VECTORS.clear()
            _VECTORS.update(((model, s), v) for s, v in zip(missing, fresh))
            return np.stack([_VECTORS[(model, s)] for s in sentences])
    with _LOCK:
        return np.stack([_VECTORS[(model, s)] for s in sentences])


def score_sentences(bot, question: str, sentences: list[str]) -> list[tuple[float, str]]:
    """``(score, sentence)`` best first: e5 cosine + BIGRAM_WEIGHT × share of question bigrams."""
    if not sentences:
        return []
    query = np.asarray(bot.embeddings.embed_queries([question]), dtype=np.float32)[0]
    cosine = _vectors(bot.embeddings, sentences) @ query
    wanted = bigrams(question)
    lexical = [len(wanted & bigrams(s)) / len(wanted) if wanted else 0.0 for s in sentences]
    scored = [(float(c) + BIGRAM_WEIGHT * lx, s) for c, lx, s in zip(cosine, lexical, sentences)]
    return sorted(scored, key=lambda t: -t[0])


def ranked_sentences(bot, question: str, k: int = TOP_K) -> list[tuple[float, str]]:
    """Every sentence of the top-``k`` passages for ``question``, scored, best first."""
    results = bot.search(question, k=k)
    return score_sentences(bot, question, passage_sentences([r.text for r in results]))


def floor_sentences(bot, question: str, k: int = TOP_K, n: int = 1) -> list[str]:
    """The floor's answer: the ``n`` best sentences of the top-``k`` passages, verbatim.

    For a follow-up, pass the previous user question and the question joined (:func:`floor_query`).
    """
    return [s for _, s in ranked_sentences(bot, question, k)[:n]]


def floor_query(q: dict) -> str:
    """The floor's question: for follow-ups, the previous user question + the question."""
    return retrieval_query(q)


def floor_row(bot, q: dict, k: int = TOP_K) -> dict:
    """The floor on one answerable eval question: its answer, top-N sentences and key-fact scores."""
    t0 = time.perf_counter()
    top = floor_sentences(bot, floor_query(q), k=k, n=CONTAINMENT_N)
    top1 = top[:1]
    facts = q.get("key_facts", [])
    found = [fact_found(" ".join(top1), v) for v in facts]
    found_n = [fact_found(" ".join(top), v) for v in facts]
    return {
        "floor_answer": top1[0] if top1 else "",
        "floor_top": top,
        "floor_fact_accuracy": round(sum(found) / len(found), 4) if found else None,
        "floor_all_facts": bool(found) and all(found),
        f"floor_top{CONTAINMENT_N}_fact_accuracy": round(sum(found_n) / len(found_n), 4) if found_n else None,
        "floor_s": round(time.perf_counter() - t0, 3),
    }
