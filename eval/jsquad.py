"""Open-retrieval benchmark on the JSQuAD validation split.

Every distinct paragraph becomes one Markdown article (title as heading) and goes through
the product's own ingest into a separate collection; every question is then searched with
BM25 alone, dense alone and the hybrid retriever. Gold = the question's own paragraph.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from chatbot import Chatbot, Settings
from chatbot.retrieval import HybridRetriever

DEFAULT_PATH = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "jsquad" / "valid-v1.3.json"
MODES = ("bm25", "dense", "hybrid")


def load_jsquad(path: Path) -> tuple[list[tuple[str, str]], list[dict]]:
    """Distinct paragraphs as ``(title, context)`` and questions with the index of their paragraph."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    paragraphs: list[tuple[str, str]] = []
    index: dict[str, int] = {}
    questions: list[dict] = []
    for article in data:
        for para in article["paragraphs"]:
            ctx = para["context"]
            if ctx not in index:
                index[ctx] = len(paragraphs)
                body = ctx.split("[SEP]", 1)[1].strip() if "[SEP]" in ctx else ctx
                paragraphs.append((article["title"], body))
            for qa in para["qas"]:
                questions.append({"id": qa["id"], "question": qa["question"], "para": index[ctx],
                                  "answers": [a["text"] for a in qa["answers"]]})
    return paragraphs, questions


def write_articles(paragraphs: list[tuple[str, str]], folder: Path) -> None:
    """One ``NNNN.md`` per paragraph (skipped when already written)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, (title, body) in enumerate(paragraphs):
        f = folder / f"{i:04d}.md"
        text = f"# {title}\n\n{body}\n"
        if not f.exists() or f.read_text(encoding="utf-8") != text:
            f.write_text(text, encoding="utf-8")


def doc_id(i: int) -> str:
    return f"jsquad/{i:04d}.md"


def ranked_docs(results) -> list[str]:
    seen: list[str] = []
    for r in results:
        if r.doc_id not in seen:
            seen.append(r.doc_id)
    return seen


def metrics(ranks: list[int | None]) -> dict:
    """R@1/5/10 and MRR@10 from the 1-based rank of the gold document (None = not found)."""
    n = len(ranks)
    return {
        "R@1": sum(1 for r in ranks if r and r <= 1) / n,
        "R@5": sum(1 for r in ranks if r and r <= 5) / n,
        "R@10": sum(1 for r in ranks if r and r <= 10) / n,
        "MRR@10": sum(1 / r for r in ranks if r and r <= 10) / n,
        "questions": n,
    }


def run_retrieval(path: Path = DEFAULT_PATH, settings: Settings | None = None, limit: int | None = None,
                  modes=MODES, progress: bool = True) -> dict:
    """Ingest JSQuAD into its own collection and measure each retrieval mode."""
    base = settings or Settings()
    settings = base.model_copy(update={"collection": "jsquad"})
    paragraphs, questions = load_jsquad(path)
    if limit:
        questions = questions[:limit]
    folder = Path(settings.data_dir) / "jsquad"
    write_articles(paragraphs, folder)
    bot = Chatbot(settings)
    t0 = time.time()
    report = bot.ingest(folder)
    ingest_s = time.time() - t0
    out = {"paragraphs": len(paragraphs), "ingest": {**report.to_dict(), "seconds": round(ingest_s, 1)},
           "settings": {k: getattr(settings, k) for k in
                        ("chunk_tokens", "chunk_overlap", "candidates", "fusion", "bm25_weight", "rrf_k",
                         "embedding_backend", "embedding_model")},
           "modes": {}}
    for mode in modes:
        retriever = HybridRetriever(store=bot.store, embeddings=bot.embeddings, settings=settings, mode=mode)
        ranks: list[int | None] = []
        t0 = time.time()
        iterator = questions
        if progress:
            from tqdm import tqdm
            iterator = tqdm(questions, desc=mode, unit="q")
        for q in iterator:
            docs = ranked_docs(retriever.search(q["question"], k=20))
            gold = doc_id(q["para"])
            ranks.append(docs.index(gold) + 1 if gold in docs else None)
        m = metrics(ranks)
        m["ms_per_query"] = round(1000 * (time.time() - t0) / len(questions), 1)
        out["modes"][mode] = {k: round(v, 4) if isinstance(v, float) else v for k, v in m.items()}
    return out


def run_answers(path: Path = DEFAULT_PATH, sample: int = 200, settings: Settings | None = None,
                model: str | None = None, seed: int = 0) -> dict:
    """Answer a seeded random sample of questions end to end (retrieval over all paragraphs);
    a hit is an answer containing any reference answer (NFKC, spaces removed)."""
    import random
    import unicodedata

    base = settings or Settings()
    settings = base.model_copy(update={"collection": "jsquad", **({"llm_model": model} if model else {})})
    paragraphs, questions = load_jsquad(path)
    folder = Path(settings.data_dir) / "jsquad"
    write_articles(paragraphs, folder)
    bot = Chatbot(settings)
    bot.ingest(folder)
    picked = random.Random(seed).sample(questions, min(sample, len(questions)))
    norm = lambda t: "".join(unicodedata.normalize("NFKC", t).split())  # noqa: E731
    rows = []
    for i, q in enumerate(picked, start=1):
        answer = bot.ask(q["question"])
        hit = not answer.refused and any(norm(a) in norm(answer.text) for a in q["answers"])
        gold_rank = next((j for j, s in enumerate(answer.sources, start=1) if s.doc_id == doc_id(q["para"])), None)
        rows.append({"id": q["id"], "question": q["question"], "answers": q["answers"], "answer": answer.text,
                     "raw": answer.raw, "refused": answer.refused, "contains_answer": hit, "gold_rank": gold_rank,
                     "total_s": answer.timings.get("total_s")})
        print(f"[{i}/{len(picked)}] {'hit' if hit else 'miss'} {q['question'][:40]}", flush=True)
    n = len(rows)
    return {"model": f"{settings.llm_backend}:{settings.llm_model}", "sample": n, "seed": seed,
            "summary": {"answer_containment": round(sum(r["contains_answer"] for r in rows) / n, 4),
                        "refused": round(sum(r["refused"] for r in rows) / n, 4),
                        "gold_in_sources": round(sum(1 for r in rows if r["gold_rank"]) / n, 4),
                        "total_p50_s": sorted(r["total_s"] for r in rows)[n // 2]},
            "questions": rows}
