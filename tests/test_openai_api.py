"""The OpenAI-compatible API (``chatbot serve``) through the official ``openai`` client, against a
real uvicorn server on 127.0.0.1 over the real corpus, e5 embeddings and Chroma store; the chat
model is scripted (the one end-to-end test with the real local model starts ``chatbot serve``
as a process).

The scripted model has no logits, so its first reply is the decision ("はい" / "いいえ"); the
second is the answer, here with a number the articles do not have, which the check removes:
the streamed draft holds it, the checked content must not."""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import openai
import pytest
from pydantic import SecretStr

from chatbot import Chatbot, Settings
from chatbot.openai_api import EXTENSION, MODEL_ID, create_app, exposure_warning
from chatbot.views import without_sources
from conftest import FABRICATED, ROOT, DecidingModel, ScriptedChatModel
from helpers import ThreadedServer, free_port

pytestmark = pytest.mark.server

NVIDIA_JA = "なぜOpenAIはTrainiumではなくNVIDIAを選んだのですか？"
DEAL_JA = "OpenAIとAWSの契約の規模はどのくらいですか？"


def serve(bot, **settings):
    if settings:
        bot.settings = bot.settings.model_copy(update=settings)
    return ThreadedServer(create_app(bot))


def client(server, key="unused"):
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0, timeout=120)


def test_models_lists_the_bot(scripted_bot):
    with serve(scripted_bot()) as server:
        models = client(server).models.list()
        assert [m.id for m in models.data] == [MODEL_ID]
        assert client(server).models.retrieve(MODEL_ID).id == MODEL_ID
        with pytest.raises(openai.NotFoundError):
            client(server).models.retrieve("gpt-4o")


def test_answer_with_sources_and_citations_as_data(scripted_bot):
    bot = scripted_bot("はい", FABRICATED)
    expected = scripted_bot("はい", FABRICATED).ask(NVIDIA_JA)
    with serve(bot) as server:
        completion = client(server).chat.completions.create(
            model=MODEL_ID, messages=[{"role": "user", "content": NVIDIA_JA}])
    content = completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    extension = completion.model_extra[EXTENSION]
    # The content is the checked answer, then the Sources list with the cited sentence verbatim.
    assert content.startswith(expected.text + "\n\n出典:\n- [1] ") and "3,500" not in content
    assert not extension["refused"] and extension["answer"] == expected.text
    # The citations survive the round trip: the same sentences, passages and articles.
    assert [(c["n"], c["doc_id"], c["quote"], c["passage"]) for c in extension["citations"]] == [
        (c.n, c.doc_id, c.quote, c.text) for c in expected.citations]
    for c in extension["citations"]:
        assert c["passage"][c["start"]:c["end"]] == c["quote"]
        byline = ", ".join(x for x in (c["publisher"], c["published"]) if x)
        assert f"- [{c['n']}] {c['title']}{' — ' + byline if byline else ''}: 「{c['quote']}」" in content


def test_streaming_sends_the_draft_as_reasoning_and_the_checked_answer_as_content(scripted_bot):
    expected = scripted_bot("はい", FABRICATED).ask(NVIDIA_JA)
    with serve(scripted_bot("はい", FABRICATED)) as server:
        chunks = list(client(server).chat.completions.create(
            model=MODEL_ID, messages=[{"role": "user", "content": NVIDIA_JA}], stream=True))
    content = "".join(c.choices[0].delta.content or "" for c in chunks)
    draft = "".join(c.choices[0].delta.model_extra.get("reasoning_content") or "" for c in chunks)
    assert "3,500" in draft  # the model's unchecked text streamed while it was written ...
    assert "3,500" not in content and content.startswith(expected.text + "\n\n出典:")  # ... but never as content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and all(c.choices[0].finish_reason is None for c in chunks[:-1])
    assert [c["quote"] for c in last.model_extra[EXTENSION]["citations"]] == [c.quote for c in expected.citations]


def test_streamed_content_equals_the_non_streamed_content(scripted_bot):
    with serve(scripted_bot("はい", FABRICATED, "はい", FABRICATED)) as server:
        messages = [{"role": "user", "content": DEAL_JA}]
        whole = client(server).chat.completions.create(model=MODEL_ID, messages=messages)
        streamed = client(server).chat.completions.create(model=MODEL_ID, messages=messages, stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in streamed) == whole.choices[0].message.content


def test_refusal_is_a_normal_answer(scripted_bot):
    with serve(scripted_bot("いいえ", "いいえ")) as server:
        messages = [{"role": "user", "content": "OpenAIの従業員数は？"}]
        completion = client(server).chat.completions.create(model=MODEL_ID, messages=messages)
        chunks = list(client(server).chat.completions.create(model=MODEL_ID, messages=messages, stream=True))
    refusal = completion.model_extra[EXTENSION]
    assert refusal["refused"] and refusal["refusal_reason"] and refusal["citations"] == []
    assert completion.choices[0].message.content == refusal["answer"]  # no Sources list
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == refusal["answer"]
    assert chunks[-1].model_extra[EXTENSION]["refused"]


def test_earlier_messages_are_the_history(scripted_bot, monkeypatch):
    bot = scripted_bot("はい", FABRICATED, "はい", FABRICATED)
    asked = []
    stream = bot.stream
    monkeypatch.setattr(bot, "stream", lambda q, history=None: asked.append((q, history)) or stream(q, history))
    with serve(bot) as server:
        first = client(server).chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": DEAL_JA}])
        reply = first.choices[0].message.content
        client(server).chat.completions.create(model=MODEL_ID, messages=[
            {"role": "system", "content": "You are helpful."}, {"role": "user", "content": DEAL_JA},
            {"role": "assistant", "content": reply},
            {"role": "user", "content": [{"type": "text", "text": "それはいつ発表されましたか？"}]}])
    answer = first.model_extra[EXTENSION]["answer"]
    assert reply != answer and without_sources(reply) == answer  # the Sources list is taken off again
    assert asked == [(DEAL_JA, []), ("それはいつ発表されましたか？",
                                     [{"role": "user", "content": DEAL_JA}, {"role": "assistant", "content": answer}])]


def test_bad_requests_get_openai_errors(scripted_bot, tmp_path, e5):
    with serve(scripted_bot()) as server:
        c = client(server)
        with pytest.raises(openai.BadRequestError) as no_user:
            c.chat.completions.create(model=MODEL_ID, messages=[{"role": "system", "content": "hi"}])
        with pytest.raises(openai.BadRequestError) as too_long:
            c.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": "長" * 2001}], stream=True)
        with pytest.raises(openai.BadRequestError) as empty:
            c.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": "  "}])
        with pytest.raises(openai.NotFoundError) as unknown:
            c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": NVIDIA_JA}])
        with pytest.raises(openai.BadRequestError) as malformed:
            c.chat.completions.create(model=MODEL_ID, messages="not a list")
    assert no_user.value.code == "no_user_message" and "no user message" in no_user.value.message
    assert too_long.value.code == "context_length_exceeded" and "2,000" in too_long.value.message
    assert empty.value.code == "invalid_question"
    assert unknown.value.code == "model_not_found" and MODEL_ID in unknown.value.message
    assert malformed.value.param == "messages"
    assert all(e.value.body["type"] == "invalid_request_error" for e in (no_user, too_long, unknown, malformed))

    empty_bot = Chatbot(Settings(data_dir=tmp_path / "empty"), embeddings=e5, chat_model=ScriptedChatModel(replies=[]))
    with serve(empty_bot) as server:
        for stream in (False, True):
            with pytest.raises(openai.InternalServerError) as no_index:
                client(server).chat.completions.create(
                    model=MODEL_ID, messages=[{"role": "user", "content": NVIDIA_JA}], stream=stream)
            assert no_index.value.status_code == 503 and no_index.value.code == "empty_index"
            assert no_index.value.response.headers["x-should-retry"] == "false"
            assert "chatbot ingest" in no_index.value.message


def test_bearer_token_is_required_when_set(scripted_bot):
    with serve(scripted_bot(), api_token=SecretStr("s3cret")) as server:
        with pytest.raises(openai.AuthenticationError) as wrong:
            client(server, "guess").models.list()
        assert wrong.value.code == "invalid_api_key"
        assert [m.id for m in client(server, "s3cret").models.list().data] == [MODEL_ID]
        request = urllib.request.Request(f"{server.url}/mcp", method="POST", data=b"{}")
        with pytest.raises(urllib.error.HTTPError) as mcp_without:
            urllib.request.urlopen(request, timeout=10)
        assert mcp_without.value.code == 401  # the MCP endpoint too


def test_warns_beyond_loopback_without_a_token():
    assert exposure_warning("0.0.0.0", 8001, token=False).startswith("warning:")
    assert exposure_warning("0.0.0.0", 8001, token=True) is None
    assert exposure_warning("127.0.0.1", 8001, token=False) is None


def test_two_requests_at_once_each_get_their_own_answer(scripted_bot):
    bot = scripted_bot()
    bot.chat_model = DecidingModel(replies=[], prompts=[])
    alone = {q: bot.ask(q).text for q in (NVIDIA_JA, DEAL_JA)}
    assert alone[NVIDIA_JA] != alone[DEAL_JA]
    answers = {}
    with serve(bot) as server:
        def ask(question, stream):
            reply = client(server).chat.completions.create(
                model=MODEL_ID, messages=[{"role": "user", "content": question}], stream=stream)
            if stream:
                answers[question, stream] = [c for c in reply][-1].model_extra[EXTENSION]["answer"]
            else:
                answers[question, stream] = reply.model_extra[EXTENSION]["answer"]
        threads = [threading.Thread(target=ask, args=(q, s)) for q in alone for s in (False, True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert answers == {(q, s): alone[q] for q in alone for s in (False, True)}


@pytest.mark.llm
def test_chatbot_serve_answers_with_the_local_model(tmp_path, corpus_copy):
    """``chatbot serve`` as a process with the real default model: a streamed answer whose
    citations quote the articles (the deal-size question, which tests/test_answer_e2e.py shows
    the local model answers)."""
    port = free_port()
    env = {**os.environ, "CHATBOT_DATA_DIR": str(tmp_path / "data"), "CHATBOT_PORT_API": str(port),
           "CHATBOT_CORPUS_DIR": str(corpus_copy), "PYTHONPATH": str(ROOT)}
    (corpus_copy / "madman-openai-aws-power-shift.md").unlink()  # the deal article alone: less to embed
    subprocess.run([sys.executable, "-m", "chatbot", "ingest"], env=env, check=True, capture_output=True)
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "chatbot", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        deadline = time.time() + 120
        while True:
            try:
                assert json.load(urllib.request.urlopen(f"{url}/models", timeout=2))["data"][0]["id"] == MODEL_ID
                break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.5)
        stream = openai.OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=600).chat.completions.create(
            model=MODEL_ID, messages=[{"role": "user", "content": DEAL_JA}], stream=True)
        chunks = list(stream)
    finally:
        proc.terminate()
        proc.wait(30)
    answer = chunks[-1].model_extra[EXTENSION]
    articles = {p.name: p.read_text(encoding="utf-8") for p in corpus_copy.iterdir()}
    assert not answer["refused"] and "380億ドル" in answer["citations"][0]["quote"]
    for c in answer["citations"]:
        assert c["quote"] in articles[c["doc_id"].split("/")[-1]]
    assert "".join(c.choices[0].delta.content or "" for c in chunks).startswith(answer["answer"])
