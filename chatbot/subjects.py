"""Whether an evidence sentence is about the company, person or product the question asks about.

The worst answer the product can give is a true figure of one company cited as the figure of
another ("the plant's capacity is 5 GW [2]", where [2] is about a competitor's plant): the
number is in the cited sentence, so the citation checks pass. So a cited sentence must be about
one of the question's subjects: the subject named in the sentence itself, in the two sentences
before it in its passage (「同社は…」 refers back), or in its article's title.

The subjects are the names in the question — Latin-script names and codes (multi-word names
kept whole: "Kairo Robotics"), Japanese proper nouns and katakana names (アンソロピック) —
that at least one retrieved passage spells the same way; a name no passage mentions is the
question-terms gate's business. A Latin-script name that the passages write only in Japanese
(Soranote / ソラノート, Nadella / ナデラ: an English question about a Japanese article) is a
subject too when one passage writes every word of it as the whole reading of a katakana word
or proper noun (:func:`chatbot.transliteration.written_in`, stricter than the test of translated
quotes' names); a sentence is then about it when its context writes one word of it that way.

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

from .chunking import count_tokens, split_sentences
from .lexical import is_common_noun, proper_nouns
from .retrieval import SearchResult
from .text import nfkc
from .transliteration import EXONYM_FORMS, written_in

if TYPE_CHECKING:
    from .evidence import EvidenceSentence

# Capitalized words or codes in a row (Kairo Robotics, OpenAI, AWS, GB200), not at a sentence start
# unless they carry an inner capital or a digit.
_LATIN = re.compile(r"(?:[A-Z][A-Za-z0-9&.'-]*[A-Za-z0-9]|[A-Z]{2,})(?:\s+(?:[A-Z][A-Za-z0-9&.'-]*[A-Za-z0-9]|[A-Z]{2,}))*")
_KATAKANA = re.compile(r"[\u30a1-\u30fa][\u30a1-\u30fa\u30fc・]{2,}")
_NOT_NAMES = {"why", "what", "when", "where", "who", "which", "how", "does", "did", "is", "are", "the", "a", "an",
              "in", "on", "of", "and", "or", "according", "article", "articles", "i", "ceo", "name"}
_LATIN_NAME = re.compile(r"[a-z0-9][a-z0-9&.' -]*")
CONTEXT_SENTENCES = 2  # sentences before the cited one that may name its subject (「同社は…」)


def names(question: str) -> list[str]:
    """Candidate subject names of ``question``, lower-cased, longest first. A possessive ends a
    name ("Microsoft's Ashburn site": Microsoft, Ashburn), unless the passages spell the whole
    (Tom's Hardware; :meth:`Subjects.of` keeps the longest that they spell)."""
    text = nfkc(question)
    found = []
    for m in _LATIN.finditer(text):
        words = [w for w in m.group(0).split() if w.lower() not in _NOT_NAMES]
        found += [" ".join(words)] + re.split(r"['’]s(?:\s+|$)", " ".join(words)) if words else []
    found += _KATAKANA.findall(text) + proper_nouns(text)
    return sorted({n.lower() for n in found if len(n) >= 2}, key=len, reverse=True)


@dataclass(frozen=True)
class Subjects:
    """The question's subjects as the passages spell them; empty when it names none."""

    terms: tuple[str, ...] = ()  # spelled as the question spells them
    names: tuple[str, ...] = ()  # the terms that name one company, person or product
    read: tuple[str, ...] = ()  # Latin-script names the passages write only by reading (Soranote: ソラノート)

    @classmethod
    def of(cls, questions: Sequence[str], results: Sequence[SearchResult]) -> Subjects:
        """The names of ``questions`` (the question and its translation) found in ``results``."""
        texts = [f"{r.title}\n{r.text}" for r in results]
        corpus = nfkc(" ".join(texts)).lower()
        asked = {n if n in corpus else _without_ordinary_start(n, q) for q in questions for n in names(q)} - {""}
        spelled = [n for n in asked if n in corpus]
        terms = sorted(n for n in spelled if not any(n != t and n in t for t in spelled))
        read = sorted(n for n in asked - set(spelled)
                      if _only_by_reading(n, corpus) and any(written_in(n, t, every=True) for t in texts))
        return cls(tuple(terms), tuple(t for t in terms if t not in EXONYM_FORMS and not is_common_noun(t)),
                   tuple(read))

    def about(self, sentence: EvidenceSentence | None) -> bool:
        """Whether ``sentence`` is about one of the subjects (see module doc); true when the
        question names no subject the passages write."""
        if not (self.terms or self.read) or sentence is None:
            return True
        context = _context(sentence)
        return any(t in context for t in self.terms) or any(written_in(n, context) for n in self.read)

    def covers(self, sentence: EvidenceSentence) -> bool:
        """Whether ``sentence`` (with its title, byline and the sentences before it) names every
        one of :attr:`names` and, when the question has any, one of :attr:`read` (a reading
        may miss: "Kumamoto or Tomakomai" needs one of 熊本 and 苫小牧)."""
        context = _context(sentence, sentence.result.byline or "")
        return all(t in context for t in self.names) and (
            not self.read or any(written_in(n, context) for n in self.read))


def _only_by_reading(name: str, corpus: str) -> bool:
    """Whether ``name`` is a Latin-script name (not a country, not a possessive) none of whose
    words the passages (``corpus``, lower-cased) write in Latin letters, so that a reading may
    write it (Soranote: ソラノート); "NVIDIA GPUs" is NVIDIA, which they spell."""
    return (name not in EXONYM_FORMS and bool(_LATIN_NAME.fullmatch(name)) and not re.search(r"['’]s\b", name)
            and not any(re.search(rf"(?<![a-z]){re.escape(re.sub(r'(?<=[a-z])s$', '', w))}(?![a-z])", corpus)
                        for w in name.split()))


def _without_ordinary_start(name: str, question: str) -> str:
    """``name`` without a first word that only starts the question ("Roughly how many…"): an
    ordinary word there (one cl100k token, no inner capital) is capitalized, not a name; so is
    the commonest name (Microsoft), which is then checked only when the passages spell it."""
    first, _, rest = name.partition(" ")
    start = re.match(r"\W*(\w+)", nfkc(question))
    if start and start.group(1).lower() == first and start.group(1)[1:].islower() and count_tokens(f" {first}") == 1:
        return rest
    return name


def _context(sentence: EvidenceSentence, byline: str = "") -> str:
    """``sentence`` with what may name its subject: its article's title (and ``byline``) and the
    :data:`CONTEXT_SENTENCES` before it in its passage; NFKC, lower-cased."""
    r = sentence.result
    before = [r.text[s:e] for s, e in split_sentences(r.text[:sentence.start])][-CONTEXT_SENTENCES:]
    return nfkc(" ".join([r.title, byline, *before, sentence.text])).lower()
