"""Markdown report and plot for an answer-eval result (``python -m eval``).

The headline table holds only independently scored figures (eval/scoring.py), the quote floor
next to the pipeline, latency and the host's prompt-reading speed; every figure has a delta
against the previous run of the same split on the same questions (rescored with today's scorers).
The product's self-check figures (``self_check_*``) stay in the JSON.
"""

from __future__ import annotations

from pathlib import Path


def plot(result: dict, path: Path) -> Path | None:
    """Accuracy by question type (pipeline and quote floor) and a latency histogram, as one PNG
    (None without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    summary, rows = result["summary"], result["questions"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    types = summary["fact_accuracy_by_type"]
    floor = summary.get("floor", {}).get("fact_accuracy_by_type", {})
    x = list(range(len(types)))
    left.bar([i - 0.2 for i in x], [v or 0 for v in types.values()], width=0.4, color="#4c72b0", label="pipeline")
    left.bar([i + 0.2 for i in x], [floor.get(t) or 0 for t in types], width=0.4, color="#8c8c8c",
             label="quote floor")
    labels = list(types)
    if summary["unanswerable"]:
        left.bar([len(x)], [summary["correct_refusal_rate"] or 0], width=0.4, color="#dd8452")
        labels.append("unanswerable\n(refused)")
    left.set_xticks(range(len(labels)), labels)
    left.set_ylim(0, 1)
    left.set_title("Key-fact accuracy by question type")
    left.tick_params(axis="x", labelrotation=30)
    left.legend(fontsize="small")
    first = [r["first_token_s"] for r in rows if r.get("first_token_s") is not None and not r["refused"]]
    total = [r["total_s"] for r in rows if r.get("total_s") is not None]
    right.hist([first, total], bins=15, label=["first token", "total"], color=["#55a868", "#c44e52"])
    right.set_xlabel("seconds")
    right.set_title("Latency per question")
    right.legend()
    fig.suptitle(f"{result['meta']['model']} — {result['meta'].get('split', 'test')} — {result['meta']['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _dig(d: dict | None, key: str):
    """``d[a][b]`` for a key ``"a.b"`` (None when missing)."""
    for part in key.split("."):
        if not isinstance(d, dict):
            return None
        d = d.get(part)
    return d


def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def _delta(now, before) -> str:
    if not isinstance(now, (int, float)) or not isinstance(before, (int, float)):
        return "–"
    d = now - before
    if abs(d) < 1e-9:
        return "±0"
    return f"{d:+.3f}".rstrip("0").rstrip(".") if isinstance(d, float) else f"{d:+d}"


# (label, key in the summary, key in the floor summary or None)
HEADLINE = [
    ("key-fact accuracy (answerable)", "fact_accuracy", "floor.fact_accuracy"),
    ("all key facts present", "all_facts_rate", "floor.all_facts_rate"),
    ("key-fact accuracy, ja", "fact_accuracy_by_language.ja", "floor.fact_accuracy_by_language.ja"),
    ("key-fact accuracy, en", "fact_accuracy_by_language.en", "floor.fact_accuracy_by_language.en"),
    ("floor: facts in its top-3 sentences", None, "floor.top3_fact_accuracy"),
    ("correct refusals (unanswerable)", "correct_refusal_rate", None),
    ("false refusals (answerable)", "false_refusal_rate", None),
    ("citation correctness (independent)", "citation_correctness", None),
    ("answer-evidence agreement", "evidence_agreement", None),
    ("answers with key facts from an uncited place", "answers_with_uncited_facts", None),
    ("wrong-but-cited answers (count)", "wrong_but_cited", None),
    ("first token p50 / s", "latency.first_token_p50_s", None),
    ("first token p95 / s", "latency.first_token_p95_s", None),
    ("total p50 / s", "latency.total_p50_s", None),
    ("total p95 / s", "latency.total_p95_s", None),
    ("host prompt reading, tokens/s", "prompt_reading.tokens_per_s", None),
]


def headline_rows(summary: dict, before: dict | None) -> list[str]:
    rows = []
    types = list(summary.get("fact_accuracy_by_type", {}))
    spec = HEADLINE[:4] + [(f"key-fact accuracy, {t}", f"fact_accuracy_by_type.{t}", f"floor.fact_accuracy_by_type.{t}")
                           for t in types] + HEADLINE[4:]
    for label, key, floor_key in spec:
        now = _dig(summary, key) if key else None
        fl = _dig(summary, floor_key) if floor_key else None
        rows.append(f"| {label} | {_fmt(now) if key else ''} | {_delta(now, _dig(before, key)) if key else ''} | "
                    f"{_fmt(fl) if floor_key else ''} | {_delta(fl, _dig(before, floor_key)) if floor_key else ''} |")
    return rows


GROUP_COLUMNS = [("key facts", "fact_accuracy"), ("floor", "floor.fact_accuracy"),
                 ("correct refusals", "correct_refusal_rate"), ("false refusals", "false_refusal_rate"),
                 ("citation correctness", "citation_correctness"), ("agreement", "evidence_agreement"),
                 ("wrong-but-cited", "wrong_but_cited")]


def group_rows(result_groups: dict, before: dict | None) -> list[str]:
    rows = []
    for name, s in result_groups.items():
        cells = []
        for _, key in GROUP_COLUMNS:
            now = _dig(s, key)
            d = _delta(now, _dig((before or {}).get(name), key)) if before else "–"
            cells.append(_fmt(now) if now is None or d == "–" else f"{_fmt(now)} ({d})")
        rows.append(f"| {name} | {s['questions']} | " + " | ".join(cells) + " |")
    return rows


def markdown(result: dict, plot_name: str | None, previous: dict | None = None) -> str:
    s, meta = result["summary"], result["meta"]
    r = s["retrieval"]
    before = previous["summary"] if previous else None
    prev_meta = previous["meta"] if previous else {}
    speed = s.get("prompt_reading") or {}
    lines = [
        f"# Answer evaluation — {meta.get('split', 'test')} split — {meta['model']}",
        "",
        f"{meta['date']} · commit {meta.get('commit') or '?'} · {s['questions']} questions ({s['answerable']} "
        f"answerable, {s['unanswerable']} unanswerable) · {meta['machine']} · wall {s['wall_s']} s",
        "",
        (f"Δ = change since the previous run of this split on the same questions: {Path(previous['file']).name} "
         f"({prev_meta.get('model', '?')}, commit {prev_meta.get('commit') or '?'}), its answers rescored with "
         "today's scorers." if previous else "Δ: no earlier run of this split covers these questions."),
        "",
        "| metric | pipeline | Δ | quote floor | Δ floor |",
        "|---|---|---|---|---|",
        *headline_rows(s, before),
    ]
    if "judge_score" in s:
        lines.append(f"| LLM judge score | {s['judge_score']} | | | |")
    lines += [
        "",
        f"Citation correctness: mean share of correct citations over {s['citation_scored_answers']} answered "
        f"answerable questions with citations ({s['answered_without_citation']} answered without a citation; "
        f"per citation {_fmt(s['citation_correctness_micro'])}, cited passage holds a gold sentence "
        f"{_fmt(s['citation_passage_has_gold'])}). Agreement over {s['evidence_agreement_answers']} answers with "
        f"key facts found. Wrong-but-cited: {s['wrong_but_cited']} of {s['answered']} answers state a number in no "
        f"gold sentence, reference or question ({s['answers_with_wrong_number']} with or without a citation; "
        f"{s.get('answers_with_number_in_no_citation', '–')} with a number that no cited passage states either). "
        f"Prompt reading: {speed.get('prompt_tokens', '?')} tokens in {speed.get('seconds', '?')} s "
        f"({speed.get('method', speed.get('error', 'not measured'))}).",
        "",
        f"Retrieval: doc hit@1 {_fmt(r['doc_hit@1'])}, hit@5 {_fmt(r['doc_hit@5'])}, MRR {_fmt(r['doc_MRR'])}, "
        f"evidence in top 5 {_fmt(r['evidence_hit@5'])}.",
        "",
        "## By language and type",
        "",
        "Each cell: value (Δ since the previous run).",
        "",
        "| group | questions | " + " | ".join(c for c, _ in GROUP_COLUMNS) + " |",
        "|---|---|" + "---|" * len(GROUP_COLUMNS),
        *group_rows(result.get("groups", {}), previous.get("groups") if previous else None),
        "",
    ]
    if plot_name:
        lines += [f"![accuracy and latency]({plot_name})", ""]
    misses = [q for q in result["questions"]
              if (q["type"] == "unanswerable") != q["refused"] or (q.get("fact_accuracy", 1) < 1)
              or q.get("wrong_numbers") or q.get("evidence_agrees") is False
              or (q.get("citation_correctness") is not None and q["citation_correctness"] < 1)]
    if misses:
        lines += ["## Misses", "",
                  "Key facts missed, a refusal that should not be (or the reverse), a citation of a non-gold "
                  "sentence, a fact from an uncited place or a wrong number.", "",
                  "| id | type | question | answer | facts | citations ok | uncited facts | wrong numbers | floor |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for q in misses:
            answer = q["answer"].replace("|", "\\|").replace("\n", " ")
            cited = (f"{q['citations_correct']}/{len(q['cited'])}" if q.get("cited") else "–")
            lines.append(
                f"| {q['id']} | {q['type']} | {q['question'].replace('|', '/')} | "
                f"{('(refused) ' if q['refused'] else '') + answer[:160]} | {_fmt(q.get('fact_accuracy'))} | {cited} | "
                f"{len(q.get('facts_uncited', [])) or ''} | {', '.join(q.get('wrong_numbers', []))} | "
                f"{_fmt(q.get('floor_fact_accuracy'))} |")
    return "\n".join(lines) + "\n"
