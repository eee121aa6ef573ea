"""The MCP server through the official SDK's own client: in process (scripted model, for the
answer logic), over stdio against ``chatbot mcp`` started as a process, and over streamable HTTP
at ``/mcp`` of ``chatbot serve`` on 127.0.0.1. Real corpus, e5 embeddings and Chroma store."""

import asyncio
import subprocess
import os
import sys

import pytest
from mcp import Client, StdioServerParameters

from chatbot.mcp_server import build_server
from chatbot.openai_api import create_app
from conftest import ROOT
from helpers import DATED_ARTICLE, ThreadedServer

NVIDIA_JA = "なぜOpenAIはTrainiumではなくNVIDIAを選んだのですか？"


def call(server, *calls):
    """Run ``(tool, arguments)`` calls through one client session; return their results."""
    async def run():
        async with Client(server) as client:
            return [await client.call_tool(name, args) for name, args in calls]
    return asyncio.run(run())


def test_tools_are_listed_read_only_with_their_schemas(scripted_bot):
    async def run():
        async with Client(build_server(scripted_bot())) as client:
            return (await client.list_tools()).tools
    tools = {t.name: t for t in asyncio.run(run())}
    assert set(tools) == {"search_articles", "ask", "list_articles"}
    assert all(t.annotations.read_only_hint for t in tools.values())
    assert set(tools["search_articles"].input_schema["properties"]) == {"query", "k"}
    assert set(tools["ask"].output_schema["properties"]) >= {"answer", "refused", "refusal_reason", "citations"}


def test_ask_gives_the_checked_answer_and_its_citations(scripted_bot):
    expected = scripted_bot("はい", "OpenAIの従業員は3,500人です[1]。").ask(NVIDIA_JA)
    bot = scripted_bot("はい", "OpenAIの従業員は3,500人です[1]。", "いいえ")
    answer, refusal = call(build_server(bot), ("ask", {"question": NVIDIA_JA}),
                           ("ask", {"question": "OpenAIの従業員数は？"}))
    got = answer.structured_content
    assert not answer.is_error and got["answer"] == expected.text and not got["refused"]
    assert [(c["n"], c["doc_id"], c["quote"]) for c in got["citations"]] == [
        (c.n, c.doc_id, c.quote) for c in expected.citations]
    assert all(c["passage"][c["start"]:c["end"]] == c["quote"] for c in got["citations"])
    assert not refusal.is_error and refusal.structured_content["refused"]
    assert refusal.structured_content["citations"] == []


def test_search_and_list_and_errors(scripted_bot):
    results, articles, empty, bad_k = call(
        build_server(scripted_bot()), ("search_articles", {"query": "Trainium NVIDIA", "k": 2}),
        ("list_articles", {}), ("ask", {"question": "   "}), ("search_articles", {"query": "x", "k": 0}))
    hits = results.structured_content["results"]
    assert [h["rank"] for h in hits] == [1, 2]
    assert all("NVIDIA" in h["text"] or "Trainium" in h["text"] for h in hits)
    assert {a["doc_id"] for a in articles.structured_content["articles"]} == {
        "corpus/openai-aws-38b-deal.md", "corpus/madman-openai-aws-power-shift.md"}
    assert empty.is_error and "The question is empty" in empty.content[0].text
    assert bad_k.is_error and "greater than or equal to 1" in bad_k.content[0].text


@pytest.mark.server
def test_chatbot_mcp_over_stdio(tmp_path):
    """``chatbot mcp`` as an MCP client starts it: a subprocess speaking over stdin/stdout."""
    corpus = tmp_path / "news"
    corpus.mkdir()
    (corpus / "kawasemi.md").write_text(DATED_ARTICLE, encoding="utf-8")
    env = {**os.environ, "CHATBOT_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    params = StdioServerParameters(command=sys.executable, args=["-m", "chatbot", "mcp"], env=env,
                                   cwd=str(tmp_path))
    (empty,) = call(params, ("search_articles", {"query": "資金調達"}))
    assert empty.is_error and "chatbot ingest" in empty.content[0].text  # the empty index, with the fix

    subprocess.run([sys.executable, "-m", "chatbot", "ingest", str(corpus)], env=env, cwd=tmp_path, check=True,
                   capture_output=True)
    listed, found = call(params, ("list_articles", {}), ("search_articles", {"query": "カワセミの調達額", "k": 1}))
    assert listed.structured_content["articles"] == [
        {"doc_id": "news/kawasemi.md", "title": "カワセミ・ロボティクスの資金調達", "publisher": "テスト通信",
         "published": "2026-11-20", "source": str(corpus / "kawasemi.md"), "chunks": 1, "pages": None}]
    (hit,) = found.structured_content["results"]
    assert "12億円" in hit["text"] and hit["publisher"] == "テスト通信" and hit["published"] == "2026-11-20"


@pytest.mark.server
def test_mcp_over_streamable_http_at_the_api_server(scripted_bot):
    with ThreadedServer(create_app(scripted_bot())) as server:
        (found,) = call(f"{server.url}/mcp", ("search_articles", {"query": "Trainium", "k": 1}))
    assert not found.is_error and "Trainium" in found.structured_content["results"][0]["text"]
