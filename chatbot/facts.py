"""Numbers and names in a text, normalized so that an answer can be checked against sources.

``380億ドル``, ``38B``, ``$38 billion`` and ``３８０億`` all become the value 3.8e10, so an
English answer about a Japanese article is checked on the facts, not on the spelling.
"""

from __future__ import annotations

import re

from .rules import EXACT_NUMBERS_BELOW, NUMBER_TOLERANCE, QUESTION_NUMBER_MIN
from .text import nfkc

_MULTIPLIERS = {
    "千": 1e3, "万": 1e4, "億": 1e8, "兆": 1e12,
    "thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6,
    "billion": 1e9, "b": 1e9, "bn": 1e9, "trillion": 1e12, "t": 1e12, "tn": 1e12,
}
# A number with an optional multiplier, and optionally a chained lower part (5兆9,000億).
_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_UNIT = r"(?:千|万|億|兆|thousand|million|billion|trillion|bn|mn|tn|[kKmMbBtT](?![a-zA-Z]))"
_AMOUNT = re.compile(rf"({_NUM})\s*({_UNIT})?(?:\s*({_NUM})\s*({_UNIT}))?")
# Names: Latin-script words with a capital inside or a digit (OpenAI, NVIDIA, GB200, AWS),
# or capitalized words that do not start a sentence.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9.&'-]*[A-Za-z0-9]|[A-Z]")


def _value(number: str, unit: str | None) -> float:
    value = float(number.replace(",", ""))
    return value * _MULTIPLIERS[unit.lower()] if unit else value


def numbers(text: str) -> set[float]:
    """Every number in ``text`` as a value (multipliers applied, chained parts added)."""
    out: set[float] = set()
    for m in _AMOUNT.finditer(nfkc(text)):
        value = _value(m.group(1), m.group(2))
        if m.group(3) and m.group(2) and m.group(4):
            lower = _value(m.group(3), m.group(4))
            if lower < _MULTIPLIERS[m.group(2).lower()]:
                value += lower  # 5兆9,000億 = 5.9兆
            else:
                out.add(lower)
        elif m.group(3):
            out.add(_value(m.group(3), m.group(4)))
        out.add(value)
    return out


# Capitalized in English but not names; a Japanese source writes them as 月/曜日 or not at all.
_NOT_NAMES = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "i", "ceo",
}


def names(text: str, codes_only: bool = False) -> set[str]:
    """Latin-script proper names and codes in ``text`` (lower-cased).

    ``codes_only`` keeps only words with an inner capital or a digit (OpenAI, AWS, GB200,
    GPT-6): the ones a Japanese article also writes in Latin letters, unlike Nadella (ナデラ).
    """
    out = set()
    text = nfkc(text)
    for m in _NAME.finditer(text):
        word = re.sub(r"['’]s$", "", m.group(0))  # NVIDIA's -> NVIDIA
        if word.lower() in _NOT_NAMES:
            continue
        inner_capital = any(c.isupper() for c in word[1:]) or any(c.isdigit() for c in word)
        before = text[:m.start()].rstrip()
        sentence_start = not before or before[-1] in ".!?。！？\n\"'「"
        if inner_capital or (not codes_only and word[0].isupper() and not sentence_start and len(word) > 1):
            out.update(_code_parts(word) if codes_only else [word.lower()])
    return out


def _code_parts(word: str) -> list[str]:
    """A code joined to plain words keeps only its code parts ("AI-generated" -> ai: a Japanese
    article writes AI生成); a word with a digit (GPT-6) or of codes only (OpenAI-AWS) stays whole."""
    parts = re.split(r"[-–/]", word)
    codes = [p for p in parts if any(c.isupper() for c in p[1:])]
    if any(c.isdigit() for c in word) or not codes or len(codes) == len(parts):
        return [word.lower()]
    return [p.lower() for p in codes]


# A figure given only as a magnitude: 数十万基 (hundreds of thousands), 数千億円 (hundreds of
# billions), 数十社 (dozens). Not the 数 of a word (人数, 回数, 複数, 多数, 総数).
_VAGUE_JA = re.compile(r"(?<![人回件点総個変係指関乗級定分無複多少台枚部株日戸票字手口次倍半整算代得議席員冊位])"
                       r"数(?=[十百千万億兆])(十|百|千)?(万|億|兆)?")
_VAGUE_EN = re.compile(r"\b(?:(?:(tens|dozens|hundreds) of )?(thousands|millions|billions|trillions)|"
                       r"(dozens|hundreds)|(?:several|a few) (dozen|hundred|thousand|million|billion|trillion)"
                       r"(?: (thousand|million|billion))?)\b", re.I)
_POWERS = {"十": 1, "百": 2, "千": 3, "万": 4, "億": 8, "兆": 12, "tens": 1, "dozens": 1, "dozen": 1,
           "hundreds": 2, "hundred": 2, "thousands": 3, "thousand": 3, "millions": 6, "million": 6,
           "billions": 9, "billion": 9, "trillions": 12, "trillion": 12}


def vague_magnitudes(text: str) -> set[int]:
    """The powers of ten of the figures that ``text`` gives only as a magnitude, in Japanese or
    English: 数十万 and "hundreds of thousands" are both 5; 数十億 and "billions" are both 9."""
    text = nfkc(text)
    out = {sum(_POWERS[g] for g in m.groups() if g) for m in _VAGUE_JA.finditer(text)}
    return out | {sum(_POWERS[g.lower()] for g in m.groups() if g) for m in _VAGUE_EN.finditer(text)}


def same_number(a: float, b: float) -> bool:
    """Equal up to rounding in the last shown digit (約5.8兆 vs 5.82兆). Whole numbers below
    10,000 (years, counts) must be equal: 2016 is not 2025."""
    if a == b:
        return True
    if a == int(a) and b == int(b) and max(abs(a), abs(b)) < EXACT_NUMBERS_BELOW:
        return False
    return max(abs(a), abs(b)) > 0 and abs(a - b) / max(abs(a), abs(b)) < NUMBER_TOLERANCE


def has_fact(text: str, fact: str) -> bool:
    """Whether ``text`` states ``fact``, a key as :func:`missing_facts` reports it."""
    try:
        value = float(fact)
    except ValueError:
        t = nfkc(text).lower()
        return fact in t or (fact.endswith("s") and fact[:-1] in t)  # GPUs
    return any(same_number(value, n) for n in numbers(text))


def question_terms(question: str, same_language: bool = True) -> list[str]:
    """The specific things a question asks about: its numbers, Latin-script names and codes,
    and (same language only) Japanese proper nouns — keys in the form :func:`has_fact` takes.

    Across languages only numbers and codes count: ``Nadella`` is ナデラ in a Japanese article.
    Numbers below 100 are left out: they are mostly counts and months ("3文字", "2つ", "5月")
    that an article may write in words.
    """
    from .lexical import proper_nouns  # Sudachi loads lazily

    specific = [n for n in sorted(numbers(question)) if n >= QUESTION_NUMBER_MIN or n != int(n)]
    terms = [f"{n:g}" for n in specific] + sorted(names(question, not same_language))
    if same_language:
        terms += [t.lower() for t in dict.fromkeys(proper_nouns(question))]
    return terms


def missing_terms(question: str, texts: list[str], same_language: bool = True) -> list[str]:
    """Terms of :func:`question_terms` that occur in none of ``texts``: when a question names a
    year, an amount or a company that no retrieved passage mentions, the passages cannot
    answer it (any answer would be about something else)."""
    return [t for t in question_terms(question, same_language) if not _found(t, texts)]


def _found(term: str, texts: list[str]) -> bool:
    """``term`` in one of ``texts``; names joined by a hyphen or slash ("OpenAI-AWS deal") count
    when each name is found (codes with a number part, GPT-6, must match whole)."""
    if any(has_fact(s, term) for s in texts):
        return True
    parts = re.split(r"[-–/]", term)
    return (len(parts) > 1 and all(len(p) >= 2 and p.isalpha() for p in parts)
            and all(any(has_fact(s, p) for s in texts) for p in parts))


def acronyms(text: str) -> set[str]:
    """Codes and acronyms (lower-cased): Latin words with a digit or two capitals in a row (GB200,
    GPT-6, AWS, OpenAI) — the ones a Japanese article writes in Latin letters, unlike camel-case
    company names that it may write in katakana (SoftBank is ソフトバンク)."""
    return {w for w in names(text, codes_only=True)
            if any(c.isdigit() for c in w) or re.search(r"[A-Z]{2}", _original(text, w))}


def _original(text: str, lowered: str) -> str:
    m = re.search(re.escape(lowered), nfkc(text), re.IGNORECASE)
    return m.group(0) if m else lowered


_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.I)
# Words that carry a number without stating one: the first store (1号店), the third quarter
# (第3四半期), a single charge or 180 km per charge (1回の充電で), twice (2回).
_ORDINALS = {**{w: i for i, w in enumerate(
    "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split())},
    "single": 1, "per": 1, "each": 1, "once": 1, "twice": 2}
_ORDINAL = re.compile(r"\b(" + "|".join(_ORDINALS) + r")\b", re.I)
_MONTH_NUMBERS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), 1)}
# A month by name; "May" and the abbreviations only next to a figure ("May 2024", "10 May"), not "may be".
_MONTH = re.compile(r"\b(january|february|march|april|june|july|august|september|october|november|december)\b|"
                    r"\b(may|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?(?=\s*\d)|(?<=\d )(may)\b", re.I)
_TENTHS = re.compile(r"(\d+(?:\.\d+)?)\s*割")


def _month(m: re.Match) -> str:
    name = next(g for g in m.groups() if g).lower()
    return str(next(n for full, n in _MONTH_NUMBERS.items() if full.startswith(name[:3])))


def spelled_out_as_digits(text: str, ordinals: bool = False) -> str:
    """``text`` with the figures that English spells as words written as digits, so that a
    translation carries the numbers of its original: number words up to twenty ("over seven
    years" → "over 7 years"), month names (May 2024 → 5 2024, as 2024年5月 gives 2024 and 5), and
    with ``ordinals`` the words that carry a number (first → 1, for 1号店; single, per, once).
    Tenths (2割) become the percentage an English sentence writes (20%)."""
    text = _NUMBER_WORD.sub(lambda m: str(_NUMBER_WORDS[m.group(1).lower()]), text)
    text = _MONTH.sub(_month, text)
    text = _TENTHS.sub(lambda m: f"{float(m.group(1)) * 10:g}%", text)
    return _ORDINAL.sub(lambda m: str(_ORDINALS[m.group(1).lower()]), text) if ordinals else text


def missing_facts(answer: str, sources: list[str], codes_only: bool = False,
                  acronyms_only: bool = False) -> list[str]:
    """Numbers and names in ``answer`` that occur in none of ``sources`` (``codes_only``: see
    :func:`names`, for an English sentence checked against Japanese sources; ``acronyms_only``:
    see :func:`acronyms`, for a translation of an already checked answer)."""
    found = acronyms(answer) if acronyms_only else names(answer, codes_only)
    facts = [f"{n:g}" for n in sorted(numbers(answer))] + sorted(found)
    return [f for f in facts if not any(has_fact(s, f) for s in sources)]
