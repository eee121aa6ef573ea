"""Independent answer scoring: numbers, key facts, citation correctness, answer-evidence
agreement and wrong numbers.

Nothing here comes from ``chatbot/``: the product's own citation and fact checks decide which
sentences an answer keeps, so scoring with them would only confirm that they ran. These rules
are written against the eval set's gold data instead (``key_facts``, ``evidence``,
``reference_answer``) and are pinned by ``tests/test_eval_independent.py``. Answers are the
JSON form of ``Chatbot.ask`` (``Answer.to_dict()``); only ``answer``, ``refused`` and
``citations[].{quote,text}`` are read.

Definitions (also in eval/README.md):

- **number normalizer** (:func:`quantities`): every number in a text as a comparable
  :class:`Quantity` — value with its scale applied (380億 = 38 billion = 38B = 3.8e10, 5兆9,000億 =
  5.9e12, 10万人 = 100,000 people), a unit (USD, JPY, %, years, people, W, …), calendar years
  and dates (2025年11月3日 → the date 2025-11-03 and the year 2025). Full-width digits, thousands
  commas, kanji numerals before a counter (七年) and English number words before a unit
  (seven years) are read. Digits inside codes (GB200, GPT-6, Qwen2.5) and citation markers
  ([1]) are not numbers.
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

import math
import re
import unicodedata
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------
# Number normalizer


@dataclass(frozen=True)
class Quantity:
    """One number of a text. ``value`` is a float, or ``(year, month, day)`` for ``unit == "date"``
    (missing parts None). ``unit`` is None for a bare number; ``scaled`` says a scale word
    (万, 億, billion, B, …) was applied; ``text`` is the span it was read from (normalized)."""

    value: float | tuple
    unit: str | None = None
    scaled: bool = False
    text: str = ""

    @property
    def specific(self) -> bool:
        """Has a unit or a scale (so it can be compared by value, unlike a bare 7)."""
        return self.unit is not None or self.scaled


_MARKER = re.compile(r"[\[［【]\s*\d+(?:\s*[,，、]\s*\d+)*\s*[\]］】]")
_SOURCE_REF = re.compile(r"(?:ソース|出典|資料|図|source|passage|figure|fig\.)\s*#?\d+|(?:\d+|二)\s*つの(?:記事|ソース|情報源)"
                         r"|\b(?:two|2|both)\s+(?:articles|sources)\b", re.I)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")

_MONTHS = {m: i for i, names in enumerate((
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
    ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
    ("october", "oct"), ("november", "nov"), ("december", "dec")), start=1) for m in names}
_MONTH = r"(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_ORD = r"(?:st|nd|rd|th)?"
_DATES = [
    re.compile(r"(?P<y>\d{4})年(?:度)?\s*(?P<m>\d{1,2})月(?:\s*(?P<d>\d{1,2})日)?"),
    re.compile(r"(?<!\d)(?P<m>\d{1,2})月\s*(?P<d>\d{1,2})日"),
    re.compile(r"(?<![\d.])(?P<y>\d{4})[-/](?P<m>\d{1,2})[-/](?P<d>\d{1,2})(?!\d)"),
    re.compile(rf"\b{_MONTH}\s+(?P<d>\d{{1,2}}){_ORD}\b(?:,?\s*(?P<y>\d{{4}})\b)?", re.I),
    re.compile(rf"\b(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?{_MONTH}\b(?:,?\s*(?P<y>\d{{4}})\b)?", re.I),
    re.compile(rf"\b{_MONTH}\s*,?\s+(?P<y>\d{{4}})\b", re.I),
    re.compile(r"(?<![\d年])(?P<m>\d{1,2})月(?![\d日])"),
]

_JP_SCALES = {"万": 1e4, "億": 1e8, "兆": 1e12}
_EN_SCALES = [(re.compile(r"\s*(?:trillion(?![a-z])|tn(?![a-z])|t(?![a-z]))", re.I), 1e12),
              (re.compile(r"\s*(?:billion(?![a-z])|bn(?![a-z])|b(?![a-z]))", re.I), 1e9),
              (re.compile(r"\s*(?:million(?![a-z])|mn(?![a-z])|m(?![a-z]))", re.I), 1e6),
              (re.compile(r"\s*(?:thousand(?![a-z])|k(?![a-z]))", re.I), 1e3)]
# (pattern after the number, unit, multiplier). Longest first where they share a prefix.
_UNITS_AFTER = [
    (r"\s*(?:米ドル|ドル|dollars?(?![a-z])|usd(?![a-z]))", "USD", 1),
    (r"\s*(?:円|yen(?![a-z])|jpy(?![a-z]))", "JPY", 1),
    (r"\s*(?:%|パーセント|percent(?![a-z])|per\s+cent(?![a-z]))", "%", 1),
    (r"\s*(?:ギガワット|gigawatts?(?![a-z])|gw(?![a-z]))", "W", 1e9),
    (r"\s*(?:メガワット|megawatts?(?![a-z])|mw(?![a-z]))", "W", 1e6),
    (r"\s*(?:キロワット|kilowatts?(?![a-z])|kw(?![a-z]))", "W", 1e3),
    (r"年間|年(?!度)|[\s-]*years?(?![a-z])(?![\s-]*old)", "years", 1),
    (r"(?:か月|カ月|ヶ月|ヵ月|ケ月)間?|[\s-]*months?(?![a-z])", "months", 1),
    (r"日間|[\s-]*days?(?![a-z])", "days", 1),
    (r"人|[\s-]*(?:people|persons|employees)(?![a-z])", "people", 1),
    (r"倍|[\s-]*times(?![a-z])|x(?![a-z])", "times", 1),
    (r"\s*(?:基|台|個|枚|社|件|つ)", "count", 1),
]
_UNITS_AFTER = [(re.compile(p, re.I), u, k) for p, u, k in _UNITS_AFTER]
_CURRENCY_BEFORE = re.compile(r"(?:US\$|\$|USD\s*|¥|JPY\s*)$", re.I)

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_NUMBER = re.compile(r"[〇一二三四五六七八九十][〇一二三四五六七八九十百千万億兆]*")
_KANJI_UNIT = re.compile(r"(?:年間|年(?!度)|か月|カ月|ヶ月|人|倍|社|基|台)")  # not つ: 一つは = "one of them"
_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
               "hundred": 100, "a hundred": 100})
_WORD_NUMBER = re.compile(r"\b(" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")\b(?=[\s-]+"
                          r"(?:years?|months?|days?|times|people|companies|trillion|billion|million|percent)\b)", re.I)
_RANGE = re.compile(r"\s*(?:~|〜|～|-|–|—|から|to|and)\s*", re.I)
_FRACTION = re.compile(r"(?<![\d/])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?![\d/])"
                       r"|(?P<b2>\d+|[一二三四五六七八九十]+)分の(?P<a2>\d+|[一二三四五六七八九十]+)")


def normalize(text: str) -> str:
    """NFKC, citation markers and references to sources removed, thousands commas dropped."""
    text = unicodedata.normalize("NFKC", text)
    text = _MARKER.sub(" ", text)
    text = _SOURCE_REF.sub(" ", text)
    return _THOUSANDS.sub("", text)


def _kanji_value(s: str) -> float | None:
    total, section, digit = 0.0, 0.0, None
    for ch in s:
        if ch in _KANJI_DIGITS:
            if digit is not None:  # 二〇二五: positional digits
                digit = digit * 10 + _KANJI_DIGITS[ch]
            else:
                digit = _KANJI_DIGITS[ch]
        elif ch in "十百千":
            section += (1 if digit is None else digit) * {"十": 10, "百": 100, "千": 1000}[ch]
            digit = None
        elif ch in _JP_SCALES:
            total += (section + (digit or 0)) * _JP_SCALES[ch]
            section, digit = 0.0, None
        else:
            return None
    return total + section + (digit or 0)


def _is_code(text: str, start: int) -> bool:
    """Digits that belong to a name or code (GB200, GPT-6, Qwen2.5), not a quantity."""
    before = text[max(0, start - 2):start]
    if before[-1:].isascii() and before[-1:].isalpha():
        return True
    return before[-1:] in "-." and before[:1].isascii() and before[:1].isalpha()


def _read_after(text: str, pos: int, value: float) -> tuple[float, int, bool, str | None]:
    """Apply scales (chained Japanese ones, or one English one) and a unit after ``text[:pos]``."""
    scaled = False
    # Japanese: 5兆9000億, 1億2000万, 3億7500万, 2千万 (千 only as part of a bigger scale)
    m = re.match(r"千(?=[万億兆])", text[pos:])
    if m:
        value *= 1000
        pos += 1
    if pos < len(text) and text[pos] in _JP_SCALES:
        scale = _JP_SCALES[text[pos]]
        value *= scale
        pos += 1
        scaled = True
        while True:  # a smaller part follows: 5兆 9000億
            m = re.match(r"(\d+(?:\.\d+)?)(千)?([万億兆])?", text[pos:])
            if not m or not (m.group(3) or m.group(2)):
                break
            part = float(m.group(1)) * (1000 if m.group(2) else 1) * (_JP_SCALES[m.group(3)] if m.group(3) else 1)
            if part >= scale:
                break
            value += part
            pos += m.end()
            scale = _JP_SCALES.get(m.group(3), 1)
    else:
        for pattern, scale in _EN_SCALES:
            m = pattern.match(text, pos)
            if m:
                # "m"/"t"/"b" alone must not be the start of a word (3 men), checked by \b in the pattern.
                value *= scale
                pos = m.end()
                scaled = True
                break
    unit = None
    for pattern, name, k in _UNITS_AFTER:
        m = pattern.match(text, pos)
        if m:
            unit = name
            value *= k
            pos = m.end()
            break
    return value, pos, scaled, unit


def quantities(text: str) -> list[Quantity]:
    """Every number in ``text`` as a :class:`Quantity` (see the module doc)."""
    text = normalize(text)
    out: list[tuple[int, int, Quantity]] = []
    taken = [False] * (len(text) + 1)

    def free(a: int, b: int) -> bool:
        return not any(taken[a:b])

    def take(a: int, b: int, q: Quantity) -> None:
        for i in range(a, b):
            taken[i] = True
        out.append((a, b, q))

    for pattern in _DATES:
        for m in pattern.finditer(text):
            if not free(m.start(), m.end()):
                continue
            g = m.groupdict()
            y = int(g["y"]) if g.get("y") else None
            if g.get("mon"):
                mon = _MONTHS[g["mon"].lower().rstrip(".")]
            else:
                mon = int(g["m"])
            d = int(g["d"]) if g.get("d") else None
            if not 1 <= mon <= 12 or (d is not None and not 1 <= d <= 31):
                continue
            if g.get("mon") and g["mon"].lower() == "may" and d is None and y is None:
                continue
            take(m.start(), m.end(), Quantity((y, mon, d), "date", text=m.group(0)))
            if y is not None:
                out.append((m.start(), m.end(), Quantity(float(y), "year", text=str(y))))

    for m in _FRACTION.finditer(text):
        if not free(m.start(), m.end()):
            continue
        a, b = (m.group("a"), m.group("b")) if m.group("a") else (m.group("a2"), m.group("b2"))
        a, b = (int(x) if x.isdigit() else int(_kanji_value(x) or 0) for x in (a, b))
        if b and 0 < a < b <= 10:
            take(m.start(), m.end(), Quantity(a / b, "fraction", text=m.group(0)))

    for m in _NUMBER.finditer(text):
        if not free(m.start(), m.end()) or _is_code(text, m.start()):
            continue
        raw = m.group(0)
        value, end, scaled, unit = _read_after(text, m.end(), float(raw))
        if end == m.end() and text[end:end + 1].isascii() and text[end:end + 1].isalpha():
            continue  # digits glued to letters that are no scale or unit: 4o, 3D, 2nd
        if unit == "years" and not scaled and "." not in raw and len(raw) == 4 and 1900 <= value <= 2100 \
                and text[m.end():m.end() + 2] != "年間":
            unit = "year"  # 2025年: a calendar year, 7年: a duration
        if unit is None and _CURRENCY_BEFORE.search(text[max(0, m.start() - 5):m.start()]):
            before = _CURRENCY_BEFORE.search(text[max(0, m.start() - 5):m.start()]).group(0).strip().upper()
            unit = "JPY" if before in ("¥", "JPY") else "USD"
        if unit is None and not scaled and "." not in raw and len(raw) == 4 and 1900 <= value <= 2100:
            unit = "year"  # "in 2025"
        if unit is None and re.match(r"\d+[.)]\s", text[m.start():m.start() + 4]) and (
                m.start() == 0 or text[m.start() - 1] == "\n"):
            continue  # a list item number
        take(m.start(), end, Quantity(value, unit, scaled, text[m.start():end]))

    for pattern in (_KANJI_NUMBER, _WORD_NUMBER):
        for m in pattern.finditer(text):
            if not free(m.start(), m.end()):
                continue
            if pattern is _KANJI_NUMBER:
                if not _KANJI_UNIT.match(text, m.end()) and not (m.group(0)[-1] in "万億兆" and len(m.group(0)) > 1):
                    continue
                value = _kanji_value(m.group(0))
                if value is None:
                    continue
                scaled = any(c in m.group(0) for c in "万億兆")
                v, end, more, unit = _read_after(text, m.end(), value)
            else:
                v, end, more, unit = _read_after(text, m.end(), float(_WORDS[m.group(1).lower()]))
                scaled = False
            if unit == "years" and 1900 <= v <= 2100:
                unit = "year"
            take(m.start(), end, Quantity(v, unit, scaled or more, text[m.start():end]))

    out.sort(key=lambda t: t[0])
    # A range shares the unit and scale of its second end: 5〜10年, 5-10億, 20 to 75 percent.
    result = [q for _, _, q in out]
    for i in range(len(out) - 1):
        (_, a1, qa), (b0, _, qb) = out[i], out[i + 1]
        bare = qa.unit is None and not qa.scaled
        if bare and (qb.scaled or qb.unit not in (None, "date", "year")) and _RANGE.fullmatch(text[a1:b0]):
            result[i] = Quantity(qa.value * (_scale_of(qb) if qb.scaled else 1.0), qb.unit, qb.scaled, qa.text)
    return result


def _scale_of(q: Quantity) -> float:
    """The scale of a scaled quantity, from its text (for ranges: 5-10億 → 億)."""
    t = q.text
    for ch, k in (("兆", 1e12), ("億", 1e8), ("万", 1e4)):
        if ch in t:
            return k
    for pattern, k in _EN_SCALES:
        if re.search(r"\d" + pattern.pattern, t, re.I):
            return k
    return 1.0


def same_quantity(a: Quantity, b: Quantity, strict_unit: bool = True) -> bool:
    """Whether ``a`` and ``b`` state the same thing.

    Dates agree on every part both give and share at least one part (with ``strict_unit``, ``b``
    gives every part ``a`` gives). Other quantities are equal in value (scale applied) with
    compatible units: with ``strict_unit`` (``a`` is the wanted fact) ``b`` has ``a``'s unit, or
    ``a`` has none and ``b`` is no calendar year; otherwise a missing unit on either side is
    compatible.
    """
    if a.unit == "date" or b.unit == "date":
        if a.unit != b.unit:
            return False
        shared = [(x, y) for x, y in zip(a.value, b.value) if x is not None and y is not None]
        if not shared or any(x != y for x, y in shared):
            return False
        return not strict_unit or all(y is not None for x, y in zip(a.value, b.value) if x is not None)
    if not math.isclose(a.value, b.value, rel_tol=1e-6, abs_tol=1e-9):
        return False
    if a.unit == b.unit:
        return True
    if strict_unit:
        return a.unit is None and b.unit != "year"
    return a.unit is None or b.unit is None


# ---------------------------------------------------------------------------------------------
# Key facts


def flat(text: str) -> str:
    """NFKC, lower-case, no citation markers, spaces or commas (for literal matching)."""
    text = _MARKER.sub("", unicodedata.normalize("NFKC", text))
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
