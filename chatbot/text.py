"""Text helpers shared by every stage: normalization, language, bigrams, sentence forms.

One definition each, so that the evidence scorer, the citation checks, the gates and the
answer shaping agree on what a question, a full sentence or a language is.
"""

from __future__ import annotations

import re
import unicodedata

from .rules import MIN_QUOTE_CHARS

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_HIRAGANA = re.compile(r"[\u3041-\u309f]")
_DROP = re.compile(r"[\s、。,.!?！？「」『』()（）\[\]［］【】・:：;；\"'“”‘’]")
_SENTENCE_END = re.compile(r"[。．！？!?.」』)）]$")


def nfkc(text: str) -> str:
    """NFKC: full-width digits and letters become ASCII, half-width katakana full-width."""
    return unicodedata.normalize("NFKC", text)


def language_of(text: str) -> str:
    """``"ja"`` or ``"en"``: the one language detector used everywhere.

    Japanese when the text has hiragana (the particles of any Japanese sentence, however short:
    「NVIDIAは？」) or when kana and kanji make up at least a third of its letters; so an
    English text quoting a katakana name or one kanji stays English."""
    japanese = len(_JAPANESE.findall(text))
    if not japanese:
        return "en"
    if _HIRAGANA.search(text):
        return "ja"
    letters = japanese + sum(ch.isascii() and ch.isalpha() for ch in text)
    return "ja" if japanese / letters >= 1 / 3 else "en"


def other_language(language: str) -> str:
    """The product's other language: ``"en"`` for ``"ja"`` and the reverse."""
    return "en" if language == "ja" else "ja"


def bigrams(text: str) -> set[str]:
    """Character bigrams of ``text`` after NFKC, lower-casing and dropping spaces and punctuation."""
    t = _DROP.sub("", nfkc(text).lower())
    return {t[i:i + 2] for i in range(len(t) - 1)} or ({t} if t else set())


def is_question(sentence: str) -> bool:
    """Whether ``sentence`` asks rather than states (「…のか。」, 「…ですか？」, "...?")."""
    return sentence.rstrip("」』)）\"' ").endswith(("か。", "か？", "?", "？", "のか", "か"))


def is_full_sentence(text: str) -> bool:
    """A statement that can be quoted as an answer: long enough and ending like a sentence, so
    a heading or a byline line (「この記事の監修」) is not one."""
    text = text.strip()
    return len(text) >= MIN_QUOTE_CHARS and bool(_SENTENCE_END.search(text))
