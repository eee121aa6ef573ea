"""Sweep fusion settings on JSQuAD from cached candidate lists (`python -m eval fusion-sweep`).

Dense and BM25 candidates are computed once per question through the product's retriever
(needs `python -m eval jsquad` to have ingested the collection), then every fusion setting
is scored with the product's own ``fuse`` function.
"""

from __future__ import annotations

import itertools
import pickle
from pathlib import Path

from chatbot import Chatbot, Settings
from chatbot.retrieval import fuse

from .jsquad import doc_id, load_jsquad, metrics, ranked_docs


def candidates(path: Path, settings: Settings, n: int = 60) -> list:
    cache = Path(settings.data_dir) / "jsquad-candidates.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    _, questions = load_jsquad(path)
    retriever = Chatbot(settings.model_copy(update={"collection": "jsquad"})).retriever
    out = [(retriever.dense_candidates(q["question"], n), retriever.bm25_candidates(q["question"], n))
           for q in questions]
    cache.write_bytes(pickle.dumps(out))
    return out


def sweep(path: Path, settings: Settings | None = None) -> list[dict]:
    settings = settings or Settings()
    _, questions = load_jsquad(path)
    cands = candidates(path, settings)
    grid = [("rrf", n, w, k) for n, w, k in itertools.product((20, 30, 60), (0.75, 1.0, 1.5, 2.0), (5, 20, 60))]
    grid += [("convex", n, w, 0) for n, w in itertools.product((20, 30, 60), (0.8, 1.0, 1.2, 1.5))]
    rows = []
    for method, n, weight, rrf_k in grid:
        ranks = []
        for q, (dense, bm25) in zip(questions, cands):
            docs = ranked_docs(fuse(dense[:n], bm25[:n], 20, method, weight, rrf_k or 60))[:10]
            gold = doc_id(q["para"])
            ranks.append(docs.index(gold) + 1 if gold in docs else None)
        m = {k: round(v, 4) for k, v in metrics(ranks).items() if k != "questions"}
        row = {"fusion": method, "candidates": n, "bm25_weight": weight, "rrf_k": rrf_k or None, **m}
        print(row, flush=True)
        rows.append(row)
    return rows
