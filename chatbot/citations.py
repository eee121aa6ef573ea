"""Citations enforced in code: parse [n] markers, align uncited sentences, flag the unsupported.

The model is asked to write [n] after each claim, but a small model forgets, cites the wrong
source or invents a number. So for every answer sentence:

1. markers pointing to no source are dropped;
2. each cited source is checked: it must support the sentence (character-bigram overlap for
   Japanese; embedding similarity, if given, as a second signal that also works across
   languages). A sentence with no supporting cited source is aligned to the source that
   supports it best, or flagged unsupported when none does;
3. every number and Latin-script name in the sentence must occur in one of its cited sources;
4. citations are renumbered 1..m in order of first use, keeping only those used.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Sequence

from .chunking import split_sentences
from .facts import missing_facts

# [1], [1, 2], ［１］, 【1】, [1][2]
_MARKER = re.compile(r"[\[［【]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]］】]")
_MARKERS_AFTER_STOP = re.compile(r"([。．！？!?])(\s*(?:[\[［【]\s*\d+(?:\s*[,，、]\s*\d+)*\s*[\]］】]\s*)+)")
_DROP = re.compile(r"[\s、。,.!?！？「」『』()（）\[\]［］【】・:：;；\"'“”‘’]")

LEXICAL_SUPPORT = 0.5  # share of the sentence's character bigrams found in the source sentence
SEMANTIC_SUPPORT = 0.86  # e5 cosine between the answer sentence and a source sentence

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


@dataclass
class CheckedAnswer:
    text: str  # the answer with renumbered [n] markers
    citations: list[Citation]
    sentences: list[CheckedSentence]

    @property
    def unsupported(self) -> list[CheckedSentence]:
        return [s for s in self.sentences if not s.supported or s.missing_facts]


def _bigrams(text: str) -> set[str]:
    t = _DROP.sub("", unicodedata.normalize("NFKC", text).lower())
    return {t[i:i + 2] for i in range(len(t) - 1)} or ({t} if t else set())


def lexical_support(sentence: str, source_sentence: str) -> float:
    """Share of the sentence's character bigrams that occur in the source sentence."""
    a = _bigrams(sentence)
    return len(a & _bigrams(source_sentence)) / len(a) if a else 0.0


def split_answer(text: str) -> list[tuple[str, list[int]]]:
    """Answer sentences without markers, each with the source numbers it cites."""
    text = _MARKERS_AFTER_STOP.sub(lambda m: m.group(2).strip() + m.group(1), unicodedata.normalize("NFKC", text))
    out = []
    for s, e in split_sentences(text):
        sentence = text[s:e]
        cites = [int(n) for m in _MARKER.finditer(sentence) for n in re.split(r"[,，、]", m.group(1))]
        clean = re.sub(r"\s+([。.!?！？])", r"\1", _MARKER.sub("", sentence)).strip()
        if clean:
            out.append((clean, list(dict.fromkeys(cites))))
        elif cites and out:  # a line holding only markers belongs to the sentence before it
            out[-1][1].extend(c for c in cites if c not in out[-1][1])
    return out


class _SourceSentences:
    def __init__(self, passages: Sequence[Passage]) -> None:
        self.by_n = {p.n: [p.text[s:e] for s, e in split_sentences(p.text)] or [p.text] for p in passages}

    def best(self, sentence: str, n: int, similarity: Similarity | None) -> tuple[float, float, str]:
        """(lexical support, semantic support, best quote) of source ``n`` for ``sentence``."""
        candidates = self.by_n[n]
        lex = [lexical_support(sentence, c) for c in candidates]
        sem = list(similarity(sentence, candidates)) if similarity else [0.0] * len(candidates)
        i = max(range(len(candidates)), key=lambda j: (max(lex[j], sem[j] if sem[j] >= SEMANTIC_SUPPORT else 0), lex[j]))
        return lex[i], sem[i], candidates[i]


def check_answer(answer: str, passages: Sequence[Passage], similarity: Similarity | None = None) -> CheckedAnswer:
    """Verify and renumber the citations of ``answer`` against ``passages`` (see module doc)."""
    by_n = {p.n: p for p in passages}
    sources = _SourceSentences(passages)
    final: dict[int, int] = {}  # source n -> citation number
    quotes: dict[int, str] = {}
    checked: list[CheckedSentence] = []
    for sentence, cites in split_answer(answer):
        scored = {}
        for n in by_n:
            lex, sem, quote = sources.best(sentence, n, similarity)
            scored[n] = (lex >= LEXICAL_SUPPORT or sem >= SEMANTIC_SUPPORT, max(lex, sem), quote)
        valid = [n for n in cites if n in by_n and scored[n][0]]
        if not valid:
            supporting = sorted((n for n in by_n if scored[n][0]), key=lambda n: -scored[n][1])
            valid = supporting[:1]
        result = CheckedSentence(sentence, supported=bool(valid))
        result.missing_facts = missing_facts(sentence, [by_n[n].text for n in (valid or by_n)])
        for n in valid:
            if n not in final:
                final[n] = len(final) + 1
                quotes[n] = scored[n][2]
            result.cites.append(final[n])
        checked.append(result)

    citations = [Citation(final[n], by_n[n].doc_id, by_n[n].title, by_n[n].source, by_n[n].chunk_id,
                          by_n[n].text, quotes[n]) for n in sorted(final, key=final.get)]
    return CheckedAnswer(_join(checked), citations, checked)


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
