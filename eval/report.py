"""Markdown report and plots for an answer-eval result (``python -m eval``)."""

from __future__ import annotations

from pathlib import Path


def plot(result: dict, path: Path) -> Path | None:
    """Accuracy by question type and a latency histogram, as one PNG (None without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    summary, rows = result["summary"], result["questions"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    types = summary["fact_accuracy_by_type"]
    left.bar(list(types), [v or 0 for v in types.values()], color="#4c72b0")
    if summary["unanswerable"]:
        left.bar(["unanswerable\n(refused)"], [summary["correct_refusal_rate"] or 0], color="#dd8452")
    left.set_ylim(0, 1)
    left.set_title("Key-fact accuracy by question type")
    left.tick_params(axis="x", labelrotation=30)
    first = [r["first_token_s"] for r in rows if r.get("first_token_s") is not None and not r["refused"]]
    total = [r["total_s"] for r in rows if r.get("total_s") is not None]
    right.hist([first, total], bins=15, label=["first token", "total"], color=["#55a868", "#c44e52"])
    right.set_xlabel("seconds")
    right.set_title("Latency per question")
    right.legend()
    fig.suptitle(f"{result['meta']['model']} — {result['meta']['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def markdown(result: dict, plot_name: str | None) -> str:
    s, meta = result["summary"], result["meta"]
    r, lat = s["retrieval"], s["latency"]
    lines = [
        f"# Answer evaluation — {meta['model']}",
        "",
        f"{meta['date']} · {s['questions']} questions ({s['answerable']} answerable, {s['unanswerable']} unanswerable)"
        f" · {meta['machine']} · wall {s['wall_s']} s",
        "",
        "| metric | value |",
        "|---|---|",
        f"| key-fact accuracy (answerable) | {s['fact_accuracy']} |",
        f"| all key facts present | {s['all_facts_rate']} |",
        f"| accuracy ja / en | {s['fact_accuracy_by_language']['ja']} / {s['fact_accuracy_by_language']['en']} |",
        f"| correct refusals (unanswerable) | {s['correct_refusal_rate']} |",
        f"| false refusals (answerable) | {s['false_refusal_rate']} |",
        f"| answers with ≥ 1 citation | {s['answers_with_citation']} |",
        f"| citation recall / precision | {s['citation_recall']} / {s['citation_precision']} |",
        f"| answers with a fabricated number or name | {s['answers_with_fabrication']} |",
        f"| retrieval doc hit@1 / hit@5 / MRR | {r['doc_hit@1']} / {r['doc_hit@5']} / {r['doc_MRR']} |",
        f"| evidence in top 5 | {r['evidence_hit@5']} |",
        f"| first token p50 / p95 (s) | {lat['first_token_p50_s']} / {lat['first_token_p95_s']} |",
        f"| total p50 / p95 (s) | {lat['total_p50_s']} / {lat['total_p95_s']} |",
    ]
    if "judge_score" in s:
        lines.append(f"| LLM judge score | {s['judge_score']} |")
    lines += ["", "Accuracy by type: " + ", ".join(f"{t} {v}" for t, v in s["fact_accuracy_by_type"].items()), ""]
    if plot_name:
        lines += [f"![accuracy and latency]({plot_name})", ""]
    misses = [q for q in result["questions"]
              if (q["type"] == "unanswerable") != q["refused"] or (q.get("fact_accuracy", 1) < 1)]
    if misses:
        lines += ["## Misses", "", "| id | type | question | answer |", "|---|---|---|---|"]
        for q in misses:
            answer = q["answer"].replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {q['id']} | {q['type']} | {q['question'].replace('|', '/')} | {answer[:160]} |")
    return "\n".join(lines) + "\n"
