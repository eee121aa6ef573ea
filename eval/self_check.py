"""The product's own checks re-run on its final answers (``self_check_*`` in the results JSON).

The answer chain deletes every sentence that fails ``chatbot.citations``/``chatbot.facts``, so
these figures are close to perfect by construction: they show that the enforcement held end to
end, not that the answers are right. They are kept for that purpose only and never appear in the
report's headline table; the independent scores are in :mod:`eval.scoring`.

- citation recall / precision (ALCE-style): share of answer sentences with a citation that
  supports them; share of (sentence, citation) pairs in which the citation supports the sentence,
  "supports" being the product's own primitives (``chatbot.citations.lexical_support`` over the
  cited sentence, or e5 similarity above its threshold, plus ``chatbot.facts.missing_facts``: every
  number and name of the sentence in the cited passage).
- fabrication: answers stating a number or Latin-script name found in none of their cited passages.

Works on the JSON form of an answer (``Answer.to_dict()``). If the product's checker changes its
interface, the figures become None instead of stopping the eval.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def _checker():
    """The product's primitives (their homes moved between versions of the chain)."""
    import importlib

    from chatbot import citations, facts, prompts

    try:
        text = importlib.import_module("chatbot.text")
    except ImportError:
        text = None

    try:
        rules = vars(importlib.import_module("chatbot.rules"))
    except ImportError:
        rules = {}

    def constant(name):
        return getattr(citations, name, None) or rules.get(name)

    lexical, same = constant("LEXICAL_SUPPORT"), constant("SEMANTIC_SUPPORT")
    cross = constant("SEMANTIC_SUPPORT_CROSS") or same
    language = (getattr(text, "language_of", None) or getattr(prompts, "language_of", None)
                or getattr(prompts, "detect_language"))
    return citations.split_answer, citations.lexical_support, facts.missing_facts, language, lexical, same, cross


def citation_scores(answer: dict, similarity=None) -> tuple[int, int, int, int]:
    """(supported sentences, sentences, supporting citations, citations) of a final answer.

    A (sentence, citation) pair is supported when the cited sentence (``quote``; the passage if
    there is none) supports the answer sentence by the product's bigram overlap or, given
    ``similarity``, by e5 similarity above the product's threshold for the language pair, and every
    number and name of the sentence is in the cited passage."""
    split_answer, lexical_support, missing_facts, language, lexical, same, cross = _checker()
    cited = {c["n"]: c for c in answer.get("citations", [])}
    supported = pairs_ok = pairs = 0
    sentences = split_answer(answer.get("answer", ""))
    for sentence, cites in sentences:
        ok_any = False
        for n in cites:
            pairs += 1
            if n not in cited:
                continue
            quote = cited[n].get("quote") or cited[n].get("text", "")
            passage = cited[n].get("text") or quote
            is_cross = language(sentence) != language(passage)
            ok = lexical_support(sentence, quote) >= lexical
            if not ok and similarity is not None:
                ok = float(list(similarity(sentence, [quote]))[0]) >= (cross if is_cross else same)
            ok = bool(ok) and not missing_facts(sentence, [quote, passage], codes_only=is_cross)
            pairs_ok += ok
            ok_any |= ok
        supported += ok_any
    return int(supported), len(sentences), int(pairs_ok), int(pairs)


def fabricated(answer: dict) -> list[str]:
    """Numbers and Latin-script names of the answer found in none of its cited passages."""
    split_answer, _, missing_facts, language, *_ = _checker()
    cited = [c.get("text", "") for c in answer.get("citations", [])]
    return sorted({f for s, _ in split_answer(answer.get("answer", "")) for f in missing_facts(
        s, cited, codes_only=language(s) != language(" ".join(cited)))})


def score(answer: dict, similarity=None) -> dict:
    """Per-answer ``self_check_*`` fields (empty for a refusal; None values if the checker fails)."""
    if answer.get("refused"):
        return {}
    try:
        s_ok, s_n, c_ok, c_n = citation_scores(answer, similarity)
        return {"self_check_sentences": s_n, "self_check_sentences_supported": s_ok,
                "self_check_citation_pairs": c_n, "self_check_citation_pairs_ok": c_ok,
                "self_check_fabricated": fabricated(answer)}
    except Exception as exc:  # noqa: BLE001 - the product's checker is not this eval's concern
        log.warning("self-check failed: %s: %s", type(exc).__name__, exc)
        return {"self_check_error": f"{type(exc).__name__}: {exc}"}


def summarize(rows: list[dict]) -> dict:
    """``self_check_citation_recall``, ``self_check_citation_precision``,
    ``self_check_answers_with_fabrication`` over answered rows."""
    answered = [r for r in rows if not r["refused"] and "self_check_sentences" in r]
    s_n = sum(r["self_check_sentences"] for r in answered)
    c_n = sum(r["self_check_citation_pairs"] for r in answered)
    return {
        "self_check_citation_recall":
            round(sum(r["self_check_sentences_supported"] for r in answered) / s_n, 4) if s_n else None,
        "self_check_citation_precision":
            round(sum(r["self_check_citation_pairs_ok"] for r in answered) / c_n, 4) if c_n else None,
        "self_check_answers_with_fabrication":
            sum(1 for r in answered if r.get("self_check_fabricated")) if answered else None,
    }
