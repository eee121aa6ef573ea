"""Prompts as data: one YAML file per answer language in ``chatbot/prompts/``.

Each file holds the system and user templates of the answer prompt, the template of one
numbered source, the condense (follow-up rewrite) prompt, the refusal message and the phrases
by which a model says the sources do not hold the answer. The system prompt comes first and
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


@dataclass(frozen=True)
class PromptSet:
    """The prompts of one answer language."""

    language: str
    system: str
    user: str
    source: str
    refusal: str
    closest: str
    condense: str
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

    def format_source(self, n: int, title: str, text: str) -> str:
        return self.source.format(n=n, title=title or "(untitled)", text=text)

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
                     refusal=data["refusal"], closest=data["closest"], condense=data["condense"],
                     refusal_markers=tuple(data["refusal_markers"]))
