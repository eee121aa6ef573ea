"""Independent answer scoring: numbers, key facts, citation correctness, answer-evidence
agreement and wrong numbers.

Nothing here comes from ``chatbot/``: the product's own citation and fact checks decide which
sentences an answer keeps, so scoring with them would only confirm that they ran. These rules
are written against the eval set's gold data instead (``key_facts``, ``evidence``,
``reference_answer``) and are pinned by ``tests/test_eval_independent.py``. Answers are the
JSON form of ``Chatbot.ask`` (``Answer.to_dict()``); only ``answer``, ``refused`` and
``citations[].{quote,text}`` are read.

Definitions (also in eval/README.md):

- **number normalizer**: :func:`eval.quantities.quantities` (every number as a comparable
  :class:`~eval.quantities.Quantity`).
- **key fact found** (:func:`fact_found`): a variant occurs in the answer after NFKC,
  lower-casing and removing spaces and commas (a variant that starts or ends with a digit must
  not continue a longer number: 7年 is not in 17年), or a variant with a unit or a scale states
  the same quantity as one in the answer (38 billion dollars for 380億; 7 years for 7年, never a
  bare 7).
- **citation correct** (:func:`citation_correct`): the citation's ``quote`` (the sentence it
  points at) is a gold evidence sentence of the question: the same text after normalization, or
  a common stretch covering ≥ 50% of the gold sentence's characters, or the quote is a clause
  (≥ 8 characters) inside the gold sentence.
- **answer-evidence agreement** (:func:`evidence_agreement`): every key fact found in the answer
  is also found in the text of one of its cited passages (facts already in the question are not
  counted: the answer may repeat them).
- **wrong number** (:func:`wrong_numbers`): a number or year in the answer that states no
  quantity of the gold evidence, the reference answer or the question.
"""

from __future__ import annotations

import re
import unicodedata

from .quantities import MARKER, Quantity, normalize, quantities, same_quantity

# ---------------------------------------------------------------------------------------------
# Key facts


def flat(text: str) -> str:
    """NFKC, lower-case, no citation markers, spaces or commas (for literal matching)."""
    text = MARKER.sub("", unicodedata.normalize("NFKC", text))
    return re.sub(r"[\s,，]", "", text.lower())


def _contains(haystack: str, needle: str) -> bool:
    """``needle`` in ``haystack``, not as the tail or head of a longer number."""
    if not needle:
        return False
    start = haystack.find(needle)
    while start >= 0:
        end = start + len(needle)
        before_ok = not (needle[0].isdigit() and start > 0 and (haystack[start - 1].isdigit() or (
            haystack[start - 1] == "." and start > 1 and haystack[start - 2].isdigit())))
        after_ok = not (needle[-1].isdigit() and end < len(haystack) and (haystack[end].isdigit() or (
            haystack[end] == "." and end + 1 < len(haystack) and haystack[end + 1].isdigit())))
        if before_ok and after_ok:
            return True
        start = haystack.find(needle, start + 1)
    return False


def fact_found(text: str, variants: list[str]) -> bool:
    """Whether any variant of a key fact is stated in ``text`` (see the module doc)."""
    flat_text = flat(text)
    if any(_contains(flat_text, flat(v)) for v in variants):
        return True
    stated = None
    for v in variants:
        wanted = [q for q in quantities(v) if q.specific]
        if not wanted:
            continue
        if stated is None:
            stated = quantities(text)
        if all(any(same_quantity(w, s) for s in stated) for w in wanted):
            return True
    return False


def facts_found(text: str, key_facts: list[list[str]]) -> list[bool]:
    return [fact_found(text, v) for v in key_facts]


# ---------------------------------------------------------------------------------------------
# Citations

_DROP = re.compile(r"[\W_]+", re.UNICODE)


def bigrams(text: str) -> set[str]:
    """Character bigrams after NFKC and lower-casing, without spaces and punctuation (a text of one
    character is its own bigram)."""
    text = "".join(c for c in unicodedata.normalize("NFKC", text).lower()
                   if unicodedata.category(c)[0] not in "PZSC")
    return {text[i:i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def sentence_key(text: str) -> str:
    """NFKC, lower-case, without spaces and punctuation (sentence comparison)."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text).lower())


def _longest_common(a: str, b: str) -> int:
    """Length of the longest common substring (dynamic programming, sentences are short)."""
    if not a or not b:
        return 0
    best, prev = 0, [0] * (len(b) + 1)
    for ch in a:
        cur = [0] * (len(b) + 1)
        for j, other in enumerate(b, start=1):
            if ch == other:
                cur[j] = prev[j - 1] + 1
                if cur[j] > best:
                    best = cur[j]
        prev = cur
    return best


MIN_CLAUSE = 8  # characters (normalized) a quote needs to count as a clause of a gold sentence
GOLD_SHARE = 0.5  # share of a gold sentence's characters a quote must contain


def citation_correct(quote: str, gold: list[str]) -> bool:
    """Whether a cited sentence ``quote`` is (or overlaps enough with) a gold evidence sentence."""
    q = sentence_key(quote or "")
    if not q:
        return False
    for g in gold:
        g = sentence_key(g)
        if not g:
            continue
        if q == g or g in q:
            return True
        if len(q) >= MIN_CLAUSE and q in g:
            return True
        if _longest_common(q, g) >= GOLD_SHARE * len(g):
            return True
    return False


def passage_has_gold(text: str, gold: list[str]) -> bool:
    """Whether a cited passage contains a gold sentence (a weaker, passage-level figure)."""
    t = sentence_key(text or "")
    return any(sentence_key(g) and sentence_key(g) in t for g in gold)


def citation_scores(answer: dict, q: dict) -> dict:
    """Per-answer citation correctness: each citation with its verdict, and the share correct."""
    gold = q.get("evidence", [])
    cited = []
    for c in answer.get("citations", []):
        cited.append({"n": c.get("n"), "doc_id": c.get("doc_id"), "quote": c.get("quote", ""),
                      "correct": citation_correct(c.get("quote", ""), gold),
                      "passage_has_gold": passage_has_gold(c.get("text", ""), gold)})
    n_ok = sum(c["correct"] for c in cited)
    return {"cited": cited, "citations_correct": n_ok,
            "citation_correctness": round(n_ok / len(cited), 4) if cited else None}


def evidence_agreement(answer: dict, q: dict) -> dict:
    """Key facts found in the answer, and those found in none of its cited passages."""
    text = answer.get("answer", "")
    passages = [c.get("text", "") for c in answer.get("citations", [])]
    found, uncited = [], []
    for i, variants in enumerate(q.get("key_facts", [])):
        if not fact_found(text, variants) or fact_found(q.get("question", ""), variants):
            continue
        found.append(i)
        if not any(fact_found(p, variants) for p in passages):
            uncited.append(i)
    return {"facts_scored": found, "facts_uncited": uncited,
            "evidence_agrees": (not uncited) if found else None}


def _wrong(text: str, q: dict) -> list[Quantity]:
    known = [k for src in [*q.get("evidence", []), q.get("reference_answer", ""), q.get("question", ""),
                           *(t.get("content", "") for t in q.get("history", []) if t.get("role") == "user")]
             for k in quantities(src)]
    return [s for s in quantities(text) if not any(same_quantity(s, k, strict_unit=False) for k in known)]


def wrong_numbers(text: str, q: dict) -> list[str]:
    """Numbers and years of ``text`` that state no quantity of the gold evidence, the reference
    answer or the question (or the user's earlier turns)."""
    return sorted({s.text for s in _wrong(text, q)})


def in_no_passage(text: str, q: dict, passages: list[str]) -> list[str]:
    """The wrong numbers of ``text`` that no passage states either (true figures from another part
    of an article are wrong by the gold but found in a passage; these are not)."""
    stated = [k for p in passages for k in quantities(p)]
    return sorted({s.text for s in _wrong(text, q) if not any(same_quantity(s, k, strict_unit=False) for k in stated)})


def score_answer(q: dict, answer: dict) -> dict:
    """All independent per-answer scores of ``answer`` (``Answer.to_dict()``) for question ``q``."""
    refused = bool(answer.get("refused"))
    row: dict = {}
    answerable = q["type"] != "unanswerable"
    if answerable:
        found = [False] * len(q["key_facts"]) if refused else facts_found(answer.get("answer", ""), q["key_facts"])
        row["facts_found"] = found
        row["fact_accuracy"] = round(sum(found) / len(found), 4) if found else (0.0 if refused else 1.0)
        row["all_facts"] = bool(found) and all(found) and not refused
    if not refused:
        if answerable:
            row.update(citation_scores(answer, q))
            row.update(evidence_agreement(answer, q))
        row["wrong_numbers"] = wrong_numbers(answer.get("answer", ""), q)
        if row["wrong_numbers"]:
            row["wrong_numbers_in_no_citation"] = in_no_passage(
                answer.get("answer", ""), q, [c.get("text", "") for c in answer.get("citations", [])])
    return row
