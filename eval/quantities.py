"""The eval's number normalizer: every number of a text as a comparable :class:`Quantity`.

Independent of ``chatbot/`` (see :mod:`eval.scoring`); pinned by ``tests/test_eval_independent.py``.

Each number becomes its value with its scale applied (380億 = 38 billion = 38B = 3.8e10,
5兆9,000億 = 5.9e12, 10万人 = 100,000 people), a unit (USD, JPY, %, years, people, W, …), calendar
years and dates (2025年11月3日 → the date 2025-11-03 and the year 2025). Full-width digits,
thousands commas, kanji numerals before a counter (七年) and English number words before a unit
(seven years) are read. Digits inside codes (GB200, GPT-6, Qwen2.5) and citation markers ([1])
are not numbers.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

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


MARKER = re.compile(r"[\[［【]\s*\d+(?:\s*[,，、]\s*\d+)*\s*[\]］】]")
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
    text = MARKER.sub(" ", text)
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
