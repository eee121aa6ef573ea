"""`python -m eval check`: validate eval/questions.jsonl against the schema and the corpus."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from chatbot.documents import load_documents

from .corpus_retrieval import EVAL_SET, load_questions

TYPES = {"fact", "why", "amount", "date", "multi_doc", "follow_up", "unanswerable"}
FIELDS = {"id", "question", "language", "reference_answer", "key_facts", "doc_ids", "type", "evidence"}


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def check(path: Path = EVAL_SET, corpus: Path = EVAL_SET.parent.parent / "corpus") -> list[str]:
    """Problems found (empty list = valid)."""
    docs = {d.doc_id: _norm(d.text) for d in load_documents([corpus])[0]}
    problems: list[str] = []
    seen: set[str] = set()
    for q in load_questions(path):
        qid = q.get("id", "?")
        missing = FIELDS - set(q)
        if missing:
            problems.append(f"{qid}: missing fields {sorted(missing)}")
            continue
        if qid in seen:
            problems.append(f"{qid}: duplicate id")
        seen.add(qid)
        if q["type"] not in TYPES:
            problems.append(f"{qid}: unknown type {q['type']!r}")
        if q["language"] not in ("ja", "en"):
            problems.append(f"{qid}: language must be ja or en")
        if ("history" in q) != (q["type"] == "follow_up"):
            problems.append(f"{qid}: history belongs to follow_up questions only")
        if q["type"] == "unanswerable":
            if q["key_facts"] or q["doc_ids"] or q["evidence"]:
                problems.append(f"{qid}: unanswerable questions have no key facts, doc ids or evidence")
            continue
        if not q["key_facts"] or not q["evidence"]:
            problems.append(f"{qid}: answerable questions need key facts and evidence")
        for d in q["doc_ids"]:
            if d not in docs:
                problems.append(f"{qid}: unknown doc id {d}")
        for ev in q["evidence"]:
            if not any(_norm(ev) in docs.get(d, "") for d in q["doc_ids"]):
                problems.append(f"{qid}: evidence not found verbatim in its documents: {ev[:40]}…")
        for fact in q["key_facts"]:
            if not any(v in q["reference_answer"] for v in fact):
                problems.append(f"{qid}: reference answer lacks key fact {fact}")
    return problems
