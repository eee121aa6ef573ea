"""Shared fixtures: every test gets its own data dir; the real e5 embedder is loaded once."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from chatbot import Chatbot, Settings
from chatbot.embeddings import E5Embeddings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
# pytest-timeout: tests marked llm, server or browser get this limit instead of the per-test one
# in pyproject.toml (their first test also pays for loading the model or starting the app).
SLOW_TEST_TIMEOUT = 900
SLOW_MARKS = {"llm", "server", "browser"}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("timeout") is None and SLOW_MARKS & {m.name for m in item.iter_markers()}:
            item.add_marker(pytest.mark.timeout(SLOW_TEST_TIMEOUT))


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CHATBOT_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="session")
def e5() -> E5Embeddings:
    return E5Embeddings(Settings().embedding_model)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the project's corpus (the folder name stays ``corpus``)."""
    dst = tmp_path / "src" / "corpus"
    shutil.copytree(CORPUS, dst)
    return dst


@pytest.fixture
def bot(settings, e5) -> Chatbot:
    return Chatbot(settings, embeddings=e5)


@pytest.fixture(scope="session")
def corpus_bot(tmp_path_factory, e5) -> Chatbot:
    """A bot with the project's corpus ingested once per session (read-only use)."""
    b = Chatbot(Settings(data_dir=tmp_path_factory.mktemp("corpus-data")), embeddings=e5)
    b.ingest(CORPUS)
    return b


class ScriptedChatModel(BaseChatModel):
    """A fake chat model for pinning down chain logic: replies from a script, streamed in
    small pieces, and every prompt it was given kept in ``prompts``."""

    replies: list[str]
    prompts: list[list[BaseMessage]] = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _next(self, messages: list[BaseMessage]) -> str:
        self.prompts.append(messages)
        return self.replies.pop(0)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._next(messages)))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs) -> Iterator[ChatGenerationChunk]:
        text = self._next(messages)
        for i in range(0, len(text), 5):
            yield ChatGenerationChunk(message=AIMessageChunk(content=text[i:i + 5]))


FABRICATED = "OpenAIの従業員は3,500人です[1]。"  # an answer with a figure no article has: the check removes it


class DecidingModel(ScriptedChatModel):
    """Says yes to every decision prompt (two messages) and answers every answer prompt with
    ``FABRICATED``: the same reply for the same prompt whichever request asks first (for
    concurrent requests and batches)."""

    def _next(self, messages):
        self.prompts.append(messages)
        return "はい" if len(messages) == 2 else FABRICATED


@pytest.fixture
def scripted_bot(corpus_bot):
    """``scripted_bot(*replies)``: the ingested corpus answered by a :class:`ScriptedChatModel`."""
    def make(*replies: str) -> Chatbot:
        b = Chatbot(corpus_bot.settings, embeddings=corpus_bot.embeddings,
                    chat_model=ScriptedChatModel(replies=list(replies), prompts=[]))
        b.store = corpus_bot.store  # share the session's store and BM25 index
        b.retriever = corpus_bot.retriever
        return b
    return make
