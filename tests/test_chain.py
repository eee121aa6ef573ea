"""The answer chain's logic with a scripted chat model over the real corpus, real e5 embeddings
and a real Chroma store: evidence selection reaching the prompt, the evidence event, the scored
decision, citations that quote evidence sentences, the quote fallback, refusal rules, follow-ups,
API and CLI.

The scripted model has no logits, so the chain's decision step falls back to reading its short
reply: every script starts with the decision, the number of the evidence sentence that answers
("0": none)."""

import argparse
import json

import pytest

from chatbot import Chatbot, EvidenceFound
from chatbot.chain import (ANSWER_TYPE, MODEL_REFUSED, NO_RELEVANT_SOURCES, NOT_ANSWERABLE, TERMS_NOT_FOUND,
                           UNSUPPORTED, Answer)
from chatbot.cli import cmd_ask
from chatbot.errors import EmptyIndexError, InvalidQuestionError
from chatbot.prompts import language_of, prompts_for

from conftest import ScriptedChatModel

NVIDIA_JA = "なぜOpenAIはTrainiumではなくNVIDIAを選んだのですか？"
NVIDIA_EN = "Why did OpenAI choose NVIDIA over Trainium?"
JA, EN = prompts_for("ja"), prompts_for("en")


def claim_in(bot, question):
    """``(n, sentence)``: a full evidence sentence about NVIDIA that the chain selects for
    ``question`` (whatever the evidence budget), to script an answer that copies it."""
    evidence = evidence_of(bot, question)
    s = next(s for s in evidence.ranked if "NVIDIA" in s.text and s.text.endswith("。") and "なぜ" not in s.text)
    return s.id, s.text[:-1]


def evidence_of(bot, question, history=None):
    query, found = bot.chain.prepare.invoke({"question": question, "history": history})
    return found.evidence


def number_of(bot, question, needle):
    """The evidence number of the sentence containing ``needle``."""
    return next(s.id for s in evidence_of(bot, question).sentences if needle in s.text)


def test_prompt_shows_numbered_evidence_by_article_then_the_question(scripted_bot):
    n, claim = claim_in(scripted_bot(), NVIDIA_JA)
    bot = scripted_bot(str(n), f"{claim}。")
    bot.ask(NVIDIA_JA)
    decision, answer = bot.chat_model.prompts
    system, user = decision
    assert system.content == JA.system  # fixed text first: its KV cache is reused across questions
    assert user.content.startswith("【根拠文】\n《") and f"【質問】{NVIDIA_JA}\n{JA.decide}" in user.content
    assert f"[{n}] {claim}" in user.content  # the evidence reached the model, numbered
    # The answer turn extends the decision prompt: nothing is read twice.
    assert [m.content for m in answer[:2]] == [system.content, user.content]
    assert answer[2].content == str(n) and answer[3].content == JA.answer.format(n=n)


def test_evidence_is_yielded_before_the_model_writes(scripted_bot):
    n, claim = claim_in(scripted_bot(), NVIDIA_JA)
    bot = scripted_bot(str(n), f"{claim}。")
    events = list(bot.stream(NVIDIA_JA))
    assert isinstance(events[0], EvidenceFound) and isinstance(events[-1], Answer)
    deltas = events[1:-1]
    assert len(deltas) > 1 and all(isinstance(d, str) for d in deltas) and "".join(deltas) == f"{claim}。"
    for s in events[0].evidence.sentences:  # exact spans of the passages
        assert s.result.text[s.start:s.end] == s.text
    answer = events[-1]
    assert {"evidence_s", "decide_s", "first_token_s", "total_s"} <= set(answer.timings)
    assert answer.timings["evidence_s"] <= answer.timings["first_token_s"]
    assert [e["text"] for e in answer.evidence] == [s.text for s in events[0].evidence.sentences]


def test_citation_quotes_the_cited_evidence_sentence_verbatim(scripted_bot):
    n, claim = claim_in(scripted_bot(), NVIDIA_JA)
    bot = scripted_bot(str(n), f"{claim}[{n}][99]。")  # a valid number and one that names nothing
    answer = bot.ask(NVIDIA_JA)
    assert not answer.refused and not answer.quoted and answer.chosen_evidence == n
    assert answer.text == f"{claim}[1]。"
    [citation] = answer.citations
    assert citation.evidence_id == n and citation.quote == f"{claim}。"
    assert citation.text[citation.start:citation.end] == citation.quote  # verbatim article text
    assert citation.doc_id and citation.title and citation.chunk_id


def test_wrong_citation_is_moved_to_the_supporting_sentence(scripted_bot):
    probe = scripted_bot()
    n, claim = claim_in(probe, NVIDIA_JA)
    wrong = next(s.id for s in evidence_of(probe, NVIDIA_JA).sentences if s.id != n and "NVIDIA" not in s.text)
    answer = scripted_bot(str(wrong), f"{claim}[{wrong}]。").ask(NVIDIA_JA)
    assert answer.text == f"{claim}[1]。" and answer.citations[0].evidence_id == n


def test_uncited_sentence_is_aligned_to_its_evidence(scripted_bot):
    n, claim = claim_in(scripted_bot(), NVIDIA_JA)
    answer = scripted_bot("1", f"{claim}。").ask(NVIDIA_JA)
    assert answer.text == f"{claim}[1]。" and answer.citations[0].evidence_id == n


def test_unsupported_sentence_is_dropped_and_the_rest_kept(scripted_bot):
    n, claim = claim_in(scripted_bot(), NVIDIA_JA)
    answer = scripted_bot(str(n), f"{claim}。また、OpenAIはGoogleのTPUも450億ドル分購入しました。").ask(NVIDIA_JA)
    assert not answer.refused and answer.text == f"{claim}[1]。"
    assert answer.removed == ["また、OpenAIはGoogleのTPUも450億ドル分購入しました。"]


def test_answer_with_nothing_supported_is_refused(scripted_bot):
    answer = scripted_bot("1", "OpenAIはGoogleのTPUも450億ドル分購入しました[1]。").ask(NVIDIA_JA)
    assert answer.refused and answer.refusal_reason == UNSUPPORTED and answer.text == JA.refusal
    assert answer.removed == ["OpenAIはGoogleのTPUも450億ドル分購入しました。"] and answer.evidence


def test_quote_fallback_quotes_the_chosen_evidence_sentence_verbatim(corpus_bot):
    settings = corpus_bot.settings.model_copy(update={"quote_fallback": True})
    model = ScriptedChatModel(replies=["2", "OpenAIはGoogleのTPUも450億ドル分購入しました[1]。"], prompts=[])
    bot = Chatbot(settings, embeddings=corpus_bot.embeddings, chat_model=model)
    bot.store, bot.retriever = corpus_bot.store, corpus_bot.retriever
    events = list(bot.stream(NVIDIA_JA))
    evidence, answer = events[0].evidence, events[-1]
    assert not answer.refused and answer.quoted and answer.chosen_evidence == 2
    assert answer.removed == ["OpenAIはGoogleのTPUie450億ドル分購入しました。".replace("ie", "も")]
    [citation] = answer.citations
    assert citation.quote == evidence.get(2).text and answer.text == f"{JA.quote}「{citation.quote}」[1]"
    assert citation.text[citation.start:citation.end] == citation.quote


def test_rhetorical_question_copied_from_an_article_is_no_answer(scripted_bot):
    answer = scripted_bot("1", "なぜ今、OpenAIはこの一手を選んだのか[1]。").ask(NVIDIA_JA)
    assert answer.refused and answer.refusal_reason == UNSUPPORTED


def test_decision_no_refuses_without_writing(scripted_bot):
    bot = scripted_bot("0")
    answer = bot.ask(NVIDIA_JA)
    assert answer.refused and answer.refusal_reason == NOT_ANSWERABLE and answer.text == JA.refusal
    assert len(bot.chat_model.prompts) == 1 and answer.answerable == 0.0 and answer.chosen_evidence is None


def test_model_refusal_becomes_a_refusal(scripted_bot):
    answer = scripted_bot("1", "申し訳ありませんが、根拠文にはOpenAIの従業員数は記載されていません。").ask(
        "OpenAIの従業員数について教えてください。")
    assert answer.refused and answer.refusal_reason == MODEL_REFUSED
    assert answer.text == JA.refusal and answer.citations == [] and answer.sources


def test_fabricated_number_is_removed(scripted_bot):
    # "How many people" needs a count in the evidence; a made-up head count must not survive.
    answer = scripted_bot("1", "OpenAIの従業員は3,500人です[1]。").ask("OpenAIとAWSの契約について教えてください。")
    assert "3,500" not in answer.text and answer.removed == ["OpenAIの従業員は3,500人です。"]


def test_english_question_is_answered_in_english_from_japanese_evidence(scripted_bot):
    probe = scripted_bot()
    evidence = evidence_of(probe, NVIDIA_EN)
    n = next(s.id for s in evidence.ranked if "GB200" in s.text)  # AWS supplies GB200 and GB300 NVIDIA GPUs
    english = "AWS supplies hundreds of thousands of NVIDIA GB200 and GB300 GPUs"
    bot = scripted_bot(str(n), f"{english} [{n}]. It also bought 450 billion dollars of TPU v5 chips [{n}].")
    answer = bot.ask(NVIDIA_EN)
    decision, _ = bot.chat_model.prompts
    assert decision[0].content == EN.system and f"QUESTION: {NVIDIA_EN}\n{EN.decide}" in decision[1].content
    assert not answer.refused and answer.language == "en"
    assert answer.text == f"{english}[1]."  # the made-up amount and code are removed
    assert answer.removed == ["It also bought 450 billion dollars of TPU v5 chips."]
    assert "GB200" in answer.citations[0].quote


def test_english_refusal_is_in_english(scripted_bot):
    answer = scripted_bot("0").ask(NVIDIA_EN)
    assert answer.refused and answer.text == EN.refusal


@pytest.mark.parametrize("question, term", [
    ("GPT-7の正式なリリース日はいつですか？", "gpt-7"),            # a code
    ("OpenAIは2016年にAWSといくらの契約を結びましたか？", "2016"),  # a year
    ("京都府のデータセンターの電力は何ギガワットですか？", "京都"),  # a Japanese proper noun
    ("When will GPT-7 run on AWS?", "gpt-7"),                      # across languages: codes count
])
def test_question_about_something_no_passage_mentions_is_refused_without_the_model(
        scripted_bot, question, term):
    bot = scripted_bot()  # any model call would fail: the script is empty
    events = list(bot.stream(question))
    answer = events[-1]
    assert isinstance(events[0], EvidenceFound)  # the closest evidence is still shown
    assert answer.refused and answer.refusal_reason == TERMS_NOT_FOUND and term in answer.missing_terms
    assert answer.text == prompts_for(language_of(question)).refusal and bot.chat_model.prompts == []


def test_question_terms_found_in_the_passages_reach_the_model(scripted_bot):
    # Numbers compare by value: 380億ドル = $38 billion; names across languages count only as codes.
    for question in ["OpenAIはAWSと380億ドルの契約を何年間結びましたか？",
                     "Why did Satya Nadella say that power, not chips, limits the $38 billion AWS deal?"]:
        answer = scripted_bot("0").ask(question)
        assert answer.missing_terms == [] and answer.refusal_reason == NOT_ANSWERABLE


def test_question_asking_when_with_no_date_in_the_evidence_is_refused_in_code(scripted_bot, monkeypatch):
    import chatbot.chain as chain

    monkeypatch.setattr(chain, "holds_kind", lambda kind, texts: kind != "date")  # evidence without dates
    bot = scripted_bot()
    answer = bot.ask("OpenAIとAWSの契約はいつ発表されましたか？")
    assert answer.refused and answer.refusal_reason == ANSWER_TYPE and bot.chat_model.prompts == []


def test_publisher_is_shown_with_each_article(scripted_bot):
    bot = scripted_bot("0")
    answer = bot.ask("What does the MAD MAN Monthly Report say about power?")
    assert answer.missing_terms == [] and answer.refusal_reason == NOT_ANSWERABLE  # the model was asked
    assert "(MAD MAN Monthly Report" in bot.chat_model.prompts[0][1].content


def test_evidence_fits_the_token_budget(corpus_bot):
    from chatbot.chunking import count_tokens

    settings = corpus_bot.settings.model_copy(update={"evidence_tokens": 120})
    bot = Chatbot(settings, embeddings=corpus_bot.embeddings)
    evidence = evidence_of(bot, NVIDIA_JA)
    best = evidence.ranked[0].text
    assert evidence and sum(count_tokens(s.text) for s in evidence.sentences) <= max(120, count_tokens(best))


def test_irrelevant_question_is_refused_without_asking_the_model(corpus_bot):
    settings = corpus_bot.settings.model_copy(update={"min_relevance": 0.99})
    model = ScriptedChatModel(replies=[], prompts=[])  # any call would fail: the script is empty
    bot = Chatbot(settings, embeddings=corpus_bot.embeddings, chat_model=model)
    answer = bot.ask("What is the capital of France?")
    assert answer.refused and answer.refusal_reason == NO_RELEVANT_SOURCES
    assert answer.text == EN.refusal and answer.sources and model.prompts == []


def test_follow_up_searches_on_the_previous_question_and_asks_with_it(scripted_bot):
    history = [{"role": "user", "content": "OpenAIとAWSの契約の規模は？"},
               {"role": "assistant", "content": "7年間で380億ドルです[1]。"}]
    bot = scripted_bot("0")
    answer = bot.ask("それはいつ発表されましたか？", history)
    assert answer.query == "OpenAIとAWSの契約の規模は？ それはいつ発表されましたか？"
    assert "【質問】それはいつ発表されましたか？（直前の質問:「OpenAIとAWSの契約の規模は？」）" in \
        bot.chat_model.prompts[0][1].content


def test_follow_up_rewrite_when_enabled(corpus_bot):
    settings = corpus_bot.settings.model_copy(update={"follow_up_rewrite": True})
    model = ScriptedChatModel(replies=["OpenAIとAWSの契約はいつ発表されましたか？", "0"], prompts=[])
    bot = Chatbot(settings, embeddings=corpus_bot.embeddings, chat_model=model)
    bot.store, bot.retriever = corpus_bot.store, corpus_bot.retriever
    answer = bot.ask("それはいつ発表されましたか？", [("OpenAIとAWSの契約の規模は？", "7年間で380億ドルです。")])
    assert "OpenAIとAWSの契約の規模は？" in model.prompts[0][0].content
    assert answer.query == "OpenAIとAWSの契約はいつ発表されましたか？"
    assert "【質問】OpenAIとAWSの契約はいつ発表されましたか？\n" in model.prompts[1][1].content


# nothing, an echo of the follow-up, or an answer instead of a question
@pytest.mark.parametrize("rewrite", ["", "それはいつ？", "OpenAIとAWSの契約は2025年11月3日に発表されました。"])
def test_failed_rewrite_falls_back_to_the_previous_question(corpus_bot, rewrite):
    settings = corpus_bot.settings.model_copy(update={"follow_up_rewrite": True})
    model = ScriptedChatModel(replies=[rewrite, "0"], prompts=[])
    bot = Chatbot(settings, embeddings=corpus_bot.embeddings, chat_model=model)
    bot.store, bot.retriever = corpus_bot.store, corpus_bot.retriever
    answer = bot.ask("それはいつ？", [("OpenAIとAWSの契約の規模は？", "380億ドルです。")])
    assert answer.query == "OpenAIとAWSの契約の規模は？ それはいつ？"


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
    turns = json.loads(history.read_text(encoding="utf-8"))
    evidence = evidence_of(scripted_bot(), NVIDIA_JA, turns)
    copy = next(s for s in evidence.ranked if s.text.endswith("。") and "なぜ" not in s.text)
    bot = scripted_bot(str(copy.id), copy.text)
    assert cmd_ask(argparse.Namespace(question=NVIDIA_JA, json=True, history=str(history)), bot) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["question"] == NVIDIA_JA and out["refused"] is False and "[1]" in out["answer"]
    assert out["query"] == f"OpenAIとAWSの契約の規模は？ {NVIDIA_JA}"  # the history file was read
    assert {"n", "doc_id", "title", "source", "chunk_id", "text", "quote"} <= set(out["citations"][0])
    assert out["sources"] and out["evidence"] and set(out["timings"]) >= {"evidence_s", "first_token_s", "total_s"}
    assert out["model"].startswith("llamacpp:")
