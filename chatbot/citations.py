"""Citations enforced in code: every claim cites an evidence sentence that supports it.

The model writes a short answer citing evidence numbers ([1] = evidence sentence 1). A small
model forgets markers, cites a neighbouring sentence or slips in a figure, so each answer
sentence is checked here:

1. markers that name no evidence sentence are dropped;
2. the cited sentences must support it: character-bigram overlap (question words left out) for
   the same language, e5 similarity as a second signal that also works across languages. A
   sentence whose citations do not support it is aligned to the evidence sentence that does, or
   flagged unsupported when none does; a citation that adds nothing to the support (a stray
   [2] next to the [1] that supports the sentence) is dropped;
3. every number and Latin-script name in it must occur in its cited sentences (or the evidence
   sentences next to them in the same passage, which are then cited too): "GPT-6 was released
   on 2025-11-03" stitched from two places is a fabrication; a sentence that only repeats an
   article's title is no claim;
4. each citation is one evidence sentence, whose exact text becomes the citation's ``quote``
   (verbatim article text, with its span in the passage); citations are renumbered 1..m in
   order of first use.

Thresholds and where they come from: :mod:`chatbot.rules`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

from .chunking import split_sentences
from .facts import missing_facts
from .rules import MIN_NEW_BIGRAMS, LEXICAL_SUPPORT, SEMANTIC_SUPPORT, SEMANTIC_SUPPORT_CROSS, TITLE_COPY
from .text import bigrams, is_question, language_of, nfkc

if TYPE_CHECKING:
    from .evidence import Evidence, EvidenceSentence

# [1], [1, 2], ［１］, 【1】, [1][2]
MARKER = re.compile(r"[\[［【]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]］】]")
_MARKERS_AFTER_STOP = re.compile(r"([。．！？!?])(\s*(?:[\[［【]\s*\d+(?:\s*[,，、]\s*\d+)*\s*[\]］】]\s*)+)")

Similarity = Callable[[str, Sequence[str]], Sequence[float]]  # (sentence, candidates) -> cosines


@dataclass
class Citation:
    """An evidence sentence the answer cites: ``quote`` is that sentence, verbatim, and
    ``text[start:end] == quote`` (``text`` is the whole passage, for context)."""

    n: int
    doc_id: str
    title: str
    source: str
    chunk_id: str
    text: str
    quote: str
    start: int | None = None
    end: int | None = None
    page: int | None = None
    evidence_id: int | None = None  # the sentence's number in the prompt's evidence


@dataclass
class CheckedSentence:
    text: str  # without markers
    cites: list[int] = field(default_factory=list)  # final citation numbers
    supported: bool = False
    missing_facts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Supported by a cited sentence, with every number and name found there."""
        return self.supported and not self.missing_facts


@dataclass
class CheckedAnswer:
    text: str  # the answer with renumbered [n] markers
    citations: list[Citation]
    sentences: list[CheckedSentence]  # the sentences kept in ``text``
    removed: list[CheckedSentence] = field(default_factory=list)


def lexical_support(sentence: str, source_sentence: str, ignore: frozenset[str] = frozenset()) -> float:
    """Share of the sentence's character bigrams that occur in the source sentence.

    Bigrams in ``ignore`` (those of the question: restating it is not a claim) do not count,
    unless (almost) nothing else is left: 「星川さんは27歳のライターです」 is judged on 「27歳」."""
    a = bigrams(sentence)
    if len(a - ignore) >= MIN_NEW_BIGRAMS:
        a -= ignore
    return len(a & bigrams(source_sentence)) / len(a) if a else 0.0


def split_answer(text: str) -> list[tuple[str, list[int]]]:
    """Answer sentences without markers, each with the numbers it cites."""
    text = _MARKERS_AFTER_STOP.sub(lambda m: m.group(2).strip() + m.group(1), nfkc(text))
    out = []
    for s, e in split_sentences(text):
        sentence = text[s:e]
        cites = [int(n) for m in MARKER.finditer(sentence) for n in re.split(r"[,，、]", m.group(1))]
        clean = re.sub(r"\s+([。.!?！？])", r"\1", MARKER.sub("", sentence)).strip()
        if clean:
            out.append((clean, list(dict.fromkeys(cites))))
        elif cites and out:  # a line holding only markers belongs to the sentence before it
            out[-1][1].extend(c for c in cites if c not in out[-1][1])
    return out


def is_title(sentence: str, titles: Sequence[str]) -> bool:
    """Whether ``sentence`` is (nearly) just an article's title: a small model copies the title
    as if it were the answer, and a title is no claim."""
    return any(lexical_support(sentence, t) >= TITLE_COPY and lexical_support(t, sentence) >= TITLE_COPY
               for t in titles if t)


class _Support:
    """How well evidence sentences support an answer sentence."""

    def __init__(self, evidence: Evidence, similarity: Similarity | None, question: str) -> None:
        self.evidence = evidence
        self.similarity = similarity
        self.ignore = frozenset(bigrams(question)) if question else frozenset()

    def score(self, sentence: str, texts: Sequence[str]) -> list[float]:
        """Per text: lexical support, or the e5 cosine rescaled so that the language pair's
        threshold maps onto ``LEXICAL_SUPPORT`` (only when the characters alone do not support it)."""
        lex = [lexical_support(sentence, t, self.ignore) for t in texts]
        if self.similarity is None or max(lex, default=0) >= LEXICAL_SUPPORT:
            return lex
        sem = list(self.similarity(sentence, list(texts)))
        out = []
        for t, lx, sm in zip(texts, lex, sem):
            threshold = SEMANTIC_SUPPORT_CROSS if language_of(sentence) != language_of(t) else SEMANTIC_SUPPORT
            out.append(max(lx, LEXICAL_SUPPORT * sm / threshold if sm >= threshold else 0.0))
        return out

    def supports(self, sentence: str, ids: list[int]) -> bool:
        """Whether the cited sentences support ``sentence``: one of them, all of them together, or
        one with its neighbour in the same article (an answer often joins two sentences)."""
        texts = [self.evidence.get(n).text for n in ids]
        if not texts:
            return False
        candidates = texts + ([" ".join(texts)] if len(texts) > 1 else [])
        for n in ids:
            for a, b in ((n - 1, n), (n, n + 1)):
                first, second = self.evidence.get(a), self.evidence.get(b)
                if first is not None and second is not None and first.doc_id == second.doc_id:
                    candidates.append(first.text + second.text)
        return max(self.score(sentence, candidates)) >= LEXICAL_SUPPORT

    def needed(self, sentence: str, ids: list[int]) -> list[int]:
        """``ids`` without the citations that support nothing of ``sentence`` (a small model adds a
        stray [2] to a sentence [1] supports): those that support it alone, unless a number or
        name of the sentence is then no longer found in its citations."""
        if len(ids) < 2:
            return ids
        alone = [n for n, sc in zip(ids, self.score(sentence, [self.evidence.get(n).text for n in ids]))
                 if sc >= LEXICAL_SUPPORT]
        if not alone or len(alone) == len(ids):
            return ids
        kept, missing = _facts_in_evidence(sentence, alone, self.evidence)
        return kept if len(missing) <= len(_facts_in_evidence(sentence, ids, self.evidence)[1]) else ids

    def best(self, sentence: str) -> int | None:
        """The evidence sentence that supports ``sentence`` best, if any does."""
        texts = [s.text for s in self.evidence.sentences]
        scores = self.score(sentence, texts)
        i = max(range(len(texts)), key=scores.__getitem__, default=None)
        return i + 1 if i is not None and scores[i] >= LEXICAL_SUPPORT else None


def check_answer(answer: str, evidence: Evidence, similarity: Similarity | None = None,
                 question: str = "") -> CheckedAnswer:
    """Check ``answer``'s claims against the evidence it cites (see module doc); sentences that
    fail are removed, and the citations of the rest renumbered."""
    support = _Support(evidence, similarity, question)
    titles = list(dict.fromkeys(s.result.title for s in evidence.sentences))
    checked: list[tuple[CheckedSentence, list[int]]] = []
    for sentence, cites in split_answer(answer):
        # An evidence sentence that asks (「なぜ今、…のか。」) states nothing, so it supports nothing.
        valid = [n for n in cites if evidence.get(n) is not None and not is_question(evidence.get(n).text)]
        if support.supports(sentence, valid):
            valid = support.needed(sentence, valid)
        else:
            best = support.best(sentence)
            valid = [best] if best else []
        # A copied title or a question (an article's rhetorical 「なぜ今…のか。」) is no claim.
        claim = not is_title(sentence, titles) and not is_question(sentence)
        result = CheckedSentence(sentence, supported=bool(valid) and claim)
        if valid:
            valid, result.missing_facts = _facts_in_evidence(sentence, valid, evidence)
        checked.append((result, valid))
    return renumber(checked, evidence)


def _facts_in_evidence(sentence: str, ids: list[int], evidence: Evidence) -> tuple[list[int], list[str]]:
    """Numbers and names of ``sentence`` missing from its cited sentences and their articles'
    titles; a neighbouring evidence sentence of the same article that holds them is cited too
    (the date or the subject often sits in the sentence before the claim)."""
    cited = [evidence.get(n) for n in ids]
    titles = list(dict.fromkeys(s.result.title for s in cited))
    cross = language_of(sentence) != language_of(" ".join(s.text for s in cited))

    def missing(numbers: list[int]) -> list[str]:
        return missing_facts(sentence, [evidence.get(n).text for n in numbers] + titles, codes_only=cross)

    left = missing(ids)
    for m in sorted({m for n in ids for m in (n - 1, n + 1)} - set(ids)):
        if left and evidence.get(m) is not None and evidence.get(m).doc_id in {s.doc_id for s in cited}:
            if len(missing(ids + [m])) < len(left):
                ids = ids + [m]
                left = missing(ids)
    return ids, left


def citation(s: EvidenceSentence, number: int) -> Citation:
    """The :class:`Citation` of evidence sentence ``s`` as citation ``number``."""
    r = s.result
    return Citation(number, r.doc_id, r.title, r.source, r.chunk_id, r.text, s.text, s.start, s.end,
                    r.page_at(s.start), s.id)


def renumber(checked: list[tuple[CheckedSentence, list[int]]], evidence: Evidence) -> CheckedAnswer:
    """Drop failed sentences, number the evidence sentences still cited 1..m in order of first use."""
    final: dict[int, int] = {}  # evidence id -> citation number
    kept, removed = [], []
    for result, ids in checked:
        if not result.ok:
            removed.append(result)
            continue
        for n in sorted(ids):
            final.setdefault(n, len(final) + 1)
            result.cites.append(final[n])
        kept.append(result)
    citations = [citation(evidence.get(n), final[n]) for n in sorted(final, key=final.get)]
    return CheckedAnswer(join(kept), citations, kept, removed)


def _with_markers(sentence: str, cites: list[int]) -> str:
    """Markers go before the closing punctuation: 〜です[1]。 / ... here [1]."""
    marks = "".join(f"[{c}]" for c in cites)
    m = re.search(r"[。．！？!?.]+$", sentence)
    return sentence[:m.start()] + marks + m.group(0) if m else sentence + marks


def join(sentences: list[CheckedSentence]) -> str:
    """Sentences with their markers, as one answer text."""
    parts = []
    for s in sentences:
        piece = _with_markers(s.text, s.cites) if s.cites else s.text
        ascii_end = parts and parts[-1][-1:].isascii() and piece[:1].isascii()
        parts.append((" " if ascii_end else "") + piece)
    return "".join(parts)
