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


@pytest.mark.llm
@pytest.mark.server
def test_two_chats_through_the_server_are_decoded_at_the_same_time(server_bot):
    spans: dict[int, list[float]] = {}
    answers: dict[int, Answer] = {}

    def chat(i: int) -> None:
        times = []
        for event in server_bot.stream(QUESTIONS[i]):
            if isinstance(event, str):
                times.append(time.monotonic())
            elif isinstance(event, Answer):
                answers[i] = event
        spans[i] = times

    threads = [threading.Thread(target=chat, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert set(answers) == {0, 1} and all(a.text for a in answers.values())
    answered = [i for i in (0, 1) if not answers[i].refused and len(spans[i]) > 2]
    assert len(answered) == 2, [a.refusal_reason for a in answers.values()]
    # Each chat's model tokens (after its first, the quote) arrive while the other one is still
    # writing: the server decodes both in one batch. Behind one lock one would finish first.
    first = [spans[i][1] for i in (0, 1)]
    last = [spans[i][-1] for i in (0, 1)]
    assert max(first) < min(last)


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
