"""End to end through the real default local model (Qwen2.5-Coder-1.5B): the issue's done-when
questions. Slow (about half a minute per answer on 2 cores), marked ``llm``, run in CI."""

import pytest

from chatbot import Chatbot
from chatbot.prompts import detect_language

pytestmark = pytest.mark.llm

DEAL = "corpus/openai-aws-38b-deal.md"


@pytest.fixture(scope="module")
def real_bot(corpus_bot):
    bot = Chatbot(corpus_bot.settings, embeddings=corpus_bot.embeddings)
    bot.store, bot.retriever = corpus_bot.store, corpus_bot.retriever
    return bot


def assert_cited_answer(answer, language):
    assert not answer.refused, answer.raw
    assert detect_language(answer.text) == language
    assert answer.citations and "[1]" in answer.text
    for c in answer.citations:
        assert c.quote and c.quote in c.text  # the supporting sentence is in the cited passage


def test_why_nvidia_in_japanese(real_bot):
    answer = real_bot.ask("なぜOpenAIはTrainiumではなくNVIDIAを選んだのですか？")
    assert_cited_answer(answer, "ja")
    assert any(c.doc_id == DEAL and "NVIDIA" in c.text for c in answer.citations)


def test_why_nvidia_in_english(real_bot):
    answer = real_bot.ask("Why did OpenAI choose NVIDIA over Trainium?")
    assert_cited_answer(answer, "en")
    assert any(c.doc_id == DEAL for c in answer.citations)


def test_unanswerable_is_refused(real_bot):
    answer = real_bot.ask("GPT-6の正式なリリース日はいつですか？")
    assert answer.refused and answer.text == "提供された記事には、この質問に答える情報が見つかりませんでした。"


def test_follow_up_is_about_the_aws_deal(real_bot):
    first = real_bot.ask("OpenAIとAWSの契約の規模はどのくらいですか？")
    assert_cited_answer(first, "ja")
    history = [{"role": "user", "content": first.question}, {"role": "assistant", "content": first.text}]
    answer = real_bot.ask("それはいつ発表されましたか？", history)
    assert "AWS" in answer.query
    assert_cited_answer(answer, "ja")
    assert "11月3日" in answer.text or "2025年11月" in answer.text
