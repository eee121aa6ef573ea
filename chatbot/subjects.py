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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from .chunking import split_sentences
from .lexical import proper_nouns
from .retrieval import SearchResult
from .text import nfkc

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

    @classmethod
    def of(cls, questions: Sequence[str], results: Sequence[SearchResult]) -> Subjects:
        """The names of ``questions`` (the question and its translation) found in ``results``."""
        corpus = nfkc(" ".join(f"{r.title}\n{r.text}" for r in results)).lower()
        terms = {n for q in questions for n in names(q) if n in corpus}
        return cls(tuple(sorted(terms)))

    def about(self, sentence: EvidenceSentence | None) -> bool:
        """Whether ``sentence`` is about one of the subjects (see module doc); true when the
        question names no subject the passages spell."""
        if not self.terms or sentence is None:
            return True
        r = sentence.result
        before = [r.text[s:e] for s, e in split_sentences(r.text[:sentence.start])][-CONTEXT_SENTENCES:]
        context = nfkc(" ".join([r.title, *before, sentence.text])).lower()
        return any(t in context for t in self.terms)
