"""Cheap checks that the evidence can hold the kind of answer a question asks for.

A true article sentence that does not answer the question is the small model's favourite
mistake: asked *when*, it cites a sentence with no date in it. The question word says what
kind of answer is wanted (いつ/when → a date, いくら/how much money → an amount, how much
(power, capacity) → any figure, 何人/how many people → a count, 誰/who → a person or organisation),
and a measure it names without a figure says what the figure is in (何%/what percentage → a
share, 何歳/how old → an age, how many megawatts → watts); when no evidence sentence holds
anything of that kind, the evidence cannot answer and the question is refused before the model
is asked.

The patterns are deliberately broad (a false refusal is worse than one more question for the
model's scored decision, which comes next); they were written from the question words of the
dev set and JSQuAD, not from test questions.
"""

from __future__ import annotations

import re
from typing import Iterable

from .lexical import names_someone
from .text import nfkc

_MONTHS = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"

# (kind, question pattern): the first match decides; order matters (何人 before 何).
_QUESTION_KINDS: list[tuple[str, re.Pattern]] = [
    ("count", re.compile(r"何人|何名|how many (?:people|persons|employees|workers|jobs)", re.I)),
    # 何年 but not 何年間/何年分 (a duration: any figure)
    ("date", re.compile(r"いつ|何年(?!間|分)|何月(?!間)|何日(?!間|分)|何時(?!間)|日付|時期|when\b|what (?:year|date|day|month|time)|which (?:year|date|day|month)", re.I)),
    ("amount", re.compile(r"いくら|金額(?!以外)|何円|何ドル|how much (?:money|cash|funding|capital)|how much (?:did|does|do|will|would) \w+(?: \w+)? "
                          r"(?:pay|cost|spend|invest|raise|charge|earn|make)|what (?:amount|price|value|sum)|how much (?:is|was|are|were) [\w' -]{1,40}? worth", re.I)),
    # "how much power / capacity / of the market": any figure (250GW, 30%, 10万台), not only money
    ("quantity", re.compile(r"how much\b|何年間|何年分|何日間|何時間|何個|何台|何基|何GW|何ギガワット|何%|何パーセント|何倍", re.I)),
    ("person", re.compile(r"誰|だれ|どなた|\bwho\b|\bwhom\b", re.I)),
]

_KIND_IN_TEXT: dict[str, re.Pattern] = {
    # 2025年, 11月3日, 3日, 年前, 今年, 来週, 2025, November 3, 5〜10年, 平成 (not durations: 7年間)
    "date": re.compile(
        rf"\d+\s*(?:年(?!間)|月(?!間)|日(?!間)|時(?!間)|週(?!間)|世紀)|(?:今|昨|来|先|前|翌|同)(?:年|月|週|日)|年代|年度|平成|令和|昭和|"
        rf"\b(?:1[89]|20)\d{{2}}\b|\b{_MONTHS}\b|\b(?:year|month|week|day)s?\b|当時|最近|近年|曜日", re.I),
    # numbers with a currency or a scale: 380億ドル, $38 billion, 5.8兆円, 1株100円
    "amount": re.compile(
        r"[$¥€£]\s*\d|\d[\d,.]*\s*(?:千|万|億|兆)?\s*(?:円|ドル|ユーロ|ポンド|元|ウォン)|"
        r"\d[\d,.]*\s*(?:千|万|億|兆)|\d[\d,.]*\s*(?:thousand|million|billion|trillion|bn|mn|[kKmMbB]\b)|"
        r"\d[\d,.]*\s*(?:dollars?|yen|euros?)|(?:USD|JPY|EUR)\s*\d", re.I),
    "quantity": re.compile(r"\d|[一二三四五六七八九十百千万億兆]+(?:つ|倍|割|台|基|個|社|%)|数(?:十|百|千|万)|half|double|twice", re.I),
    "count": re.compile(r"\d[\d,.]*\s*(?:億|万|千|百)?\s*(?:人|名)|(?:数|何)(?:千|百|万)人|\d[\d,.]*\s*(?:people|persons|employees|workers|jobs)", re.I),
    # Names: katakana words, Latin capitals, or a title/affiliation word; kanji names also by the
    # honorifics and titles that Japanese news puts after them, else by Sudachi (holds_kind).
    "person": re.compile(
        r"[\u30a1-\u30fa\u30fc]{2,}|[A-Z][A-Za-z]+|氏|さん|社長|会長|CEO|CFO|代表|首相|大統領|大臣|長官|"
        r"知事|議員|教授|記者|会社|社|省|庁|政府|委員会|銀行|大学|研究所|グループ|財団|協会"),
}


# The measure a question names without a figure of its own (何%, 何歳, how many megawatts): the
# answer gives a figure in it, so a sentence with only another figure (2.4 GW for "what percent",
# 1998年 for 何歳) does not answer. unit: (question pattern, pattern of a sentence that may answer);
# written from the dev split's question words; the answering sentences of held-out JSQuAD
# questions that fail them are counted by ``python -m eval quote-subjects``.
_UNITS: dict[str, tuple[re.Pattern, re.Pattern]] = {
    "percent": (
        re.compile(r"何\s*(?:%|パーセント|割)|割合|比率|(?<![\d.,])(?<![\d.,] )\bpercent(?:age)?\b|"
                   r"\bwhat (?:share|proportion|fraction)\b", re.I),
        re.compile(r"\d\s*(?:%|パーセント|percent|割|ポイント|points?\b)|[一二三四五六七八九十]割|半分|半数|"
                   r"分の\s*[\d一二三四五六七八九十]|\d\s*(?:対|:)\s*\d|\bhalf\b|\b(?:third|quarter)s?\b", re.I)),
    "age": (
        re.compile(r"何歳|年齢|\bhow old\b|\bwhat age\b", re.I),
        re.compile(r"[\d一二三四五六七八九十]\s*(?:歳|才|代)|years? old|-year-old|\baged?\s+\d|\d0s\b|"
                   r"\b(?:teens|twenties|thirties|forties|fifties|sixties|seventies|eighties)\b", re.I)),
    "power": (
        re.compile(r"何\s*(?:ギガ|メガ|キロ)?ワット|何\s*(?:GW|MW|kW)|how many (?:GW|MW|kW)\b|"
                   r"(?<![\d.,])(?<![\d.,] )\b(?:giga|mega|kilo)?watts?\b", re.I),
        re.compile(r"GW|MW|kW|TW|ワット|watt", re.I)),
}
# A question for a reason asks for no figure, whatever words it holds.
_WHY = re.compile(r"なぜ|どうして|理由|\bwhy\b", re.I)


def asked_unit(question: str) -> str | None:
    """The measure ``question`` asks its figure in (``percent``, ``age``, ``power``), or ``None``."""
    q = nfkc(question)
    if _WHY.search(q):
        return None
    return next((unit for unit, (pattern, _) in _UNITS.items() if pattern.search(q)), None)


def expected_kind(question: str) -> str | None:
    """The kind of answer ``question`` asks for (``date``, ``amount``, ``quantity``, ``count``, ``person``), or
    ``None`` when its form does not say (why / how / what)."""
    q = nfkc(question)
    if (_WHY.search(q) or re.search(r"\bhow\b(?! (?:much|many))", q, re.I)) and not re.search(r"いつ|\bwhen\b", q, re.I):
        return None  # "why did X happen in 2025" asks for a reason, not a date
    if re.search(r"何と(?:いう|言う|呼)|なんという|何という", q):
        return None  # 「雨の多い時期を何というか」 asks what a thing is called
    for kind, pattern in _QUESTION_KINDS:
        if pattern.search(q):
            return kind
    return None


def holds_kind(kind: str | None, texts: Iterable[str], unit: str | None = None) -> bool:
    """Whether one of ``texts`` contains something of ``kind`` and, when given, a figure in the
    :func:`asked_unit` ``unit`` (always true when both are ``None``)."""
    if kind is None and unit is None:
        return True
    measure = _UNITS[unit][1] if unit else None
    for t in texts:
        text = nfkc(t)
        if (kind is None or _KIND_IN_TEXT[kind].search(text) or (kind == "person" and names_someone(t))) and (
                measure is None or measure.search(text)):
            return True
    return False
