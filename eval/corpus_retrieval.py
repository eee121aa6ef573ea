"""Retrieval on the project's eval set: does a retrieved passage contain the evidence?

A question counts as a hit at k when one of its evidence quotes (NFKC-normalized, as the
stored text is) lies inside one of the top-k passages. Follow-ups are searched with the
previous user turn prepended, a stand-in until the chain condenses them.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

EVAL_SET = Path(__file__).resolve().parent / "questions.jsonl"


def load_questions(path: Path = EVAL_SET) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def retrieval_query(q: dict) -> str:
    prior = [t["content"] for t in q.get("history", []) if t["role"] == "user"]
    return " ".join(prior[-1:] + [q["question"]])


def evidence_rank(results, evidence: list[str]) -> int | None:
    """1-based rank of the first passage containing any evidence quote."""
    wanted = [_norm(e) for e in evidence]
    for i, r in enumerate(results, start=1):
        text = _norm(r.text)
        if any(w in text for w in wanted):
            return i
    return None


def evaluate(bot, questions: list[dict], k: int = 10) -> dict:
    """hit@1/3/5/k and MRR over answerable questions with evidence."""
    ranks = []
    for q in questions:
        if not q.get("evidence"):
            continue
        ranks.append(evidence_rank(bot.search(retrieval_query(q), k=k), q["evidence"]))
    n = len(ranks)
    return {
        "questions": n,
        **{f"hit@{c}": round(sum(1 for r in ranks if r and r <= c) / n, 4) for c in (1, 3, 5, k)},
        "MRR": round(sum(1 / r for r in ranks if r) / n, 4),
    }
