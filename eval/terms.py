"""How often the question-terms refusal rule (``chatbot.facts.missing_terms``) would refuse
answerable questions: every JSQuAD validation question against its own paragraph (a question
about a paragraph that names a year or a name the paragraph lacks would be wrongly refused).

The rule has no threshold to tune; this measures its false-refusal rate on data the product
was not built on, and lists the misses so that their causes can be read.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from chatbot.facts import missing_terms

from .jsquad import load_jsquad


def run(path: Path, limit: int | None = None) -> dict:
    paragraphs, questions = load_jsquad(path)
    questions = questions[:limit] if limit else questions
    refused, kinds, examples = 0, Counter(), []
    for q in questions:
        title, body = paragraphs[q["para"]]
        missing = missing_terms(q["question"], [f"{title}\n{body}"])
        if missing:
            refused += 1
            for term in missing:
                kinds["number" if term.replace(".", "").replace("e+", "").isdigit() else "name"] += 1
            if len(examples) < 40:
                examples.append({"question": q["question"], "missing": missing})
    n = len(questions)
    return {"questions": n, "would_refuse": refused, "false_refusal_rate": round(refused / n, 4) if n else None,
            "missing_by_kind": dict(kinds), "examples": examples}
