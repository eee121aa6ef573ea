"""End to end through the real default local model (Qwen2.5-Coder-1.5B): the evidence-first
issue's done-when questions. Slow (tens of seconds per answer on 2 cores), marked ``llm``, run in CI."""

import pytest

from chatbot import Chatbot, EvidenceFound
from chatbot.text import language_of

pytestmark = pytest.mark.llm

DEAL = "corpus/openai-aws-38b-deal.md"


@pytest.fixture(scope="module")
def real_bot(corpus_bot):
    bot = Chatbot(corpus_bot.settings, embeddings=corpus_bot.embeddings)
    bot.store, bot.retriever = corpus_bot.store, corpus_bot.retriever
    return bot


def assert_cited_answer(answer, language):
    assert not answer.refused, (answer.refusal_reason, answer.raw)
    lead = answer.text.partition("\n")[0]  # the quoted article sentence(s), then the model's own answer
    if language == "ja":
        assert lead.startswith("記事より：「") and lead.endswith("]"), answer.text
    else:  # an English reader gets the sentence in English; the original is its citation's quote
        assert lead.startswith("From the article (translated): “") and language_of(answer.text) == "en", answer.text
        assert all(q.translation for q in answer.quotes)
    assert answer.citations
    for c in answer.citations:  # each citation quotes its evidence sentence verbatim
        assert c.quote and c.text[c.start:c.end] == c.quote


def _ui_examples() -> list[str]:
    """The example questions the web chat offers (app.EXAMPLES), read without starting the app."""
    import ast
    from pathlib import Path

    tree = ast.parse((Path(__file__).resolve().parent.parent / "app.py").read_text(encoding="utf-8"))
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "EXAMPLES")
    return ast.literal_eval(node.value)


@pytest.mark.parametrize("question", _ui_examples())
def test_the_examples_the_web_chat_offers_are_answered_with_checkable_citations(real_bot, question):
    """Every example the UI offers is answered (not refused), in its language, citing sentences verbatim.
    (Whether the first one quotes the right sentence is test_why_nvidia_cites_the_cuda_sentence.)"""
    assert_cited_answer(real_bot.ask(question), language_of(question))


@pytest.mark.parametrize("question, language", [
    ("なぜOpenAIはTrainiumではなくNVIDIAを選んだのですか？", "ja"),
    ("Why did OpenAI choose NVIDIA over Trainium?", "en"),
])
@pytest.mark.xfail(reason="known miss (#21 closing notes, docs/evaluation.md): the learned ranker puts the CUDA sentence "
                          "6th of the candidates in Japanese, below sentences that name OpenAI, NVIDIA and GPU; the "
                          "sentence before it, which names OpenAI, is what ties it to the question", strict=False)
def test_why_nvidia_cites_the_cuda_sentence(real_bot, question, language):
    events = list(real_bot.stream(question))
    assert isinstance(events[0], EvidenceFound)
    answer = events[-1]
    assert_cited_answer(answer, language)
    assert any(c.doc_id == DEAL and "CUDA" in c.quote for c in answer.citations), (answer.text, answer.raw)


@pytest.mark.xfail(reason="known miss (#21 closing note): at the dev-chosen threshold 0.2 the calibration refuses "
                          "about a fifth of the unanswerable dev questions; near misses about the right articles are "
                          "mostly answered with a quote", strict=False)
def test_english_unanswerable_is_refused_in_english(real_bot):
    answer = real_bot.ask("When will GPT-6 be released?")
    assert answer.refused and answer.text == "The provided articles do not contain information that answers this question."


@pytest.mark.parametrize("question, language", [
    ("OpenAIとAWSの契約の規模はどのくらいですか？", "ja"),
    ("How big is the OpenAI-AWS cloud deal, and over how many years?", "en"),
])
def test_deal_size_is_answered_with_the_verbatim_sentence(real_bot, question, language):
    answer = real_bot.ask(question)
    assert_cited_answer(answer, language)
    assert "380億ドル" in answer.citations[0].quote  # the quote that leads the answer holds the figure
    if language == "en":  # the English question was also searched in Japanese, the model's translation
        assert answer.translation and language_of(answer.translation) == "ja"


def test_unanswerable_is_refused(real_bot):
    answer = real_bot.ask("GPT-6の正式なリリース日はいつですか？")
    assert answer.refused and answer.text == "提供された記事には、この質問に答える情報が見つかりませんでした。"


@pytest.mark.xfail(reason="known miss (#15, #21 closing notes): searching the previous question, its quoted "
                          "sentence and the follow-up does not retrieve the passage with the announcement date",
                   strict=False)
def test_follow_up_is_about_the_aws_deal(real_bot):
    history = [{"role": "user", "content": "OpenAIとAWSの契約の規模はどのくらいですか？"},
               {"role": "assistant", "content": "7年間で380億ドル(約5.8兆円)です[1]。"}]
    answer = real_bot.ask("それはいつ発表されましたか？", history)
    assert "AWS" in answer.query
    assert_cited_answer(answer, "ja")
    assert "11月3日" in answer.text, answer.text
