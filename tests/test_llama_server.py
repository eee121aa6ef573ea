"""CHATBOT_LLM_BACKEND=llama-server: the chat model in llama.cpp's own server on 127.0.0.1 with
parallel slots (built by `make llama-server`). Two chats at once are decoded at the same time,
not one after the other, and the answerability decision reads the server's next-token
probabilities, which agree with the in-process model's."""

import threading
import time

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from chatbot import Chatbot, Settings
from chatbot.chain import Answer
from chatbot.llm import get_chat_model
from conftest import CORPUS

SMALL = "qwen2.5-coder-0.5b-instruct-q4"
QUESTIONS = ["OpenAIはなぜNVIDIAを選んだのですか？", "OpenAIとAWSの契約の規模はどれくらいですか？"]


@pytest.fixture(scope="module")
def server_bot(tmp_path_factory, e5):
    settings = Settings(data_dir=tmp_path_factory.mktemp("llama-server"), llm_backend="llama-server",
                        llm_model=SMALL, llm_parallel=2)
    bot = Chatbot(settings, embeddings=e5)
    bot.ingest(CORPUS)
    return bot


def at_once(fn, n: int = 2) -> dict:
    out: dict = {}
    threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, fn(i))) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    return out


@pytest.mark.llm
@pytest.mark.server
def test_two_chats_through_the_server_are_decoded_at_the_same_time(server_bot):
    answers = at_once(lambda i: server_bot.ask(QUESTIONS[i]))
    assert set(answers) == {0, 1} and all(a.text and a.timings["total_s"] > 0 for a in answers.values())

    # Two replies streamed at once: each one's tokens arrive while the other is still being
    # written, because the server decodes both in one batch (behind one lock, one finishes first).
    def stream(i: int) -> list[float]:
        ask = [HumanMessage(f"{'１から３０' if i else '３１から６０'}までの数字を、読点で区切って書いてください。")]
        return [time.monotonic() for _ in server_bot.chat_model.stream(ask)]
    spans = at_once(stream)
    assert all(len(s) > 10 for s in spans.values())
    assert max(s[1] for s in spans.values()) < min(s[-1] for s in spans.values())


@pytest.mark.llm
@pytest.mark.server
def test_the_decision_uses_the_servers_probabilities_like_the_in_process_model(server_bot):
    messages = [SystemMessage("あなたは記事だけを根拠に答えます。"),
                HumanMessage("【根拠】OpenAIはAWSと7年間で380億ドルの契約を結んだ。\n【質問】契約額はいくらですか？\n"
                             "この根拠文だけで質問に答えられますか？「はい」か「いいえ」だけで答えてください。")]
    remote = server_bot.chat_model.choice_probabilities(messages, ["はい", "いいえ"])
    local = get_chat_model(server_bot.settings.model_copy(update={"llm_backend": "llamacpp"}))
    here = local.choice_probabilities(messages, ["はい", "いいえ"])
    assert 0 < remote["はい"] < 1  # a probability, not a one-word reply's 0 or 1
    assert abs(remote["はい"] - here["はい"]) < 0.05
    answer = server_bot.ask(QUESTIONS[1])
    assert answer.answerable is not None and 0 < answer.answerable < 1
