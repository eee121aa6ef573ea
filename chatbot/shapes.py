"""The shape a question asks its answer to take, and the sentence cues that go with it.

- ``why``: a reason (なぜ/理由/背景/why): the answer leads with the reason sentence, plus the
  sentence before it when the reason refers back (「それは…」, 「そのため…」);
- ``compare``: a question about both articles or a comparison: one sentence per article;
- ``summary``: a request for the gist of an article (要約/要点/what is it about): its most
  central sentences, each cited;
- ``fact``: everything else: the one sentence that answers.

The patterns were written from the question words of the dev split and JSQuAD, not from test
questions; :mod:`chatbot.answer_types` says which *kind* of fact (date, amount, ...) is asked.
"""

from __future__ import annotations

import re

from .text import nfkc

FACT, WHY, COMPARE, SUMMARY = "fact", "why", "compare", "summary"

_SUMMARY_STRICT = re.compile(r"要約|要点|概要|あらまし|\bsummar(?:y|ize|ise)\b|\bmain points?\b|\boverview\b", re.I)
_SUMMARY = re.compile(
    r"要約|要点|概要|あらまし|主な内容|(?:記事|これ|内容)(?:の内容)?を?まとめて|(?:どんな|何の|なんの)記事|何について(?:の記事|書かれ)|"
    r"\bsummar(?:y|ize|ise)\b|\bmain points?\b|\bkey points\b|\boverview\b|\btl;?dr\b|"
    r"what (?:is|are) (?:this|the|these) (?:article|articles|piece|story|stories) about", re.I)
_COMPARE = re.compile(
    r"両方の記事|両記事|(?:2|二|ふた)(?:つ|本)の記事|それぞれの記事|各記事|記事によって|記事ごと|記事間|どちらの記事|"
    r"それぞれ|比較|比べ|違い|異な|共通|\bboth (?:articles|pieces|stories)\b|\beach (?:article|piece)\b|"
    r"\bthe two (?:articles|pieces)\b|\bcompar(?:e|es|ed|ing|ison)\b|\bdiffer(?:s|ent|ence|ences)?\b|\bin common\b", re.I)
_WHY = re.compile(r"なぜ|何故|どうして|理由|背景|狙い|ねらい|目的|\bwhy\b|\breasons?\b|\bhow come\b|\bwhat led\b|"
                  r"\bmotivat", re.I)

# A sentence that gives a reason or a purpose.
REASON = re.compile(r"ため|から(?:だ|です|で|、)|ので|理由|背景|狙い|目的|ことで|によって|により|優先|"
                    r"\bbecause\b|\bsince\b|\bdue to\b|\bso that\b|\bin order to\b|\breasons?\b", re.I)
# A sentence that opens by pointing back at the one before (its subject or its claim is there).
REFERS_BACK = re.compile(r"^(?:これ|それ|この|その|こうした|こう|そこ|同社|同氏|しかし|ただ|つまり|そのため|このため|"
                         r"だからこそ|なぜなら|実は|一方|また|さらに|(?:This|That|These|Those|It|They|But|However|So)\b)")


def form_of(question: str) -> str:
    """The answer shape ``question`` asks for: ``summary``, ``compare``, ``why`` or ``fact``."""
    q = nfkc(question)
    if _SUMMARY_STRICT.search(q) or (_SUMMARY.search(q) and not _COMPARE.search(q)):
        return SUMMARY
    if _COMPARE.search(q):
        return COMPARE
    if _WHY.search(q):
        return WHY
    return FACT


def refers_back(sentence: str) -> bool:
    """Whether ``sentence`` opens by pointing at the sentence before it."""
    return bool(REFERS_BACK.search(nfkc(sentence).lstrip("「『(（ ")))


def gives_reason(sentence: str) -> bool:
    return bool(REASON.search(nfkc(sentence)))


def about_several(question: str) -> bool:
    """Whether ``question`` is about more than one article (両方の記事, both articles, each piece)."""
    return bool(_COMPARE.search(nfkc(question)))
