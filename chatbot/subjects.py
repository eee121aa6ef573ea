"""Whether an evidence sentence is about the company, person or product the question asks about.

The worst answer the product can give is a true figure of one company cited as the figure of
another ("the plant's capacity is 5 GW [2]", where [2] is about a competitor's plant): the
number is in the cited sentence, so the citation checks pass. So a cited sentence must be about
one of the question's subjects: the subject named in the sentence itself, in the two sentences
before it in its passage (「同社は…」 refers back), or in its article's title.

The subjects are the names in the question — Latin-script names and codes (multi-word names
kept whole: "Kairo Robotics"), Japanese proper nouns and katakana names (アンソロピック) —
that at least one retrieved passage spells the same way; a name no passage mentions is the
question-terms gate's business, and one spelled differently (Nadella / ナデラ) cannot be
checked by characters, so it is left out rather than failing every sentence.

One of the sentences the answer may lead with must name more: every one of the question's
subjects that is a name (:attr:`Subjects.names`: not a word the dictionary lists as a common noun, シリーズ or
GPU, nor a country, which each language spells its own way). Asked "Velora Motorsの社長は誰",
an article that names Velora Motors only as a competitor of the company whose president it
names cannot answer (:meth:`Subjects.covers`, which also reads the byline: the author's name;
the gate's ``quote_not_about_question``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from .chunking import split_sentences
from .lexical import is_common_noun, proper_nouns
from .retrieval import SearchResult
from .text import nfkc
from .transliteration import EXONYM_FORMS

if TYPE_CHECKING:
    from .evidence import EvidenceSentence

# Capitalized words or codes in a row (Kairo Robotics, OpenAI, AWS, GB200), not at a sentence start
# unless they carry an inner capital or a digit.
_LATIN = re.compile(r"(?:[A-Z][A-Za-z0-9&.'-]*[A-Za-z0-9]|[A-Z]{2,})(?:\s+(?:[A-Z][A-Za-z0-9&.'-]*[A-Za-z0-9]|[A-Z]{2,}))*")
_KATAKANA = re.compile(r"[\u30a1-\u30fa][\u30a1-\u30fa\u30fc・]{2,}")
_NOT_NAMES = {"why", "what", "when", "where", "who", "which", "how", "does", "did", "is", "are", "the", "a", "an",
              "in", "on", "of", "and", "or", "according", "article", "articles", "i", "ceo"}
CONTEXT_SENTENCES = 2  # sentences before the cited one that may name its subject (「同社は…」)


def names(question: str) -> list[str]:
    """Candidate subject names of ``question``, lower-cased, longest first."""
    text = nfkc(question)
    found = []
    for m in _LATIN.finditer(text):
        words = [w for w in m.group(0).split() if w.lower() not in _NOT_NAMES]
        if words:
            found.append(" ".join(words))
    found += _KATAKANA.findall(text) + proper_nouns(text)
    return sorted({n.lower() for n in found if len(n) >= 2}, key=len, reverse=True)


@dataclass(frozen=True)
class Subjects:
    """The question's subjects as the passages spell them; empty when it names none."""

    terms: tuple[str, ...] = ()
    names: tuple[str, ...] = ()  # the terms that name one company, person or product

    @classmethod
    def of(cls, questions: Sequence[str], results: Sequence[SearchResult]) -> Subjects:
        """The names of ``questions`` (the question and its translation) found in ``results``."""
        corpus = nfkc(" ".join(f"{r.title}\n{r.text}" for r in results)).lower()
        terms = sorted({n for q in questions for n in names(q) if n in corpus})
        return cls(tuple(terms), tuple(t for t in terms if t not in EXONYM_FORMS and not is_common_noun(t)))

    def about(self, sentence: EvidenceSentence | None) -> bool:
        """Whether ``sentence`` is about one of the subjects (see module doc); true when the
        question names no subject the passages spell."""
        if not self.terms or sentence is None:
            return True
        context = _context(sentence)
        return any(t in context for t in self.terms)

    def covers(self, sentence: EvidenceSentence) -> bool:
        """Whether ``sentence`` (with its title, byline and the sentences before it) names every
        one of :attr:`names`."""
        context = _context(sentence, sentence.result.byline or "")
        return all(t in context for t in self.names)


def _context(sentence: EvidenceSentence, byline: str = "") -> str:
    """``sentence`` with what may name its subject: its article's title (and ``byline``) and the
    :data:`CONTEXT_SENTENCES` before it in its passage; NFKC, lower-cased."""
    r = sentence.result
    before = [r.text[s:e] for s, e in split_sentences(r.text[:sentence.start])][-CONTEXT_SENTENCES:]
    return nfkc(" ".join([r.title, byline, *before, sentence.text])).lower()
