"""Ingest and query through a real `chroma run` server on 127.0.0.1."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chatbot import Chatbot, Settings
from chatbot.errors import StoreUnavailableError

CHROMA = Path(sys.executable).parent / "chroma"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(path, port):
    proc = subprocess.Popen([str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("chroma server did not start")


@pytest.mark.server
def test_ingest_and_search_through_chroma_server(tmp_path, e5, corpus_copy):
    port = free_port()
    server = start_server(tmp_path / "chroma-server", port)
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
