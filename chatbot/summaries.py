"""The most central sentences of each article, chosen at ingest, for "要約して" / "summarize".

A summary request is answered (:func:`stream_summary`) with the article's own sentences, each
cited, not with the small model's paraphrase. At ingest, every full sentence of an article that
stands on its own (not a question, not opening with 「これは」/「その」 pointing back) is scored by
the cosine of its stored e5 vector to the article's mean vector (how much of the whole it stands
for), and 3–5 of them (one per ~8 sentences of the article, :mod:`chatbot.rules`) are picked
greedily, each penalized by its similarity to those already picked (maximal marginal relevance,
so that the points differ). They are kept in a small SQLite table next to the store and shown in
article order.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np

from .answer import NO_RELEVANT_SOURCES, Answer, EvidenceFound, Quote, StreamEvent, since
from .chunking import split_sentences
from .embeddings import PassageVectors
from .evidence import Evidence, EvidenceSentence
from .prompts import prompts_for
from .quotes import compose, quote_block
from .retrieval import SearchResult
from .rules import SUMMARY_DIVERSITY, SUMMARY_MAX, SUMMARY_MIN, SUMMARY_PER
from .store import ChunkStore
from .shapes import SUMMARY, about_several, refers_back
from .text import is_full_sentence, is_question

if TYPE_CHECKING:
    from .chain import AnswerChain
    from .steps import Query


class Summaries:
    """Central sentences per article: :meth:`update` at ingest, :meth:`central` at question time."""

    def __init__(self, store: ChunkStore, vectors: PassageVectors, path: str | Path) -> None:
        self.store = store
        self.vectors = vectors
        self.path = path
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS central (doc_id TEXT, position INTEGER, chunk_id TEXT, "
                       "start INTEGER, end INTEGER, PRIMARY KEY (doc_id, position))")

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def update(self, doc_id: str) -> int:
        """Choose and store the central sentences of ``doc_id`` (its chunks as stored now);
        returns how many were stored."""
        picked = central_sentences(self.store.chunks_of(doc_id), self.vectors)
        with self._db() as db:
            db.execute("DELETE FROM central WHERE doc_id = ?", (doc_id,))
            db.executemany("INSERT INTO central VALUES (?, ?, ?, ?, ?)",
                           [(doc_id, i, cid, s, e) for i, (cid, s, e) in enumerate(picked)])
        return len(picked)

    def has(self, doc_id: str) -> bool:
        with self._db() as db:
            return db.execute("SELECT 1 FROM central WHERE doc_id = ? LIMIT 1", (doc_id,)).fetchone() is not None

    def remove(self, doc_id: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM central WHERE doc_id = ?", (doc_id,))

    def central(self, doc_id: str) -> list[EvidenceSentence]:
        """The stored central sentences of ``doc_id`` in article order, numbered 1..n (empty when
        the article was ingested before summaries existed, or is gone)."""
        with self._db() as db:
            rows = db.execute("SELECT chunk_id, start, end FROM central WHERE doc_id = ? ORDER BY position",
                              (doc_id,)).fetchall()
        chunks = {h.chunk_id: SearchResult.of_chunk(h.chunk_id, h.text, h.meta)
                  for h in self.store.get(sorted({r[0] for r in rows}))}
        sentences = [(chunks[c], s, e) for c, s, e in rows if c in chunks]
        sentences.sort(key=lambda x: x[0].start + x[1])
        return [EvidenceSentence(i, r.text[s:e], r, s, e, 0.0) for i, (r, s, e) in enumerate(sentences, 1)]


def central_sentences(chunks, vectors: PassageVectors) -> list[tuple[str, int, int]]:
    """``(chunk_id, start, end)`` of the article's central full sentences (see module doc), in
    the order picked. ``chunks`` are the article's stored chunks (``Hit``s) in text order."""
    spans: list[tuple[str, int, int, str]] = []
    seen: set[str] = set()
    for h in chunks:
        for s, e in split_sentences(h.text):
            text = h.text[s:e]
            if text not in seen:  # overlapping chunks repeat a sentence
                seen.add(text)
                spans.append((h.chunk_id, s, e, text))
    if not spans:
        return []
    v = vectors([t for *_, t in spans])
    centroid = v.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    relevance = v @ centroid
    # A point must stand on its own: not a question, not a heading, not 「これは…」 pointing back.
    eligible = [i for i, (*_, t) in enumerate(spans) if is_full_sentence(t) and not is_question(t)
                and not refers_back(t)]
    n = min(max(SUMMARY_MIN, min(SUMMARY_MAX, len(spans) // SUMMARY_PER)), len(eligible))
    picked: list[int] = []
    while len(picked) < n:
        best = max((i for i in eligible if i not in picked),
                   key=lambda i: relevance[i] - SUMMARY_DIVERSITY * max((float(v[i] @ v[j]) for j in picked), default=0.0))
        picked.append(best)
    return [spans[i][:3] for i in picked]


def stream_summary(chain: AnswerChain, query: Query, t0: float) -> Iterator[StreamEvent]:
    """The chain's answer to a summary request: the most central sentences of the best-matching
    article (of the best two when the question is about both), each cited."""
    prompts = prompts_for(query.language)
    results = chain.retriever.search(query.search_text, query.top_k)
    relevant = results and max(r.dense or 0.0 for r in results) >= chain.settings.min_relevance
    docs = list(dict.fromkeys(r.doc_id for r in results))[:2 if about_several(query.question) else 1]
    central = [s for d in docs for s in chain.summaries.central(d)] if relevant else []
    sentences = [EvidenceSentence(i, s.text, s.result, s.start, s.end, s.score) for i, s in enumerate(central, 1)]
    evidence = Evidence(sentences, sentences)
    timings = {"evidence_s": since(t0)}
    yield EvidenceFound(evidence, results, query.language)
    common = dict(question=query.question, sources=results, language=query.language, query=query.search_text,
                  model=chain.model_name(), form=SUMMARY, evidence=evidence.to_dict(), timings=timings)
    if not sentences:
        timings["first_token_s"] = timings["total_s"] = since(t0)
        yield Answer(text=prompts.refusal, refused=True, citations=[], refusal_reason=NO_RELEVANT_SOURCES, **common)
        return
    quotes: list[Quote] = []
    for event in chain.quotes(prompts, query, sentences, evidence, bullets=True):
        if isinstance(event, list):
            quotes = event
        else:
            timings.setdefault("first_token_s", since(t0))
            yield event
    _, citations = compose(prompts, quotes, [], evidence, bullets=True)
    by_doc: dict[str, list[Quote]] = {}
    for q, s in zip(quotes, sentences):
        by_doc.setdefault(s.doc_id, []).append(q)
    titles = {s.doc_id: s.result.title for s in sentences}
    text = "\n".join(prompts.summary.format(title=titles[d]) + "\n" + quote_block(prompts, qs, bullets=True)
                     for d, qs in by_doc.items())
    timings["total_s"] = since(t0)
    yield Answer(text=text, refused=False, citations=citations, quotes=quotes, quoted=True, **common)
