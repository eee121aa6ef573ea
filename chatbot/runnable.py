"""The answer chain as a LangChain ``Runnable`` (:meth:`Chatbot.as_runnable`), for LCEL pipelines.

Its output has the shape of LangChain's ``create_retrieval_chain`` (``input``, ``chat_history``,
``context``, ``answer``) plus the checked citations, and it streams as ``AddableDict`` chunks
that add up to the ``invoke`` result: first ``{"input", "chat_history", "draft": ""}``, then
``{"draft": delta}`` while the model writes, then ``{"answer", "citations", "refused",
"refusal_reason", "context"}`` once the answer is checked. ``draft`` is the model's unchecked
text; ``answer`` is the checked text (its ``[n]`` markers index ``citations``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableGenerator
from langchain_core.runnables.utils import AddableDict

from . import Answer
from .retrieval import as_document
from .views import citation_views

if TYPE_CHECKING:
    from .bot import Chatbot

_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


def answer_runnable(bot: Chatbot) -> Runnable:
    """``invoke("question")`` or ``invoke({"input": ..., "chat_history": [...], "top_k": 5})``.

    ``chat_history`` takes LangChain messages, ``{"role", "content"}`` dicts or
    ``(user, assistant)`` pairs. The input may also be a message (a chat model's reply).
    """

    def answer_stream(inputs: Iterator[Any]) -> Iterator[AddableDict]:
        value = None
        for chunk in inputs:  # an upstream step may stream its output (a question being written)
            value = chunk if value is None else value + chunk
        question, history, top_k = _parse(value)
        yield AddableDict(input=question, chat_history=history, draft="")
        for event in bot.stream(question, history, top_k):
            if isinstance(event, str):
                yield AddableDict(draft=event)
            elif isinstance(event, Answer):
                yield AddableDict(answer=event.text, citations=citation_views(event), refused=event.refused,
                                  refusal_reason=event.refusal_reason,
                                  context=[as_document(r) for r in event.sources])

    return RunnableGenerator(answer_stream, name="chatbot_answer")


def _parse(value: Any) -> tuple[str, list, int | None]:
    """``(question, history, top_k)`` from a string, a message or a dict."""
    if isinstance(value, BaseMessage):
        value = str(value.text)  # the text parts of the content
    if isinstance(value, str):
        return value, [], None
    if isinstance(value, dict):
        question = value.get("input", value.get("question"))
        if isinstance(question, BaseMessage):
            question = _parse(question)[0]
        if not isinstance(question, str):
            raise TypeError("The answer runnable takes a question: a string, or a dict with 'input' (or 'question').")
        history = [_message(m) for m in value.get("chat_history", value.get("history")) or []]
        return question, history, value.get("top_k")
    raise TypeError(f"The answer runnable takes a question string or a dict, not {type(value).__name__}.")


def _message(m: Any) -> Any:
    if isinstance(m, BaseMessage):
        return {"role": _ROLES.get(m.type, "user"), "content": m.content}
    return m
