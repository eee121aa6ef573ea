"""Shared fixtures: every test gets its own data dir; the real e5 embedder is loaded once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chatbot import Chatbot, Settings
from chatbot.embeddings import E5Embeddings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CHATBOT_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="session")
def e5() -> E5Embeddings:
    return E5Embeddings()


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
