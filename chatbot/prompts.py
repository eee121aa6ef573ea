"""Prompts as data: one YAML file per answer language in ``chatbot/prompts/``.

Each file holds the system and user templates of the answer prompt, the template of one
numbered source, the condense (follow-up rewrite) prompt, the follow-up fallback, the
translation prompt (into that file's language), the refusal message and the phrases by which
a model says the sources do not hold the answer. The system prompt comes first and
never changes, so llama.cpp reuses its KV cache across questions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml
from langchain_core.prompts import ChatPromptTemplate

LANGUAGES = ("ja", "en")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


def detect_language(text: str) -> str:
    """``"ja"`` when the text contains kana or kanji, else ``"en"``."""
    return "ja" if _JAPANESE.search(text) else "en"


def text_language(text: str) -> str:
    """The language most of a longer text is written in: ``"ja"`` when kana and kanji make up
    at least a third of its letters (an English article quoting a Japanese name stays English)."""
    japanese = len(_JAPANESE.findall(text))
    letters = japanese + sum(ch.isascii() and ch.isalpha() for ch in text)
    return "ja" if letters and japanese / letters >= 1 / 3 else "en"


@dataclass(frozen=True)
class PromptSet:
    """The prompts of one answer language."""

    language: str
    system: str
    user: str
    source: str
    byline: str
    refusal: str
    closest: str
    condense: str
    follow_up: str
    translate: str
    refusal_markers: tuple[str, ...]

    @property
    def answer_prompt(self) -> ChatPromptTemplate:
        """Messages for the answer: variables ``sources`` and ``question``."""
        return ChatPromptTemplate.from_messages(
            [("system", self.system.replace("{refusal}", self.refusal)), ("human", self.user)])

    @property
    def condense_prompt(self) -> ChatPromptTemplate:
        """Messages for the follow-up rewrite: variables ``history`` and ``question``."""
        return ChatPromptTemplate.from_messages([("human", self.condense)])

    @property
    def translate_prompt(self) -> ChatPromptTemplate:
        """Messages that translate ``text`` into this language, keeping [n] markers."""
        return ChatPromptTemplate.from_messages([("human", self.translate)])

    def format_follow_up(self, question: str, previous: str) -> str:
        """A follow-up the model could not rewrite, with the previous question as context."""
        return self.follow_up.format(question=question, previous=previous)

    def format_source(self, n: int, title: str, text: str, byline: str = "") -> str:
        """One numbered source; ``byline`` (publisher, author, date) follows the title."""
        return self.source.format(n=n, title=title or "(untitled)", text=text,
                                  byline=self.byline.format(byline=byline) if byline else "")

    def is_refusal(self, answer: str) -> bool:
        """Whether the model's answer says that the sources do not hold the answer.

        Only the opening sentence counts: a real answer may mention in passing that a
        detail is not stated.
        """
        text = unicodedata.normalize("NFKC", answer).strip().lower()
        first = re.split(r"(?<=[。．.!?！？])\s*", text, maxsplit=1)[0]
        return not text or any(m.lower() in first for m in self.refusal_markers)


@lru_cache(maxsize=None)
def prompts_for(language: str) -> PromptSet:
    """The prompt set for ``language`` (``ja`` or ``en``)."""
    if language not in LANGUAGES:
        language = "en"
    data = yaml.safe_load(resources.files("chatbot").joinpath("prompts", f"{language}.yaml").read_text("utf-8"))
    return PromptSet(language=language, system=data["system"], user=data["user"], source=data["source"],
                     byline=data["byline"],
                     refusal=data["refusal"], closest=data["closest"], condense=data["condense"],
                     follow_up=data["follow_up"], translate=data["translate"],
                     refusal_markers=tuple(data["refusal_markers"]))
