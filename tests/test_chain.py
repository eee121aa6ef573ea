"""The answer chain's logic with a scripted chat model over the real corpus, real e5 embeddings
and a real Chroma store: prompt assembly, citation checks, refusal rules, follow-ups, API and CLI."""

import argparse
import json
import re

import pytest

from chatbot import Chatbot, Settings
from chatbot.chain import MODEL_REFUSED, NO_RELEVANT_SOURCES, TERMS_NOT_FOUND, UNSUPPORTED, Answer
from chatbot.chunking import count_tokens
from chatbot.cli import cmd_ask
from chatbot.errors import EmptyIndexError, InvalidQuestionError
from chatbot.prompts import detect_language, prompts_for

from conftest import ScriptedChatModel

NVIDIA_JA = "なぜOpenAIはTrainiumではなくNVIDIAを選んだのですか？"
NVIDIA_EN = "Why did OpenAI choose NVIDIA over Trainium?"
CUDA_CLAIM = "OpenAIはNVIDIAの絶対的な性能、柔軟性、そして成熟したCUDAソフトウェア・エコシステムを優先しました"


def source_number(prompt_text: str, needle: str) -> int:
    """The [n] of the source in the prompt whose text contains ``needle``."""
    for block in re.split(r"\n\n(?=\[\d+\] )", prompt_text.split("\n", 1)[1]):
        if block.startswith("[") and needle in block:
            return int(block[1:block.index("]")])
    raise AssertionError(f"{needle!r} is in no source of the prompt")


def test_prompt_numbers_sources_and_asks_in_the_question_language(scripted_bot):
    bot = scripted_bot(prompts_for("ja").refusal)
    bot.ask(NVIDIA_JA)
    [(ja_system, ja_user)] = bot.chat_model.prompts
    assert "日本語で" in ja_system.content and "[1]" in ja_system.content
    assert ja_user.content.startswith("【資料】\n[1] ") and f"【質問】{NVIDIA_JA}\n" in ja_user.content
    assert "CUDA" in ja_user.content  # the evidence reached the model
    assert ja_system.content == bot.chain.prepare.invoke(
        {"question": "別の質問？", "history": None})["messages"][0].content  # fixed: KV cache reuse


def english_over_japanese(scripted_bot, *replies: str):
    """A bot scripted to translate NVIDIA_EN into NVIDIA_JA, then to give ``replies``, and the
    [n] of the CUDA source in the Japanese answer prompt."""
    probe = scripted_bot(NVIDIA_JA)
    prompt = probe.chain.prepare.invoke({"question": NVIDIA_EN, "history": None})["messages"][1].content
    return scripted_bot(NVIDIA_JA, *(r.replace("{n}", str(source_number(prompt, "CUDA"))) for r in replies))


def test_english_question_over_japanese_sources_is_answered_in_japanese_then_translated(scripted_bot):
    english = "OpenAI prioritized NVIDIA's absolute performance, flexibility and mature CUDA software ecosystem[1]."
    bot = english_over_japanese(scripted_bot, f"{CUDA_CLAIM}[{{n}}]。", english)
    *deltas, answer = list(bot.stream(NVIDIA_EN))
    translate_q, (system, user), translate_a = bot.chat_model.prompts
    assert NVIDIA_EN in translate_q[0].content and "日本語" in translate_q[0].content
    assert "日本語で" in system.content and f"【質問】{NVIDIA_JA}\n" in user.content
    assert "English" in translate_a[0].content and f"{CUDA_CLAIM}[1]。" in translate_a[0].content
    assert "".join(deltas) == english  # only the translation is streamed
    assert not answer.refused and answer.language == "en"
    assert answer.text == english and answer.draft == f"{CUDA_CLAIM}[1]。"
    [citation] = answer.citations
    assert citation.doc_id == "corpus/openai-aws-38b-deal.md" and "CUDA" in citation.quote
    assert citation.quote in citation.text


def test_translation_keeps_draft_citations_and_cannot_add_figures(scripted_bot):
    # The translation drops the marker (aligned to the draft sentence) and adds a number and a
    # code that the cited source does not hold (removed).
    bot = english_over_japanese(
        scripted_bot, f"{CUDA_CLAIM}[{{n}}]。",
        "OpenAI chose NVIDIA for its performance and CUDA. It also bought 450 billion dollars of TPU v5 chips.")
    answer = bot.ask(NVIDIA_EN)
    assert answer.text == "OpenAI chose NVIDIA for its performance and CUDA[1]."
    assert answer.removed == ["It also bought 450 billion dollars of TPU v5 chips."]


def test_japanese_refusal_of_an_english_question_is_an_english_refusal(scripted_bot):
    bot = english_over_japanese(scripted_bot, prompts_for("ja").refusal)
    answer = bot.ask(NVIDIA_EN)
    assert answer.refused and answer.refusal_reason == MODEL_REFUSED and answer.text == prompts_for("en").refusal


def test_draft_with_nothing_supported_is_refused_without_translating(scripted_bot):
    bot = english_over_japanese(scripted_bot, "OpenAIはGoogleのTPUも450億ドル分購入しました[{n}]。")
    answer = bot.ask(NVIDIA_EN)
    assert answer.refused and answer.refusal_reason == UNSUPPORTED and answer.text == prompts_for("en").refusal
    assert len(bot.chat_model.prompts) == 2  # question translation and draft, no back-translation


@pytest.mark.parametrize("question, term", [
    ("GPT-7の正式なリリース日はいつですか？", "gpt-7"),            # a code
    ("OpenAIは2016年にAWSといくらの契約を結びましたか？", "2016"),  # a year
    ("京都府のデータセンターの電力は何ギガワットですか？", "京都"),  # a Japanese proper noun
    ("When will GPT-7 run on AWS?", "gpt-7"),                      # across languages: codes count
])
def test_question_about_something_no_passage_mentions_is_refused_without_the_model(
        scripted_bot, question, term):
    bot = scripted_bot()  # any model call would fail: the script is empty
    answer = bot.ask(question)
    assert answer.refused and answer.refusal_reason == TERMS_NOT_FOUND and term in answer.missing_terms
    assert answer.text == prompts_for(detect_language(question)).refusal and bot.chat_model.prompts == []


@pytest.mark.parametrize("question, replies", [
    ("OpenAIはAWSと380億ドルの契約を何年間結びましたか？", []),
    # English over Japanese: first the question's translation; names count only as codes.
    ("Why did Satya Nadella say that power, not chips, limits the $38 billion AWS deal?", ["翻訳"]),
])
def test_question_terms_found_in_the_passages_do_not_refuse(scripted_bot, question, replies):
    # Numbers compare by value: 380億ドル = $38 billion.
    bot = scripted_bot(*replies, prompts_for("ja").refusal)
    answer = bot.ask(question)
    assert answer.missing_terms == [] and answer.refusal_reason == MODEL_REFUSED


def test_publisher_is_shown_with_each_source_and_counts_as_a_question_term(scripted_bot):
    bot = scripted_bot("MAD MAN Monthly Reportの記事は電力について何と言っていますか？", prompts_for("ja").refusal)
    answer = bot.ask("What does the MAD MAN Monthly Report say about power?")
    assert answer.missing_terms == [] and answer.refusal_reason == MODEL_REFUSED  # the model was asked
    assert "電力シフト（MAD MAN Monthly Report）\n" in bot.chat_model.prompts[1][1].content


def test_sources_fit_the_token_budget(corpus_bot):
    settings = corpus_bot.settings.model_copy(update={"context_tokens": 120})
    bot = Chatbot(settings, embeddings=corpus_bot.embeddings)
    x = bot.chain.prepare.invoke({"question": NVIDIA_JA, "history": None})
    excerpts = [s.excerpt for s in x["sources"]]
    assert excerpts and sum(count_tokens(e) for e in excerpts) <= 120 + count_tokens(excerpts[0])
    for s in x["sources"]:  # excerpts are the passage's own sentences
        assert all(part.strip() in s.result.text for part in s.excerpt.split(" … "))


def test_answer_citations_are_checked_renumbered_and_quoted(scripted_bot):
    bot = scripted_bot()
    prompt = bot.chain.prepare.invoke({"question": NVIDIA_JA, "history": None})["messages"][1].content
    n = source_number(prompt, "CUDA")
    # The model cites the right source with a wrong number first, and a source that does not exist.
    bot.chat_model.replies.append(f"{CUDA_CLAIM}[{n % 9 + 1}][9]。")
    answer = bot.ask(NVIDIA_JA)
    assert not answer.refused
    assert answer.text == f"{CUDA_CLAIM}[1]。"
    [citation] = answer.citations
    assert citation.n == 1 and "CUDA" in citation.quote and citation.quote in citation.text
    assert citation.doc_id == "corpus/openai-aws-38b-deal.md" and citation.title and citation.chunk_id


def test_uncited_sentence_is_aligned_to_its_source(scripted_bot):
    bot = scripted_bot(f"{CUDA_CLAIM}。")
    answer = bot.ask(NVIDIA_JA)
    assert answer.text == f"{CUDA_CLAIM}[1]。" and "CUDA" in answer.citations[0].quote


def test_model_refusal_becomes_a_refusal(scripted_bot):
    bot = scripted_bot("申し訳ありませんが、資料にはOpenAIの従業員数は記載されていません。")
    answer = bot.ask("OpenAIの従業員数は何人ですか？")
    assert answer.refused and answer.refusal_reason == MODEL_REFUSED
    assert answer.text == prompts_for("ja").refusal and answer.citations == []
    assert answer.sources  # the closest passages stay available to show


def test_fabricated_facts_are_removed_and_an_answer_with_none_left_is_refused(scripted_bot):
    bot = scripted_bot("OpenAIの従業員数は3,500人です[1]。")
    answer = bot.ask("OpenAIの従業員数は何人ですか？")
    assert answer.refused and answer.refusal_reason == UNSUPPORTED
    assert answer.removed == ["OpenAIの従業員数は3,500人です。"]


def test_unsupported_sentence_is_dropped_and_the_rest_kept(scripted_bot):
    bot = scripted_bot(f"{CUDA_CLAIM}。また、OpenAIはGoogleのTPUも450億ドル分購入しました。")
    answer = bot.ask(NVIDIA_JA)
    assert not answer.refused and "CUDA" in answer.text and "TPU" not in answer.text
    assert answer.removed == ["また、OpenAIはGoogleのTPUも450億ドル分購入しました。"]


def test_irrelevant_question_is_refused_without_asking_the_model(corpus_bot):
    settings = corpus_bot.settings.model_copy(update={"min_relevance": 0.99})
    model = ScriptedChatModel(replies=[], prompts=[])  # any call would fail: the script is empty
    bot = Chatbot(settings, embeddings=corpus_bot.embeddings, chat_model=model)
    answer = bot.ask("What is the capital of France?")
    assert answer.refused and answer.refusal_reason == NO_RELEVANT_SOURCES
    assert answer.text == prompts_for("en").refusal and answer.sources
    assert model.prompts == []


def test_follow_up_is_condensed_before_retrieval(scripted_bot):
    history = [{"role": "user", "content": "OpenAIとAWSの契約の規模は？"},
               {"role": "assistant", "content": "7年間で380億ドルです[1]。"}]
    bot = scripted_bot("OpenAIとAWSの契約はいつ発表されましたか？", "2025年11月3日に発表されました。")
    answer = bot.ask("それはいつ発表されましたか？", history)
    condense_prompt = bot.chat_model.prompts[0][0].content
    assert "OpenAIとAWSの契約の規模は？" in condense_prompt and "7年間で380億ドルです。" in condense_prompt
    assert answer.query == "OpenAIとAWSの契約はいつ発表されましたか？"
    assert f"{answer.query}\n" in bot.chat_model.prompts[1][1].content  # the answer prompt asks it too


# nothing, an echo of the follow-up, or an answer instead of a question
@pytest.mark.parametrize("rewrite", ["", "それはいつ？", "OpenAIとAWSの契約は2025年11月3日に発表されました。"])
def test_failed_rewrite_falls_back_to_the_previous_question(scripted_bot, rewrite):
    bot = scripted_bot(rewrite, prompts_for("ja").refusal)
    answer = bot.ask("それはいつ？", [("OpenAIとAWSの契約の規模は？", "380億ドルです。")])
    assert answer.query == "OpenAIとAWSの契約の規模は？ それはいつ？"
    # The model is asked the follow-up itself, with the previous question as context.
    assert "【質問】それはいつ？（直前の質問:「OpenAIとAWSの契約の規模は？」）" in bot.chat_model.prompts[1][1].content


def test_no_history_means_no_condense_call(scripted_bot):
    bot = scripted_bot(f"{CUDA_CLAIM}。")
    bot.ask(NVIDIA_JA, history=[])
    assert len(bot.chat_model.prompts) == 1


def test_stream_yields_text_then_the_answer(scripted_bot):
    bot = scripted_bot(f"{CUDA_CLAIM}。")
    events = list(bot.stream(NVIDIA_JA))
    *deltas, answer = events
    assert len(deltas) > 1 and all(isinstance(d, str) for d in deltas)
    assert "".join(deltas) == f"{CUDA_CLAIM}。" and isinstance(answer, Answer)
    assert {"retrieve_s", "first_token_s", "total_s"} <= set(answer.timings)


@pytest.mark.parametrize("question", ["", "   \n\t", "\x00\x07"])
def test_empty_question_is_rejected(scripted_bot, question):
    with pytest.raises(InvalidQuestionError, match="empty"):
        scripted_bot().ask(question)


def test_huge_question_is_rejected_with_a_message(scripted_bot):
    with pytest.raises(InvalidQuestionError, match="too long .100,000 characters"):
        scripted_bot().ask("あ" * 100_000)


def test_asking_an_empty_index_says_to_ingest(settings, e5):
    with pytest.raises(EmptyIndexError, match="chatbot ingest"):
        Chatbot(settings, embeddings=e5).ask("契約額は？")


def test_cli_ask_json(scripted_bot, capsys, tmp_path):
    history = tmp_path / "history.json"
    history.write_text(json.dumps([{"role": "user", "content": "OpenAIとAWSの契約の規模は？"},
                                   {"role": "assistant", "content": "380億ドルです。"}]), encoding="utf-8")
    bot = scripted_bot("OpenAIがNVIDIAを選んだ理由は？", f"{CUDA_CLAIM}。")
    assert cmd_ask(argparse.Namespace(question=NVIDIA_JA, json=True, history=str(history)), bot) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["question"] == NVIDIA_JA and out["answer"] == f"{CUDA_CLAIM}[1]。" and out["refused"] is False
    assert set(out["citations"][0]) == {"n", "doc_id", "title", "source", "chunk_id", "text", "quote"}
    assert out["sources"] and set(out["timings"]) >= {"retrieve_s", "first_token_s", "total_s"}
    assert out["model"].startswith("llamacpp:")
