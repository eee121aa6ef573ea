"""Answer-level evaluation of one split (:mod:`eval.splits`: test ``eval/questions.jsonl``, dev
``eval/dev.jsonl``, news-test/news-dev ``eval/news/*.jsonl``), over a bot that has ingested the split's articles.

Every question goes through ``Chatbot.ask`` exactly as a user's would (follow-ups with their
history); the final answer's JSON (``Answer.to_dict()``) is scored by :mod:`eval.scoring`, which
shares no code with the product's checks. Definitions (also in eval/README.md):

- retrieval: rank of the first retrieved passage from a supporting document (``doc_ids``) and of
  the first passage containing an evidence quote; hit@1/5 and MRR.
- key-fact accuracy: share of a question's key facts found in the answer
  (:func:`eval.scoring.fact_found`); a refused answerable question scores 0. ``all_facts`` = every
  fact found.
- refusals: correct refusals on unanswerable questions, false refusals on answerable ones.
- citation correctness: per answered answerable question, the share of its citations whose quoted
  sentence is a gold evidence sentence (:func:`eval.scoring.citation_correct`); the figure is the
  mean over those answers (answers with no citation are counted apart).
- answer-evidence agreement: share of answered answerable questions with key facts found whose
  found facts all appear in a cited passage.
- wrong-but-cited: answers (not refused, with ≥ 1 citation) that state a number or year found in no
  gold evidence sentence, not in the reference answer and not in the question (a true figure from
  another part of an article counts; ``answers_with_number_in_no_citation`` counts the answers
  with such a number that no cited passage states either).
- the quote floor (:mod:`eval.floor`): the best retrieved sentence quoted verbatim, no LLM, scored
  for key facts the same way; top-3 containment = the facts found in its best three sentences.
- latency: time to first token and total, p50 and p95; the host's prompt-reading speed
  (:mod:`eval.speed`) measured in the same run.
- ``self_check_*`` (:mod:`eval.self_check`): the product's own citation check re-run on its final
  answers; in the JSON only, because the chain enforces it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from . import self_check
from .corpus_retrieval import _norm, load_questions
from .floor import CONTAINMENT_N, floor_row
from .scoring import fact_found, facts_found, score_answer, wrong_numbers  # noqa: F401 - fact_found re-exported
from .splits import EVAL_DIR, SPLITS

RESULTS = Path(__file__).resolve().parent / "results"
HISTORY = "history"  # <results>/<split>/history/<timestamp>.json: every run, not committed (.gitignore)
TOP_N = f"floor_top{CONTAINMENT_N}_fact_accuracy"


def as_dict(answer) -> dict:
    """The JSON form of a ``Chatbot.ask`` answer (already a dict: returned as is)."""
    if isinstance(answer, dict):
        return answer
    if hasattr(answer, "to_dict"):
        return answer.to_dict()
    return dataclasses.asdict(answer)


def _get(obj, key: str, default=None):
    return obj.get(key, default) if isinstance(obj, dict) else getattr(obj, key, default)


def _rank(sources, wanted: Callable[[object], bool]) -> int | None:
    return next((i for i, s in enumerate(sources, start=1) if wanted(s)), None)


def score(q: dict, answer, similarity=None) -> dict:
    """Per-question row: what was asked and answered, retrieval ranks, the independent scores and
    the ``self_check_*`` fields."""
    a = as_dict(answer)
    timings = a.get("timings") or {}
    row = {"id": q["id"], "type": q["type"], "language": q["language"], "question": q["question"],
           "answer": a.get("answer", ""), "refused": bool(a.get("refused")),
           "refusal_reason": a.get("refusal_reason"), "query": a.get("query"),
           "citations": len(a.get("citations") or []),
           **{k: a[k] for k in ("removed", "raw", "missing_terms", "answerable", "confidence", "form", "quotes", "quoted",
                                 "evidence", "timings", "translation")
              if k in a},
           "first_token_s": timings.get("first_token_s"), "total_s": timings.get("total_s"),
           "evidence_s": timings.get("evidence_s")}
    sources = a.get("sources") or []
    row["has_docs"], row["has_evidence"] = bool(q.get("doc_ids")), bool(q.get("evidence"))
    row["doc_rank"] = _rank(sources, lambda s: _get(s, "doc_id") in q.get("doc_ids", []))
    evidence = [_norm(e) for e in q.get("evidence", [])]
    row["evidence_rank"] = (_rank(sources, lambda s: any(e in _norm(_get(s, "text", "")) for e in evidence))
                            if evidence else None)
    row.update(score_answer(q, a))
    row.update(self_check.score(a, similarity))
    return row


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))], 3)


def _mean(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return round(sum(xs) / len(xs), 4) if xs else None


def summarize(rows: list[dict]) -> dict:
    """Aggregate metrics over per-question rows (see the module doc)."""
    answerable = [r for r in rows if r["type"] != "unanswerable"]
    unanswerable = [r for r in rows if r["type"] == "unanswerable"]
    answered = [r for r in rows if not r["refused"]]
    answered_answerable = [r for r in answerable if not r["refused"]]
    with_docs = [r for r in answerable if r.get("has_docs")]
    with_evidence = [r for r in answerable if r.get("has_evidence")]
    by_type = defaultdict(list)
    for r in answerable:
        by_type[r["type"]].append(r.get("fact_accuracy"))
    first = [r["first_token_s"] for r in rows if r.get("first_token_s") is not None and not r["refused"]]
    total = [r["total_s"] for r in rows if r.get("total_s") is not None]
    cited = [r for r in answered_answerable if r.get("citation_correctness") is not None]
    n_cited = sum(len(r.get("cited", [])) for r in cited)
    agreeing = [r for r in answered_answerable if r.get("evidence_agrees") is not None]
    wrong = [r for r in answered if r.get("wrong_numbers")]
    floor = [r for r in answerable if r.get("floor_fact_accuracy") is not None]
    return {
        "questions": len(rows), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "retrieval": {
            "doc_hit@1": _mean([1.0 if r["doc_rank"] == 1 else 0.0 for r in with_docs]),
            "doc_hit@5": _mean([1.0 if r["doc_rank"] and r["doc_rank"] <= 5 else 0.0 for r in with_docs]),
            "doc_MRR": _mean([1 / r["doc_rank"] if r["doc_rank"] else 0.0 for r in with_docs]),
            "evidence_hit@5": _mean([1.0 if r["evidence_rank"] and r["evidence_rank"] <= 5 else 0.0
                                     for r in with_evidence]),
        },
        "fact_accuracy": _mean([r.get("fact_accuracy") for r in answerable]),
        "all_facts_rate": _mean([1.0 if r.get("all_facts") else 0.0 for r in answerable]),
        "fact_accuracy_by_type": {t: _mean(v) for t, v in sorted(by_type.items())},
        "fact_accuracy_by_language": {
            lang: _mean([r.get("fact_accuracy") for r in answerable if r["language"] == lang])
            for lang in ("ja", "en")},
        "correct_refusal_rate": _mean([1.0 if r["refused"] else 0.0 for r in unanswerable]),
        "false_refusal_rate": _mean([1.0 if r["refused"] else 0.0 for r in answerable]),
        "refusal_reasons": {
            group: dict(Counter(r.get("refusal_reason") for r in rs if r["refused"]))
            for group, rs in (("answerable", answerable), ("unanswerable", unanswerable))},
        "answers_with_citation": _mean([1.0 if r["citations"] else 0.0 for r in answered]),
        # independent scores (eval/scoring.py)
        "citation_correctness": _mean([r["citation_correctness"] for r in cited]),
        "citation_correctness_micro":
            round(sum(r["citations_correct"] for r in cited) / n_cited, 4) if n_cited else None,
        "citation_passage_has_gold":
            round(sum(c["passage_has_gold"] for r in cited for c in r.get("cited", [])) / n_cited, 4)
            if n_cited else None,
        "citation_scored_answers": len(cited),
        "answered_without_citation": sum(1 for r in answered_answerable if not r["citations"]),
        "evidence_agreement": _mean([1.0 if r["evidence_agrees"] else 0.0 for r in agreeing]),
        "evidence_agreement_answers": len(agreeing),
        "answers_with_uncited_facts": sum(1 for r in agreeing if not r["evidence_agrees"]),
        "uncited_fact_rate": _mean([0.0 if r["evidence_agrees"] else 1.0 for r in agreeing]),
        "wrong_but_cited": sum(1 for r in wrong if r["citations"]),
        "answers_with_wrong_number": len(wrong),
        "answers_with_number_in_no_citation": sum(1 for r in wrong if r.get("wrong_numbers_in_no_citation")),
        "answered": len(answered),
        # the quote floor (eval/floor.py)
        "floor": {
            "questions": len(floor),
            "fact_accuracy": _mean([r["floor_fact_accuracy"] for r in floor]),
            "all_facts_rate": _mean([1.0 if r.get("floor_all_facts") else 0.0 for r in floor]),
            f"top{CONTAINMENT_N}_fact_accuracy": _mean([r.get(TOP_N) for r in floor]),
            "fact_accuracy_by_language": {
                lang: _mean([r["floor_fact_accuracy"] for r in floor if r["language"] == lang])
                for lang in ("ja", "en")},
            "fact_accuracy_by_type": {
                t: _mean([r["floor_fact_accuracy"] for r in floor if r["type"] == t]) for t in sorted(by_type)},
        },
        "latency": {"first_token_p50_s": _pct(first, 50), "first_token_p95_s": _pct(first, 95),
                    "total_p50_s": _pct(total, 50), "total_p95_s": _pct(total, 95)},
        **self_check.summarize(rows),
    }


def groups(rows: list[dict]) -> dict[str, dict]:
    """Summaries per language and per question type (keys ``ja``, ``en``, ``fact``, …)."""
    out = {}
    for lang in ("ja", "en"):
        sub = [r for r in rows if r["language"] == lang]
        if sub:
            out[lang] = summarize(sub)
    for t in sorted({r["type"] for r in rows}):
        out[t] = summarize([r for r in rows if r["type"] == t])
    return out


def run(bot, questions: list[dict], progress: Callable[[int, int, dict], None] | None = None,
        judge: Callable[[dict, dict], float] | None = None, floor: bool = True) -> dict:
    """Ask every question (and score the quote floor on answerable ones);
    return ``{"summary": ..., "groups": ..., "questions": [...]}``."""
    rows = []
    started = time.perf_counter()
    similarity = getattr(getattr(bot, "chain", None), "similarity", None)
    for i, q in enumerate(questions, start=1):
        answer = as_dict(bot.ask(q["question"], q.get("history")))
        row = score(q, answer, similarity)
        if floor and q["type"] != "unanswerable":
            row.update(floor_row(bot, q))
        if judge is not None:
            row["judge"] = judge(q, answer)
        rows.append(row)
        if progress:
            progress(i, len(questions), row)
    summary = summarize(rows)
    if judge is not None:
        summary["judge_score"] = round(statistics.mean(r["judge"] for r in rows), 4)
    summary["wall_s"] = round(time.perf_counter() - started, 1)
    return {"summary": summary, "groups": groups(rows), "questions": rows}


# ---------------------------------------------------------------------------------------------
# The previous run of the same split, rescored with today's scorers (for the report's deltas)


def rescore(row: dict, q: dict) -> dict:
    """A stored row with the text-based scores recomputed by the current scorers (key facts, wrong
    numbers, citation correctness from stored quotes, the floor's facts), so that a delta between
    two runs shows a change of the product, not of the scorer. Stored values are kept where the
    stored row lacks the inputs (e.g. cited passages' texts for agreement)."""
    row = dict(row)
    answer = {"answer": row.get("answer", ""), "refused": row.get("refused", False),
              "citations": [{"quote": c.get("quote", ""), "n": c.get("n"), "doc_id": c.get("doc_id")}
                            for c in row.get("cited", [])]}
    fresh = score_answer(q, answer)
    for key in ("facts_found", "fact_accuracy", "all_facts", "wrong_numbers"):
        if key in fresh:
            row[key] = fresh[key]
    if "cited" in row and "cited" in fresh:
        for old, new in zip(row["cited"], fresh["cited"]):
            old["correct"] = new["correct"]
        row["citations_correct"] = fresh["citations_correct"]
        row["citation_correctness"] = fresh["citation_correctness"]
    if q["type"] != "unanswerable" and row.get("floor_top"):
        facts = q["key_facts"]
        top1, top = row["floor_top"][:1], row["floor_top"][:CONTAINMENT_N]
        found = facts_found(" ".join(top1), facts)
        found_n = facts_found(" ".join(top), facts)
        if found:
            row["floor_fact_accuracy"] = round(sum(found) / len(found), 4)
            row["floor_all_facts"] = all(found)
            row[TOP_N] = round(sum(found_n) / len(found_n), 4)
    return row


def _load(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def previous_run(folders: list[Path], split: str, questions: list[dict]) -> dict | None:
    """The newest stored run of ``split`` (``latest.json`` or ``history/*.json`` of ``folders``) that
    answered every question of ``questions``, restricted to those questions and rescored:
    ``{"file", "meta", "summary", "groups", "questions"}``.

    Runs on a subset (``--limit``, ``--types``, ``--ids``) are candidates too, but only for runs on
    the same or a smaller subset, so a quick loop never becomes the baseline of a full run.
    """
    by_id = {q["id"]: q for q in questions}
    runs = [(path, data) for f in folders for path in [f / "latest.json", *sorted((f / HISTORY).glob("*.json"))]
            if (data := _load(path)) and "questions" in data]
    runs.sort(key=lambda run: str(run[1].get("meta", {}).get("date", "")), reverse=True)
    for path, data in runs:
        if data.get("meta", {}).get("split", "test") != split:
            continue
        rows = {r["id"]: r for r in data["questions"] if "id" in r}
        if not set(by_id) <= set(rows):
            continue
        kept = [rescore(rows[i], by_id[i]) for i in by_id]
        return {"file": str(path), "meta": data.get("meta", {}), "summary": {**summarize(kept), **{
                    k: v for k, v in data.get("summary", {}).items() if k == "prompt_reading"}},
                "groups": groups(kept)}
    return None


# ---------------------------------------------------------------------------------------------
# python -m eval [--split dev|test]


def _commit() -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "chatbot"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}{'+chatbot changes' if dirty else ''}" if head else None


def select(questions: list[dict], ids: str | None = None, types: str | None = None,
           limit: int | None = None) -> list[dict]:
    """The questions chosen by ``--ids``, ``--types`` and ``--limit`` (in that order)."""
    if ids:
        wanted = [i.strip() for i in ids.split(",") if i.strip()]
        known = {q["id"] for q in questions}
        unknown = [i for i in wanted if i not in known]
        if unknown:
            raise SystemExit(f"unknown question ids: {', '.join(unknown)}")
        questions = [q for q in questions if q["id"] in wanted]
    if types:
        questions = [q for q in questions if q["type"] in types.split(",")]
    return questions[:limit] if limit else questions


def run_eval(args, judge=None) -> int:
    """``python -m eval``: answer one split, write the JSON and the report with deltas."""
    from chatbot import Settings

    from .report import markdown, plot
    from .speed import prompt_reading_speed

    split = getattr(args, "split", None) or "test"
    path = SPLITS[split].questions
    if not path.exists():
        raise SystemExit(f"{path} not found: the {split} split has no questions yet")
    questions = select(load_questions(path), getattr(args, "ids", None), args.types, args.limit)
    if not questions:
        raise SystemExit("no questions selected")
    out = args.results or RESULTS / split
    out.mkdir(parents=True, exist_ok=True)
    previous = previous_run([out], split, questions)

    overrides = {k: v for k, v in (("llm_backend", args.backend), ("llm_model", args.model)) if v}
    bot = SPLITS[split].bot(Settings(**overrides))
    speed = prompt_reading_speed(bot.chat_model)
    print(f"prompt reading: {speed}", file=sys.stderr, flush=True)

    partial = out / "partial.jsonl"  # rows so far, in case a long run is stopped
    partial.write_text("", encoding="utf-8")

    def progress(i: int, n: int, row: dict) -> None:
        verdict = "refused" if row["refused"] else f"facts {row.get('fact_accuracy', '-')}"
        floor = f", floor {row['floor_fact_accuracy']}" if row.get("floor_fact_accuracy") is not None else ""
        print(f"[{i}/{n}] {row['id']} {row['type']}: {verdict}{floor} ({row['total_s']} s)", file=sys.stderr,
              flush=True)
        with partial.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")

    result = run(bot, questions, progress, judge=judge)
    result["summary"]["prompt_reading"] = speed
    now = datetime.now(timezone.utc)
    result["meta"] = {"date": now.isoformat(timespec="seconds"), "split": split,
                      "questions_file": path.relative_to(EVAL_DIR).as_posix(),
                      "articles": SPLITS[split].articles.relative_to(EVAL_DIR.parent).as_posix(),
                      "collection": bot.settings.collection,
                      "selection": {k: getattr(args, k, None) for k in ("ids", "types", "limit")},
                      "model": f"{bot.settings.llm_backend}:{bot.settings.llm_model}", "commit": _commit(),
                      "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                      "settings": json.loads(bot.settings.model_dump_json())}
    if previous:
        result["previous"] = {"file": previous["file"], "date": previous["meta"].get("date"),
                              "model": previous["meta"].get("model"), "commit": previous["meta"].get("commit")}
    text = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
    (out / HISTORY).mkdir(exist_ok=True)
    (out / HISTORY / f"{now.strftime('%Y%m%dT%H%M%SZ')}.json").write_text(text, encoding="utf-8")
    (out / "latest.json").write_text(text, encoding="utf-8")
    partial.unlink()
    picture = plot(result, out / "latest.png")
    (out / "report.md").write_text(markdown(result, picture.name if picture else None, previous), encoding="utf-8")
    print(json.dumps(result["summary"], ensure_ascii=False, indent=2))
    print(f"wrote {out / 'latest.json'}, {out / 'report.md'}", file=sys.stderr)
    return 0
