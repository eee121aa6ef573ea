"""Chroma server mode: with `chroma run` stopped, ingest and ask fail with a clear message; once
it is back, the same Chatbot object (no restart) works again."""

import pytest

from chatbot import Chatbot, Settings
from chatbot.text import is_question
from chatbot.errors import StoreUnavailableError
from conftest import ScriptedChatModel
from helpers import free_port, start_chroma

from chain_helpers import NVIDIA_JA


@pytest.mark.server
def test_server_down_then_back_without_restarting(tmp_path, e5, corpus_copy):
    port = free_port()
    path = tmp_path / "chroma-server"
    server = start_chroma(path, port)
    model = ScriptedChatModel(replies=[], prompts=[])
    bot = Chatbot(Settings(data_dir=tmp_path / "data", chroma_url=f"http://127.0.0.1:{port}"),
                  embeddings=e5, chat_model=model)
    try:
        assert bot.ingest(corpus_copy).chunks_added > 0
        # The model's script: "answerable", then a statement copied from the evidence (before and after the outage).
        found = bot.chain.find(bot.chain.condense(NVIDIA_JA))
        copy = next(s for s in found.evidence.ranked if s.text.endswith("。") and not is_question(s.text))
        model.replies += ["はい", copy.text] * 2
        assert not bot.ask(NVIDIA_JA).refused
        server.terminate()
        server.wait(timeout=30)

        with pytest.raises(StoreUnavailableError, match="chroma run"):
            bot.ask(NVIDIA_JA)
        (corpus_copy / "new.md").write_text("# 新しい記事\n\n新しい記事の本文です。\n", encoding="utf-8")
        with pytest.raises(StoreUnavailableError, match="chroma run"):
            bot.ingest(corpus_copy)

        server = start_chroma(path, port)
        answer = bot.ask(NVIDIA_JA)
        assert not answer.refused and answer.citations
        report = bot.ingest(corpus_copy)
        assert report.chunks_added == 1 and report.chunks_unchanged > 0  # nothing lost, nothing redone
    finally:
        server.terminate()
        server.wait(timeout=30)
