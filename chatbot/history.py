"""The conversation so far, as the answer chain reads it: turns, and what a follow-up refers to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from .citations import MARKER

History = Sequence[Any]  # [{"role": "user"|"assistant", "content": str}, ...] or [(user, assistant), ...]

# An article sentence quoted in an earlier answer: 「…」 (Japanese) or “…” / "..." (English).
_QUOTED = re.compile(r"「([^「」]{8,})」|“([^“”]{8,})”|\"([^\"]{8,})\"")


@dataclass(frozen=True)
class Turn:
    role: str  # "user" or "assistant"
    text: str


def turns_of(history: History | None) -> list[Turn]:
    """The non-empty turns of chat messages or ``(user, assistant)`` pairs, oldest first."""
    turns: list[Turn] = []
    for item in history or []:
        if isinstance(item, dict):
            turns.append(Turn(item.get("role", "user"), message_text(item.get("content"))))
        else:
            user, assistant = item
            turns += [Turn("user", user or ""), Turn("assistant", assistant or "")]
    return [t for t in turns if t.text]


def message_text(content: Any) -> str:
    """Message content as text (chat UIs may send a list of parts such as ``{"type": "text", ...}``)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(message_text(p.get("text", "") if isinstance(p, dict) else p) for p in content)
    return str(content or "")


@dataclass(frozen=True)
class Context:
    """What a follow-up can refer to: the previous question and what its answer said."""

    question: str
    answer: str  # the previous answer's quoted article sentence(s), else its first sentence; no markers


def previous_context(turns: list[Turn]) -> Context | None:
    """The last question and the gist of its answer, or ``None`` when there is no earlier question.

    The gist is the article sentence the answer quoted (「…」), which names what the answer was
    about ("それはいつ?" after an answer quoting the AWS contract sentence refers to that contract)."""
    for i in range(len(turns) - 1, -1, -1):
        if turns[i].role != "user":
            continue
        after = next((t.text for t in turns[i + 1:] if t.role == "assistant"), "")
        quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(after)]
        gist = " ".join(quoted[:2]) if quoted else re.split(r"(?<=[。.!?！？])\s*", after.strip(), maxsplit=1)[0]
        return Context(turns[i].text, MARKER.sub("", gist).strip())
    return None
