"""Answer-level evaluation on ``eval/questions.jsonl``: accuracy, citations, refusals, fabrication, latency.

Every question goes through ``Chatbot.ask`` exactly as a user's would (follow-ups with their
history). Definitions (also in eval/README.md):

- retrieval: rank of the first retrieved passage from a supporting document (``doc_ids``) and of
  the first passage containing an evidence quote; hit@1/5 and MRR.
- key-fact accuracy: share of a question's key facts found in the answer text. A fact is a list
  of acceptable variants; a variant matches after NFKC, lower-casing and removing spaces and
  commas, or, for amounts, when the answer states the same value (380億ドル = 38 billion).
  A refused answerable question scores 0. ``all_facts`` = every fact found.
- citations (ALCE-style): recall = share of answer sentences that carry a citation whose passage
  supports them; precision = share of (sentence, citation) pairs whose passage supports the
  sentence. Support = the check in ``chatbot.citations`` (character-bigram overlap ≥ 0.5 with a
  sentence or adjacent pair of the passage, or e5 similarity above the language-pair threshold,
  with every number and name of the sentence in the passage).
- refusal: correct refusals on unanswerable questions, false refusals on answerable ones.
- fabrication: answers stating a number or Latin-script name found in none of their cited passages.
- latency: time to first token and total, p50 and p95.
"""

from __future__ import annotations

import re
import statistics
import time
import unicodedata
from collections import Counter, defaultdict
from typing import Callable

from chatbot.chain import Answer
from chatbot.citations import LEXICAL_SUPPORT, SEMANTIC_SUPPORT, Passage, SourceSentences, split_answer
from chatbot.facts import missing_facts, numbers, same_number
from chatbot.prompts import detect_language

from .corpus_retrieval import _norm


def _flat(text: str) -> str:
    return re.sub(r"[\s,，]", "", unicodedata.normalize("NFKC", text).lower())


def fact_found(answer: str, variants: list[str]) -> bool:
    """Whether any variant of a key fact is stated in ``answer`` (see module doc)."""
    flat = _flat(answer)
    if any(_flat(v) in flat for v in variants):
        return True
    answer_numbers = numbers(answer)
    for v in variants:
        wanted = numbers(v)
        # Only amounts with a scale (億, billion) are compared by value; "7年" must match as text.
        if wanted and re.search(r"億|兆|万|billion|million|trillion|\d[bBmMkK]\b", v):
            if any(same_number(w, a) for w in wanted for a in answer_numbers):
                return True
    return False


def _rank(sources, wanted: Callable[[object], bool]) -> int | None:
    return next((i for i, s in enumerate(sources, start=1) if wanted(s)), None)


def citation_scores(answer: Answer, similarity=None) -> tuple[int, int, int, int]:
    """(supported sentences, sentences, supporting citations, citations) of a final answer."""
    passages = {c.n: Passage(c.n, c.text, c.chunk_id, c.doc_id, c.title, c.source) for c in answer.citations}
    sources = SourceSentences(list(passages.values()), answer.query)
    supported = pairs_ok = pairs = 0
    sentences = split_answer(answer.text)
    for sentence, cites in sentences:
        ok_any = False
        for n in cites:
            pairs += 1
            if n not in passages:
                continue
            lex, sem, _ = sources.best(sentence, n, similarity)
            cross = detect_language(sentence) != detect_language(passages[n].text)
            ok = bool(lex >= LEXICAL_SUPPORT or sem >= SEMANTIC_SUPPORT) and not missing_facts(
                sentence, [passages[n].text], codes_only=cross)
            pairs_ok += ok
            ok_any |= ok
        supported += ok_any
    return supported, len(sentences), pairs_ok, pairs


def score(q: dict, answer: Answer, similarity=None) -> dict:
    """Per-question metrics."""
    answerable = q["type"] != "unanswerable"
    row = {"id": q["id"], "type": q["type"], "language": q["language"], "question": q["question"],
           "answer": answer.text, "refused": answer.refused, "refusal_reason": answer.refusal_reason,
           "query": answer.query, "citations": len(answer.citations), "removed": answer.removed,
           "raw": answer.raw, "draft": answer.draft, "missing_terms": answer.missing_terms,
           "first_token_s": answer.timings.get("first_token_s"), "total_s": answer.timings.get("total_s")}
    row["has_docs"], row["has_evidence"] = bool(q.get("doc_ids")), bool(q.get("evidence"))
    row["doc_rank"] = _rank(answer.sources, lambda s: s.doc_id in q.get("doc_ids", []))
    evidence = [_norm(e) for e in q.get("evidence", [])]
    row["evidence_rank"] = _rank(answer.sources, lambda s: any(e in _norm(s.text) for e in evidence)) if evidence else None
    if answerable:
        found = [False if answer.refused else fact_found(answer.text, v) for v in q["key_facts"]]
        row["fact_accuracy"] = sum(found) / len(found) if found else (0.0 if answer.refused else 1.0)
        row["all_facts"] = all(found) and not answer.refused
    if not answer.refused:
        s_ok, s_n, c_ok, c_n = citation_scores(answer, similarity)
        row.update(sentences=s_n, sentences_supported=s_ok, citation_pairs=c_n, citation_pairs_ok=c_ok)
        cited = [c.text for c in answer.citations]
        row["fabricated"] = sorted({f for s, _ in split_answer(answer.text) for f in missing_facts(
            s, cited, codes_only=detect_language(s) != detect_language(" ".join(cited)))})
    return row


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))], 3)


def summarize(rows: list[dict]) -> dict:
    """Aggregate metrics over the per-question rows."""
    answerable = [r for r in rows if r["type"] != "unanswerable"]
    unanswerable = [r for r in rows if r["type"] == "unanswerable"]
    answered = [r for r in rows if not r["refused"]]
    with_docs = [r for r in answerable if r["has_docs"]]
    with_evidence = [r for r in answerable if r["has_evidence"]]
    mean = lambda xs: round(sum(xs) / len(xs), 4) if xs else None  # noqa: E731
    by_type = defaultdict(list)
    for r in answerable:
        by_type[r["type"]].append(r["fact_accuracy"])
    first = [r["first_token_s"] for r in rows if r.get("first_token_s") is not None and not r["refused"]]
    total = [r["total_s"] for r in rows if r.get("total_s") is not None]
    s_n = sum(r.get("sentences", 0) for r in answered)
    c_n = sum(r.get("citation_pairs", 0) for r in answered)
    return {
        "questions": len(rows), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "retrieval": {
            "doc_hit@1": mean([1.0 if r["doc_rank"] == 1 else 0.0 for r in with_docs]),
            "doc_hit@5": mean([1.0 if r["doc_rank"] and r["doc_rank"] <= 5 else 0.0 for r in with_docs]),
            "doc_MRR": mean([1 / r["doc_rank"] if r["doc_rank"] else 0.0 for r in with_docs]),
            "evidence_hit@5": mean([1.0 if r["evidence_rank"] and r["evidence_rank"] <= 5 else 0.0
                                    for r in with_evidence]),
        },
        "fact_accuracy": mean([r["fact_accuracy"] for r in answerable]),
        "all_facts_rate": mean([1.0 if r["all_facts"] else 0.0 for r in answerable]),
        "fact_accuracy_by_type": {t: mean(v) for t, v in sorted(by_type.items())},
        "fact_accuracy_by_language": {
            lang: mean([r["fact_accuracy"] for r in answerable if r["language"] == lang]) for lang in ("ja", "en")},
        "correct_refusal_rate": mean([1.0 if r["refused"] else 0.0 for r in unanswerable]),
        "false_refusal_rate": mean([1.0 if r["refused"] else 0.0 for r in answerable]),
        "refusal_reasons": {
            group: dict(Counter(r.get("refusal_reason") for r in rs if r["refused"]))
            for group, rs in (("answerable", answerable), ("unanswerable", unanswerable))},
        "answers_with_citation": mean([1.0 if r["citations"] else 0.0 for r in answered]),
        "citation_recall": round(sum(r.get("sentences_supported", 0) for r in answered) / s_n, 4) if s_n else None,
        "citation_precision": round(sum(r.get("citation_pairs_ok", 0) for r in answered) / c_n, 4) if c_n else None,
        "answers_with_fabrication": sum(1 for r in answered if r.get("fabricated")),
        "latency": {"first_token_p50_s": _pct(first, 50), "first_token_p95_s": _pct(first, 95),
                    "total_p50_s": _pct(total, 50), "total_p95_s": _pct(total, 95)},
    }


def run(bot, questions: list[dict], progress: Callable[[int, int, dict], None] | None = None,
        judge: Callable[[dict, Answer], float] | None = None) -> dict:
    """Ask every question; return ``{"summary": ..., "questions": [...]}``."""
    rows = []
    started = time.perf_counter()
    for i, q in enumerate(questions, start=1):
        answer = bot.ask(q["question"], q.get("history"))
        row = score(q, answer, bot.chain.similarity)
        if judge is not None:
            row["judge"] = judge(q, answer)
        rows.append(row)
        if progress:
            progress(i, len(questions), row)
    summary = summarize(rows)
    if judge is not None:
        summary["judge_score"] = round(statistics.mean(r["judge"] for r in rows), 4)
    summary["wall_s"] = round(time.perf_counter() - started, 1)
    return {"summary": summary, "questions": rows}
