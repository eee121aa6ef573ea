"""``python -m eval threshold``: the answerability threshold applied to a stored run.

The chain refuses when the calibrated probability that the answer is right (``confidence`` in
each row; ``answerable``, the model's P(yes), in runs before the calibration) is below
``CHATBOT_MIN_CONFIDENCE``; nothing else in the chain depends on it. So one run with the
threshold at 0 (every answer written and scored) gives, for any threshold, exactly the rows the
chain would produce: those below it become refusals. This prints the curve and, with
``--write``, the run at one threshold as its own JSON and report (for the dev split's tuning).

Given a JSQuAD results folder (``python -m eval jsquad --answers N --unanswerable N`` run at
threshold 0), it prints answer containment and correct refusals per threshold instead and
writes them to ``thresholds.json`` in that folder.
"""

from __future__ import annotations

import json
from pathlib import Path

REFUSAL_REASON = "decided_not_answerable"


def refused_at(row: dict, threshold: float) -> bool:
    """Whether the chain would have refused ``row`` at ``threshold`` (in code, or its confidence below it)."""
    p = row.get("confidence", row.get("answerable"))
    return bool(row.get("refused")) or (p is not None and p < threshold)


def refuse_below(row: dict, threshold: float) -> dict:
    """``row`` as the chain would have produced it at ``threshold``."""
    if row.get("refused") or not refused_at(row, threshold):
        return row
    row = dict(row)
    if row.get("type") != "unanswerable":
        row["fact_accuracy"] = 0.0
    row.update({"refused": True, "refusal_reason": REFUSAL_REASON, "answer": "", "citations": 0, "cited": [],
                "all_facts": False, "wrong_numbers": [], "citations_correct": 0, "citation_correctness": None})
    for key in ("evidence_agrees", "facts_scored", "facts_uncited"):
        row.pop(key, None)
    return row


def curve(rows: list[dict], thresholds: list[float]) -> list[dict]:
    """Accuracy, false refusals and correct refusals at each threshold."""
    from .answers import summarize

    out = []
    for t in thresholds:
        s = summarize([refuse_below(r, t) for r in rows])
        out.append({"threshold": t, **{k: s.get(k) for k in (
            "fact_accuracy", "false_refusal_rate", "correct_refusal_rate")},
            "fact_accuracy_en": (s.get("fact_accuracy_by_language") or {}).get("en")})
    return out


def jsquad_curve(folder: Path, thresholds: list[float]) -> list[dict]:
    """Per threshold: containment and refusals on the answerable sample, correct refusals on the
    gold-removed sample (its excluded questions left out, as in the run)."""
    answers = json.loads((folder / "jsquad-answers.json").read_text(encoding="utf-8"))
    removed_path = folder / "jsquad-unanswerable.json"  # absent for a run with --answers only
    removed = json.loads(removed_path.read_text(encoding="utf-8")) if removed_path.exists() else None
    answerable = answers["questions"]
    counted = [q for q in removed["questions"] if not q["excluded"]] if removed else []
    return [{"threshold": t,
             "answer_containment": round(sum(q["contains_answer"] and not refused_at(q, t) for q in answerable)
                                         / len(answerable), 4),
             "answerable_refused": round(sum(refused_at(q, t) for q in answerable) / len(answerable), 4),
             "floor_containment": answers["summary"]["floor_containment"],
             "gold_removed_counted": len(counted),
             "gold_removed_excluded": removed["summary"]["excluded"] if removed else None,
             "correct_refusals": round(sum(refused_at(q, t) for q in counted) / len(counted), 4) if counted else None}
            for t in thresholds]


def print_table(header: list[str], rows: list[list]) -> None:
    """A Markdown table with right-aligned columns."""
    print("| " + " | ".join(header) + " |")
    print("|" + "---:|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(v) for v in row) + " |")


def run_jsquad(folder: Path, thresholds: list[float]) -> int:
    points = jsquad_curve(folder, thresholds)
    print_table(["threshold", "answer containment", "refused", "quote floor", "correct refusals, gold removed"],
                [[f"{p['threshold']:g}", p["answer_containment"], p["answerable_refused"], p["floor_containment"],
                  f"{p['correct_refusals']} ({p['gold_removed_counted']} counted)"] for p in points])
    (folder / "thresholds.json").write_text(json.dumps({"note": "threshold applied offline to the recorded P(yes) "
                                            "of a run at CHATBOT_MIN_CONFIDENCE=0", "points": points}, indent=1) + "\n")
    return 0


def run(path: Path, thresholds: list[float], write: float | None = None) -> int:
    if path.is_dir():
        return run_jsquad(path, thresholds)
    result = json.loads(path.read_text(encoding="utf-8"))
    rows = result["questions"]
    points = curve(rows, thresholds)
    print_table(["threshold", "key-fact accuracy", "… English", "false refusals", "correct refusals"],
                [[f"{p['threshold']:g}", p["fact_accuracy"], p["fact_accuracy_en"], p["false_refusal_rate"],
                  p["correct_refusal_rate"]] for p in points])
    if write is not None:
        from .answers import groups, summarize
        from .report import markdown

        applied = [refuse_below(r, write) for r in rows]
        out = dict(result, questions=applied, summary={**summarize(applied), **{
            k: v for k, v in result["summary"].items() if k in ("prompt_reading", "wall_s")}},
            groups=groups(applied))
        out.setdefault("meta", {})["threshold_applied_offline"] = write
        out["threshold_curve"] = points
        folder = path.parent / f"threshold-{write:g}"
        folder.mkdir(exist_ok=True)
        (folder / "latest.json").write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        (folder / "report.md").write_text(markdown(out, None, None), encoding="utf-8")
        print(f"wrote {folder / 'latest.json'}, {folder / 'report.md'}")
    return 0
