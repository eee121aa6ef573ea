"""Open-retrieval benchmark on the JSQuAD validation split.

Every distinct paragraph becomes one Markdown article (title as heading) and goes through
the product's own ingest into a separate collection; every question is then searched with
BM25 alone, dense alone and the hybrid retriever. Gold = the question's own paragraph.

End to end (`python -m eval jsquad --answers N --unanswerable M`):

- *answerable*: N questions asked over all paragraphs; a hit is an answer containing a reference
  answer string (NFKC, whitespace removed). The quote floor (`eval/floor.py`, best-scoring retrieved
  sentence, no LLM) is scored on the same questions with the same rule.
- *gold removed*: M questions asked over a second collection that holds every paragraph except the
  sampled questions' own ones. The right answer is a refusal, unless a reference answer string occurs
  in a retrieved passage (then the question is excluded from the rate and counted as excluded).

Both samples come from the held-out paragraphs only (:func:`split_paragraphs`: the paragraphs of a
seeded ~40% of the articles; the rest train the sentence ranker and the answerability calibration): they are split into two halves
at random, answerable questions come from one half and gold-removed questions (one per paragraph)
from the other, so the two sets never share a paragraph and each set is the same whatever the other's
size (a larger N extends a smaller N's sample).
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable

from chatbot import Chatbot, Settings
from chatbot.retrieval import HybridRetriever

DEFAULT_PATH = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "jsquad" / "valid-v1.3.json"
MODES = ("bm25", "dense", "hybrid")
SEED = 0  # the default seed of both end-to-end samples (`--seed`)
FLOOR_K, FLOOR_N = 5, 1  # quote floor: top-1 sentence of the top-5 retrieved passages


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


def write_articles(paragraphs: list[tuple[str, str]], folder: Path, leave_out: Iterable[int] = ()) -> None:
    """One ``NNNN.md`` per paragraph (skipped when already written); paragraphs in ``leave_out`` get
    no file (and lose one written before)."""
    folder.mkdir(parents=True, exist_ok=True)
    leave_out = set(leave_out)
    for i, (title, body) in enumerate(paragraphs):
        f = folder / f"{i:04d}.md"
        if i in leave_out:
            f.unlink(missing_ok=True)
            continue
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
                  modes=MODES, progress: bool = True, keyword_indexes: Iterable[str] = ()) -> dict:
    """Ingest JSQuAD into its own collection and measure each retrieval mode; for each of
    ``keyword_indexes`` (other keyword engines, ``CHATBOT_KEYWORD_INDEX``) the modes that use BM25
    again, as ``bm25[engine]`` and ``hybrid[engine]``, on the same collection in the same run."""
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
           "keyword_index": settings.keyword_index, "modes": {}}
    runs = [(mode, mode, bot.store) for mode in modes]
    for engine in keyword_indexes:
        other = Chatbot(settings.model_copy(update={"keyword_index": engine}), embeddings=bot.embeddings)
        runs += [(f"{mode}[{engine}]", mode, other.store) for mode in modes if mode != "dense"]
    for name, mode, store in runs:
        retriever = HybridRetriever(store=store, embeddings=bot.embeddings, settings=store.settings, mode=mode)
        t0 = time.time()
        store.keyword.catch_up()  # an index that does not match the store yet is built from it here
        build_s = time.time() - t0
        ranks: list[int | None] = []
        t0 = time.time()
        iterator = questions
        if progress:
            from tqdm import tqdm
            iterator = tqdm(questions, desc=name, unit="q")
        for q in iterator:
            docs = ranked_docs(retriever.search(q["question"], k=20))
            gold = doc_id(q["para"])
            ranks.append(docs.index(gold) + 1 if gold in docs else None)
        m = metrics(ranks)
        m["ms_per_query"] = round(1000 * (time.time() - t0) / len(questions), 1)
        if mode != "dense":
            m["keyword_index_build_s"] = round(build_s, 2)
        out["modes"][name] = {k: round(v, 4) if isinstance(v, float) else v for k, v in m.items()}
    return out


def norm(text: str) -> str:
    """NFKC with all whitespace removed: the containment rule's normal form."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def contains_answer(answers: list[str], text: str) -> bool:
    """Any reference answer string occurs in ``text`` (both normalized by :func:`norm`)."""
    t = norm(text)
    return any(a and a in t for a in map(norm, answers))


HELD_OUT = 0.4  # share of the paragraphs held out from training (the ranker, the calibration)


def split_paragraphs(paragraphs: list[tuple[str, str]], seed: int = SEED) -> tuple[list[int], list[int]]:
    """``(training, held_out)`` paragraph indices, split by article: the articles (JSQuAD titles) in
    a seeded order are held out until they hold ``HELD_OUT`` of the paragraphs, so no article has
    paragraphs on both sides. Everything trained on JSQuAD uses only the training paragraphs;
    JSQuAD figures are reported only on the held-out ones."""
    titles = sorted({t for t, _ in paragraphs})
    random.Random(seed).shuffle(titles)
    held: set[str] = set()
    for t in titles:
        if sum(1 for title, _ in paragraphs if title in held) >= HELD_OUT * len(paragraphs):
            break
        held.add(t)
    train = [i for i, (t, _) in enumerate(paragraphs) if t not in held]
    return train, [i for i, (t, _) in enumerate(paragraphs) if t in held]


def samples(questions: list[dict], paragraphs: Iterable[int], seed: int = SEED) -> tuple[list[dict], list[dict]]:
    """The questions of ``paragraphs`` in a seeded order, split into an answerable pool and a
    gold-removed pool.

    The paragraphs are shuffled and alternately assigned to the two pools; the gold-removed pool keeps
    one question per paragraph (the first in the order). Take a prefix of each list as the sample:
    the pools share no paragraph and neither depends on the other's sample size.
    """
    rng = random.Random(seed)
    order = list(range(len(questions)))
    rng.shuffle(order)
    paras = sorted(set(paragraphs))
    rng.shuffle(paras)
    answerable_paras = set(paras[0::2])
    allowed = set(paras)
    answerable, removed, used = [], [], set()
    for i in order:
        q = questions[i]
        if q["para"] not in allowed:
            continue
        if q["para"] in answerable_paras:
            answerable.append(q)
        elif q["para"] not in used:
            used.add(q["para"])
            removed.append(q)
    return answerable, removed


def leave_out_key(paras: Iterable[int]) -> str:
    """A short, stable name for a set of left-out paragraphs (the cached collection's suffix)."""
    return hashlib.sha1(",".join(map(str, sorted(set(paras)))).encode()).hexdigest()[:12]


def score_gold_removed(q: dict, answer, left_out: set[str] = frozenset()) -> dict:
    """One gold-removed question's row. ``answer`` needs ``text``, ``refused``, ``refusal_reason``,
    ``sources`` (``.text``, ``.doc_id``) and ``timings``. Excluded when a retrieved passage holds a
    reference answer string (the index still answers it); a retrieved doc id in ``left_out`` means
    the gold paragraph leaked into the index, which is a bug, not a result."""
    leaked = sorted({s.doc_id for s in answer.sources} & set(left_out))
    if leaked:
        raise RuntimeError(f"left-out paragraph(s) {leaked} retrieved for {q['id']}: the index is not gold-removed")
    excluded = any(contains_answer(q["answers"], s.text) for s in answer.sources)
    return {"id": q["id"], "question": q["question"], "answers": q["answers"], "answer": answer.text,
            "refused": answer.refused, "reason": answer.refusal_reason, "excluded": excluded,
            "correct": None if excluded else bool(answer.refused),
            "contains_answer": not answer.refused and contains_answer(q["answers"], answer.text),
            "retrieved": [s.doc_id for s in answer.sources], "total_s": (answer.timings or {}).get("total_s"),
            "answerable": getattr(answer, "answerable", None), "confidence": getattr(answer, "confidence", None)}


def summarize_gold_removed(rows: list[dict]) -> dict:
    """Correct refusals over the questions that count, refusal reasons, and how many were excluded."""
    counted = [r for r in rows if not r["excluded"]]
    n = len(counted)
    correct = sum(1 for r in counted if r["refused"])
    return {"questions": len(rows), "excluded": len(rows) - n, "counted": n, "correct_refusals": correct,
            "correct_refusal_rate": round(correct / n, 4) if n else None,
            "refusal_reasons": dict(Counter(r["reason"] or "unknown" for r in counted if r["refused"]).most_common()),
            "answered_with_reference_anyway": sum(1 for r in counted if r["contains_answer"]),
            "total_p50_s": _p50(r["total_s"] for r in rows)}


def _p50(values: Iterable[float | None]):
    v = sorted(x for x in values if x is not None)
    return v[len(v) // 2] if v else None


def _floor() -> Callable | None:
    try:
        from .floor import floor_sentences
    except ImportError as exc:
        print(f"quote floor not scored: {exc}", file=sys.stderr)
        return None
    return floor_sentences


def _settings(settings: Settings | None, model: str | None, collection: str) -> Settings:
    base = settings or Settings()
    return base.model_copy(update={"collection": collection, **({"llm_model": model} if model else {})})


def _bot(settings: Settings, shared: Chatbot | None) -> Chatbot:
    """A bot on ``settings``' collection that reuses ``shared``'s embedder and chat model (loaded once)."""
    if shared is None:
        return Chatbot(settings)
    return Chatbot(settings, embeddings=shared.embeddings, chat_model=shared.chat_model)


def run_answers(path: Path = DEFAULT_PATH, sample: int = 200, settings: Settings | None = None,
                model: str | None = None, seed: int = SEED, shared: Chatbot | None = None) -> dict:
    """Answer ``sample`` questions of the answerable pool end to end (retrieval over all paragraphs);
    a hit is an answer containing a reference answer. The quote floor is scored on the same questions."""
    paragraphs, questions = load_jsquad(path)
    settings = _settings(settings, model, "jsquad")
    folder = Path(settings.data_dir) / "jsquad"
    write_articles(paragraphs, folder)
    bot = _bot(settings, shared)
    t0 = time.time()
    report = bot.ingest(folder)
    ingest = {**report.to_dict(), "seconds": round(time.time() - t0, 1)}
    print(f"full index {settings.collection}: {len(paragraphs)} paragraphs, {report.chunks_added} chunks embedded, "
          f"{ingest['seconds']} s", file=sys.stderr, flush=True)
    picked = samples(questions, split_paragraphs(paragraphs, seed)[1], seed)[0][:sample]
    floor = _floor()
    rows = []
    for i, q in enumerate(picked, start=1):
        row = {"id": q["id"], "question": q["question"], "answers": q["answers"]}
        if floor:  # first: no LLM, and a broken floor fails before the slow part
            row["floor"] = floor(bot, q["question"], k=FLOOR_K, n=FLOOR_N)
            row["floor_contains_answer"] = contains_answer(q["answers"], "\n".join(row["floor"]))
        answer = bot.ask(q["question"])
        hit = not answer.refused and contains_answer(q["answers"], answer.text)
        gold_rank = next((j for j, s in enumerate(answer.sources, start=1) if s.doc_id == doc_id(q["para"])), None)
        row.update({"answer": answer.text, "raw": answer.raw, "refused": answer.refused,
                    "reason": answer.refusal_reason, "contains_answer": hit, "gold_rank": gold_rank,
                    "total_s": answer.timings.get("total_s"), "answerable": getattr(answer, "answerable", None),
                    "confidence": getattr(answer, "confidence", None)})
        rows.append(row)
        print(f"[answerable {i}/{len(picked)}] {'hit' if hit else 'miss'}"
              f"{' (floor hit)' if row.get('floor_contains_answer') else ''} {q['question'][:40]}",
              file=sys.stderr, flush=True)
    n = len(rows)
    summary = {"answer_containment": round(sum(r["contains_answer"] for r in rows) / n, 4) if n else None,
               "floor_containment": (round(sum(r["floor_contains_answer"] for r in rows) / n, 4)
                                     if floor and n else None),
               "refused": round(sum(r["refused"] for r in rows) / n, 4) if n else None,
               "refusal_reasons": dict(Counter(r["reason"] or "unknown" for r in rows if r["refused"]).most_common()),
               "gold_in_sources": round(sum(1 for r in rows if r["gold_rank"]) / n, 4) if n else None,
               "total_p50_s": _p50(r["total_s"] for r in rows)}
    return {"model": f"{settings.llm_backend}:{settings.llm_model}", "sample": n, "seed": seed,
            "collection": settings.collection, "ingest": ingest,
            "floor": {"k": FLOOR_K, "n": FLOOR_N} if floor else None, "summary": summary,
            "questions": rows}


def run_unanswerable(path: Path = DEFAULT_PATH, sample: int = 100, settings: Settings | None = None,
                     model: str | None = None, seed: int = SEED, shared: Chatbot | None = None) -> dict:
    """Ask ``sample`` questions of the gold-removed pool over an index without their own paragraphs.

    The index is a collection of its own (``jsquad-minus-<key>``, key = hash of the left-out set)
    ingested from ``<data_dir>/jsquad-minus/<key>/jsquad/`` (doc ids stay ``jsquad/NNNN.md``); an
    unchanged set is ingested once and reused."""
    paragraphs, questions = load_jsquad(path)
    picked = samples(questions, split_paragraphs(paragraphs, seed)[1], seed)[1][:sample]
    paras = sorted({q["para"] for q in picked})
    key = leave_out_key(paras)
    settings = _settings(settings, model, f"jsquad-minus-{key}")
    root = Path(settings.data_dir) / "jsquad-minus" / key
    folder = root / "jsquad"
    write_articles(paragraphs, folder, leave_out=paras)
    (root / "left-out.json").write_text(json.dumps({"paragraphs": paras, "questions": [q["id"] for q in picked]}))
    heldout = _bot(settings, shared)
    t0 = time.time()
    report = heldout.ingest(folder, prune=True)
    ingest = {**report.to_dict(), "seconds": round(time.time() - t0, 1)}
    print(f"gold-removed index {settings.collection}: {len(paragraphs) - len(paras)} paragraphs, "
          f"{report.chunks_added} chunks embedded, {ingest['seconds']} s", file=sys.stderr, flush=True)
    left_out = {doc_id(p) for p in paras}
    rows = []
    for i, q in enumerate(picked, start=1):
        row = score_gold_removed(q, heldout.ask(q["question"]), left_out)
        rows.append(row)
        verdict = "excluded" if row["excluded"] else (f"refused ({row['reason']})" if row["refused"] else "answered")
        print(f"[gold removed {i}/{len(picked)}] {verdict} {q['question'][:40]}",
              file=sys.stderr, flush=True)
    return {"model": f"{settings.llm_backend}:{settings.llm_model}", "sample": len(rows), "seed": seed,
            "collection": settings.collection, "paragraphs_in_index": len(paragraphs) - len(paras),
            "ingest": ingest, "summary": summarize_gold_removed(rows), "questions": rows}


def tradeoff_table(answers: dict | None, unanswerable: dict | None) -> str:
    """The one table of a run: answerable containment (pipeline and quote floor) next to correct
    refusals with the gold paragraph removed."""
    run = answers or unanswerable
    lines = [f"JSQuAD end to end, {run['model']}, seed {run['seed']}", "",
             "| set | questions | measure | pipeline | quote floor |", "|---|---|---|---|---|"]
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    if answers:
        s = answers["summary"]
        floor = f"{fmt(s['floor_containment'])} (top-{FLOOR_N} of {FLOOR_K})" if answers.get("floor") else "not scored"
        lines.append(f"| answerable, full index | {answers['sample']} | answer containment | "
                     f"{fmt(s['answer_containment'])} | {floor} |")
        lines.append(f"| answerable, full index | {answers['sample']} | refused (false refusals) | "
                     f"{fmt(s['refused'])} | 0 (never refuses) |")
    if unanswerable:
        s = unanswerable["summary"]
        lines.append(f"| gold paragraph removed | {s['counted']} ({s['excluded']} excluded: answer in a retrieved "
                     f"passage) | correct refusals | {fmt(s['correct_refusal_rate'])} | 0 (never refuses) |")
    lines.append("")
    if answers and answers["summary"]["refusal_reasons"]:
        lines.append(f"refusal reasons, answerable: {answers['summary']['refusal_reasons']}")
    if unanswerable:
        lines.append(f"refusal reasons, gold removed: {unanswerable['summary']['refusal_reasons']}")
    return "\n".join(lines)
