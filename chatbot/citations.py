"""Citations enforced in code: parse [n] markers, align uncited sentences, flag the unsupported.

The model is asked to write [n] after each claim, but a small model forgets, cites the wrong
source or invents a number. So for every answer sentence:

1. markers pointing to no source are dropped;
2. each cited source is checked: it must support the sentence (character-bigram overlap for
   Japanese; embedding similarity, if given, as a second signal that also works across
   languages). A sentence with no supporting cited source is aligned to the source that
   supports it best, or flagged unsupported when none does;
3. every number and Latin-script name in the sentence must occur in its cited sources (not just
   anywhere: "GPT-6 was released on 2025-11-03" stitched from two passages is a fabrication);
   a sentence that only repeats a source's title is no claim and is not kept;
4. citations are renumbered 1..m in order of first use, keeping only those used.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

from .chunking import split_sentences
from .facts import missing_facts
from .prompts import detect_language

# [1], [1, 2], ［１］, 【1】, [1][2]
MARKER = re.compile(r"[\[［【]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]］】]")
_MARKERS_AFTER_STOP = re.compile(r"([。．！？!?])(\s*(?:[\[［【]\s*\d+(?:\s*[,，、]\s*\d+)*\s*[\]］】]\s*)+)")
_DROP = re.compile(r"[\s、。,.!?！？「」『』()（）\[\]［］【】・:：;；\"'“”‘’]")

LEXICAL_SUPPORT = 0.5  # share of the sentence's character bigrams found in the source sentence
# e5 cosine between an answer sentence and a source sentence in the same language. Set above
# what merely related sentences reach (eval set, Japanese: p90 0.882, max 0.907), so that for
# Japanese the character overlap decides and the embedding only confirms near-paraphrases.
SEMANTIC_SUPPORT = 0.93
# Across languages (an English answer about a Japanese article) e5-small cosines run lower: on the
# eval set, English reference answers vs their Japanese evidence gave min 0.818, p10 0.825.
SEMANTIC_SUPPORT_CROSS = 0.82

Similarity = Callable[[str, Sequence[str]], Sequence[float]]  # (sentence, candidates) -> cosines


@dataclass
class Passage:
    """A numbered source as shown to the model (``n`` is 1-based)."""

    n: int
    text: str
    chunk_id: str = ""
    doc_id: str = ""
    title: str = ""
    source: str = ""


@dataclass
class Citation:
    """A source the final answer cites: ``quote`` is the sentence in it that supports the claim."""

    n: int
    doc_id: str
    title: str
    source: str
    chunk_id: str
    text: str
    quote: str


@dataclass
class CheckedSentence:
    text: str  # without markers
    cites: list[int] = field(default_factory=list)  # final citation numbers
    supported: bool = False
    missing_facts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Supported by a cited source, with every number and name found there."""
        return self.supported and not self.missing_facts


@dataclass
class CheckedAnswer:
    text: str  # the answer with renumbered [n] markers
    citations: list[Citation]
    sentences: list[CheckedSentence]  # the sentences kept in ``text``
    removed: list[CheckedSentence] = field(default_factory=list)  # dropped by ``keep_unsupported=False``

    @property
    def unsupported(self) -> list[CheckedSentence]:
        return [s for s in self.sentences + self.removed if not s.ok]


def bigrams(text: str) -> set[str]:
    """Character bigrams of ``text`` after NFKC, lower-casing and dropping spaces and punctuation."""
    t = _DROP.sub("", unicodedata.normalize("NFKC", text).lower())
    return {t[i:i + 2] for i in range(len(t) - 1)} or ({t} if t else set())


def lexical_support(sentence: str, source_sentence: str, ignore: frozenset[str] = frozenset()) -> float:
    """Share of the sentence's character bigrams that occur in the source sentence.

    Bigrams in ``ignore`` (those of the question: restating it is not a claim) do not count,
    unless almost nothing else is left.
    """
    a = bigrams(sentence)
    if len(a - ignore) >= 4:
        a -= ignore
    return len(a & bigrams(source_sentence)) / len(a) if a else 0.0


def split_answer(text: str) -> list[tuple[str, list[int]]]:
    """Answer sentences without markers, each with the source numbers it cites."""
    text = _MARKERS_AFTER_STOP.sub(lambda m: m.group(2).strip() + m.group(1), unicodedata.normalize("NFKC", text))
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


class SourceSentences:
    """Each source's sentences and pairs of adjacent sentences (an answer sentence often joins
    two), as exact slices of the source text."""

    def __init__(self, passages: Sequence[Passage], question: str = "") -> None:
        self.ignore = frozenset(bigrams(question)) if question else frozenset()
        self.by_n: dict[int, list[str]] = {}
        self.single: dict[int, int] = {}  # how many of by_n[n] are single sentences
        self.titles = [p.title for p in passages if p.title]
        for p in passages:
            spans = split_sentences(p.text) or [(0, len(p.text))]
            pairs = [p.text[spans[i][0]:spans[i + 1][1]] for i in range(len(spans) - 1)]
            self.by_n[p.n] = [p.text[s:e] for s, e in spans] + pairs
            self.single[p.n] = len(spans)

    def is_title(self, sentence: str) -> bool:
        """Whether ``sentence`` is (nearly) just the title of a source: a small model copies the
        title as if it were the answer, and a title is no claim. (Section headings are not
        told apart from short lines such as a byline, so only titles count.)"""
        return any(lexical_support(sentence, t) >= 0.8 and lexical_support(t, sentence) >= 0.8
                   for t in self.titles)

    def best(self, sentence: str, n: int, similarity: Similarity | None) -> tuple[float, float, str]:
        """(lexical support, semantic support, best quote) of source ``n`` for ``sentence``."""
        candidates = self.by_n[n]
        lex = [lexical_support(sentence, c, self.ignore) for c in candidates]
        # Embeddings cost time; ask for them only when the characters alone do not support it,
        # and only for single sentences.
        sem = [0.0] * len(candidates)
        if similarity is not None and max(lex) < LEXICAL_SUPPORT:
            sem[:self.single[n]] = list(similarity(sentence, candidates[:self.single[n]]))
        # Rescale so that the language pair's threshold maps onto SEMANTIC_SUPPORT.
        cross = detect_language(sentence) != detect_language(" ".join(candidates[:self.single[n]]))
        if cross:
            sem = [v * SEMANTIC_SUPPORT / SEMANTIC_SUPPORT_CROSS for v in sem]
        # A single sentence wins over a pair that supports the claim no better.
        i = max(range(len(candidates)), key=lambda j: (
            max(lex[j], sem[j] if sem[j] >= SEMANTIC_SUPPORT else 0), j < self.single[n], lex[j]))
        return lex[i], sem[i], candidates[i]


def check_answer(answer: str, passages: Sequence[Passage], similarity: Similarity | None = None,
                 keep_unsupported: bool = True, question: str = "") -> CheckedAnswer:
    """Verify and renumber the citations of ``answer`` against ``passages`` (see module doc).

    With ``keep_unsupported=False`` a sentence that no source supports, or that states a
    number or name missing from its sources, is removed before renumbering. Words of
    ``question`` repeated in the answer are not counted as claims.
    """
    by_n = {p.n: p for p in passages}
    sources = SourceSentences(passages, question)
    checked: list[tuple[CheckedSentence, list[int], dict[int, str]]] = []
    for sentence, cites in split_answer(answer):
        scored = {}
        for n in by_n:
            lex, sem, quote = sources.best(sentence, n, similarity)
            scored[n] = (lex >= LEXICAL_SUPPORT or sem >= SEMANTIC_SUPPORT, max(lex, sem), quote)
        valid = [n for n in cites if n in by_n and scored[n][0]]
        if not valid:
            supporting = sorted((n for n in by_n if scored[n][0]), key=lambda n: -scored[n][1])
            valid = supporting[:1]
        result = CheckedSentence(sentence, supported=bool(valid) and not sources.is_title(sentence))
        cited = [by_n[n].text for n in (valid or by_n)]
        cross = detect_language(sentence) != detect_language(" ".join(cited))
        result.missing_facts = missing_facts(sentence, cited, codes_only=cross)
        checked.append((result, valid, {n: scored[n][2] for n in valid}))

    quotes: dict[int, str] = {}  # source n -> the quote of the first sentence citing it
    for result, valid, sentence_quotes in checked:
        if keep_unsupported or result.ok:
            for n in valid:
                quotes.setdefault(n, sentence_quotes[n])
    return _renumber([(result, valid) for result, valid, _ in checked], keep_unsupported, lambda n, number: Citation(
        number, by_n[n].doc_id, by_n[n].title, by_n[n].source, by_n[n].chunk_id, by_n[n].text, quotes[n]))


def check_translation(text: str, draft: CheckedAnswer, similarity: Similarity | None = None) -> CheckedAnswer:
    """Carry the checked citations of ``draft`` over to ``text``, its translation.

    Support was checked on the draft, in the sources' own language, where characters can be
    compared. A translated sentence keeps the markers it copied from the draft when they are
    valid; one without (or with invalid) markers takes the citations of the draft sentence it
    translates (same position when the sentence counts match, else the most similar one by
    embedding). Every number, code and acronym it states must still occur in its cited passages,
    so a translation cannot add a figure or a model name; sentences that do are removed.
    (Camel-case names are not checked here: SoftBank is ソフトバンク in a Japanese article, and
    the draft they were translated from has passed the full check.) Citations are renumbered in
    order of first use.
    """
    by_n = {c.n: c for c in draft.citations}
    sentences = split_answer(text)
    checked: list[tuple[CheckedSentence, list[int]]] = []
    for i, (sentence, cites) in enumerate(sentences):
        valid = [n for n in cites if n in by_n]
        if not valid and draft.sentences:
            if len(sentences) == len(draft.sentences):
                source = draft.sentences[i]
            elif similarity is not None:
                scores = list(similarity(sentence, [s.text for s in draft.sentences]))
                source = draft.sentences[max(range(len(scores)), key=scores.__getitem__)]
            else:
                source = draft.sentences[min(i, len(draft.sentences) - 1)]
            valid = list(source.cites)
        result = CheckedSentence(sentence, supported=bool(valid))
        result.missing_facts = missing_facts(sentence, [by_n[n].text for n in valid], acronyms_only=True)
        checked.append((result, valid))

    return _renumber(checked, False, lambda n, number: replace(by_n[n], n=number))


def _renumber(checked: list[tuple[CheckedSentence, list[int]]], keep_unsupported: bool,
              citation: Callable[[int, int], Citation]) -> CheckedAnswer:
    """Drop failed sentences (unless ``keep_unsupported``), number the sources still cited 1..m
    in order of first use, and build each one's :class:`Citation` with ``citation(n, number)``."""
    final: dict[int, int] = {}  # source n -> citation number
    kept, removed = [], []
    for result, valid in checked:
        if not keep_unsupported and not result.ok:
            removed.append(result)
            continue
        for n in valid:
            final.setdefault(n, len(final) + 1)
            result.cites.append(final[n])
        kept.append(result)
    citations = [citation(n, final[n]) for n in sorted(final, key=final.get)]
    return CheckedAnswer(_join(kept), citations, kept, removed)


def _with_markers(sentence: str, cites: list[int]) -> str:
    """Markers go before the closing punctuation: 〜です[1]。 / ... here [1]."""
    marks = "".join(f"[{c}]" for c in cites)
    m = re.search(r"[。．！？!?.]+$", sentence)
    return sentence[:m.start()] + marks + m.group(0) if m else sentence + marks


def _join(sentences: list[CheckedSentence]) -> str:
    parts = []
    for s in sentences:
        piece = _with_markers(s.text, s.cites) if s.cites else s.text
        ascii_end = parts and parts[-1][-1:].isascii() and piece[:1].isascii()
        parts.append((" " if ascii_end else "") + piece)
    return "".join(parts)
