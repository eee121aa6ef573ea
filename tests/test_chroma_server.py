"""Ingest and query through a real `chroma run` server on 127.0.0.1."""

import pytest

from chatbot import Chatbot, Settings
from chatbot.errors import StoreUnavailableError
from helpers import free_port, start_chroma

@pytest.mark.server
def test_ingest_and_search_through_chroma_server(tmp_path, e5, corpus_copy):
    port = free_port()
    server = start_chroma(tmp_path / "chroma-server", port)
    try:
        settings = Settings(data_dir=tmp_path / "data", chroma_url=f"http://127.0.0.1:{port}")
        bot = Chatbot(settings, embeddings=e5)
        report = bot.ingest(corpus_copy)
        assert report.chunks_added > 0
        results = bot.search("なぜOpenAIはTrainiumではなくNVIDIAを選んだのか", k=3)
        assert any("CUDA" in r.text for r in results)
        assert not (tmp_path / "data" / "chroma").exists()  # nothing went to the embedded store
        # a second client sees the same index without re-embedding
        assert Chatbot(settings, embeddings=e5).ingest(corpus_copy).chunks_added == 0
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.server
def test_unreachable_server_is_a_clear_error(tmp_path, e5):
    settings = Settings(data_dir=tmp_path / "data", chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StoreUnavailableError, match="chroma run"):
        Chatbot(settings, embeddings=e5).search("OpenAI")
