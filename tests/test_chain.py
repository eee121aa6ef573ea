"""The answer chain's logic with a scripted chat model over the real corpus, real e5 embeddings
and a real Chroma store: evidence selection reaching the prompt, the evidence event, the scored
decision, citations that quote evidence sentences, the quote fallback, refusal rules, follow-ups,
API and CLI.

The scripted model has no logits, so the chain's decision step falls back to reading its short
reply: every script starts with the decision ("はい"/"Yes" or "いいえ"/"No")."""

import argparse
import json

import pytest

from chatbot import Chatbot, EvidenceFound
from chatbot.answer import (ANSWER_TYPE, MODEL_REFUSED, NO_RELEVANT_SOURCES, NOT_ABOUT_QUESTION, NOT_ANSWERABLE,
                            TERMS_NOT_FOUND, Answer, Quote)
from chatbot.quotes import quote_block
from chatbot.cli import cmd_ask
from chatbot.errors import EmptyIndexError, InvalidQuestionError
from chatbot.prompts import prompts_for
from chatbot.text import is_question, language_of

from chain_helpers import EN, JA, NVIDIA_JA, best_sentence
from conftest import ScriptedChatModel


def claim_in(bot, question, needle="NVIDIA"):
    """``(n, sentence)``: a full evidence sentence (with ``needle``, other than the quoted one)
    that the chain selects for ``question``, to script an answer that copies it."""
    evidence = evidence_of(bot, question)
    best = best_sentence(bot, question)
    s = next(s for s in evidence.ranked if needle in s.text and s.text.endswith("。") and s.id != best.id
             and not is_question(s.text))
    return s.id, s.text[:-1]


def claim_on_quote(bot, question):
    """``(n, claim)``: a claim that restates the start of the quoted sentence ``n`` in other words
    (not a copy of it, supported by it): what the model may add to the quote."""
    best = best_sentence(bot, question)
    return best.id, f"{best.text[:20].rstrip('0123456789.、')}、と記事は書いています"


def lead(bot, question, prompts=None):
    """The verbatim quote that opens every answer, with its label and marker."""
    return quote_block(prompts or JA, [Quote(best_sentence(bot, question).text, 1, 0)])


def evidence_of(bot, question, history=None):
    return bot.chain.find(bot.chain.condense(question, history)).evidence


def test_prompt_shows_numbered_evidence_by_article_then_the_question(scripted_bot):
    n, claim = claim_in(scripted_bot(), NVIDIA_JA)
    bot = scripted_bot("はい", f"{claim}。")
    bot.ask(NVIDIA_JA)
    decision, answer = bot.chat_model.prompts
    system, user = decision
    assert system.content == JA.system  # fixed text first: its KV cache is reused across questions
    assert user.content.startswith("【根拠文】\n《") and f"【質問】{NVIDIA_JA}\n{JA.decide}" in user.content
    assert f"[{n}] {claim}" in user.content  # the evidence reached the model, numbered
    # The answer turn extends the decision prompt: nothing is read twice.
    assert [m.content for m in answer[:2]] == [system.content, user.content]
    assert answer[2].content == JA.yes and answer[3].content == JA.answer


def test_evidence_then_the_quote_then_the_model_are_streamed(scripted_bot):
    n, claim = claim_in(scripted_bot(), NVIDIA_JA)
    bot = scripted_bot("はい", f"{claim}。")
    events = list(bot.stream(NVIDIA_JA))
    assert isinstance(events[0], EvidenceFound) and isinstance(events[-1], Answer)
    quote, *deltas = events[1:-1]
    assert quote == lead(bot, NVIDIA_JA) + "\n"  # known before the model writes
    assert len(deltas) > 1 and "".join(deltas) == f"{claim}。"
    for s in events[0].evidence.sentences:  # exact spans of the passages
        assert s.result.text[s.start:s.end] == s.text
    answer = events[-1]
    assert {"evidence_s", "decide_s", "first_token_s", "model_first_token_s", "total_s"} <= set(answer.timings)
    assert answer.timings["evidence_s"] <= answer.timings["first_token_s"] <= answer.timings["model_first_token_s"]
    assert [e["text"] for e in answer.evidence] == [s.text for s in events[0].evidence.sentences]


def test_answer_is_the_verbatim_quote_then_the_checked_answer_citing_its_sentence(scripted_bot):
    n, claim = claim_on_quote(scripted_bot(), NVIDIA_JA)
    bot = scripted_bot("はい", f"{claim}[{n}][99]。")  # a valid number and one that names nothing
    answer = bot.ask(NVIDIA_JA)
    assert not answer.refused and not answer.quoted
    assert answer.text == f"{lead(bot, NVIDIA_JA)}\n{claim}[1]。"
    [quote] = answer.citations
    assert quote.quote == best_sentence(bot, NVIDIA_JA).text and quote.evidence_id == n
    assert quote.text[quote.start:quote.end] == quote.quote and quote.doc_id and quote.title and quote.chunk_id


def test_wrong_citation_is_moved_to_the_supporting_sentence(scripted_bot):
    probe = scripted_bot()
    n, claim = claim_on_quote(probe, NVIDIA_JA)
    wrong = next(s.id for s in evidence_of(probe, NVIDIA_JA).sentences if s.id != n and "Amazon" not in s.text)
    answer = scripted_bot("はい", f"{claim}[{wrong}]。").ask(NVIDIA_JA)
    assert answer.text.endswith(f"\n{claim}[1]。") and [c.evidence_id for c in answer.citations] == [n]


def test_uncited_sentence_is_aligned_to_its_evidence(scripted_bot):
    n, claim = claim_on_quote(scripted_bot(), NVIDIA_JA)
    answer = scripted_bot("はい", f"{claim}。").ask(NVIDIA_JA)
    assert answer.text.endswith(f"\n{claim}[1]。") and [c.evidence_id for c in answer.citations] == [n]


def test_unsupported_sentence_is_dropped_and_the_rest_kept(scripted_bot):
    n, claim = claim_on_quote(scripted_bot(), NVIDIA_JA)
    answer = scripted_bot("はい", f"{claim}。また、OpenAIはGoogleのTPUも450億ドル分購入しました。").ask(NVIDIA_JA)
    assert not answer.refused and answer.text.endswith(f"\n{claim}[1]。")
    assert answer.removed == ["また、OpenAIはGoogleのTPUも450億ドル分購入しました。"]


def test_a_claim_citing_evidence_ranked_below_the_quote_is_removed(scripted_bot):
    """The model copies a true sentence of the article that the ranker put below the quote: it
    is removed (on dev such citations were rarely gold), and the quote stands alone."""
    probe = scripted_bot()
    n, claim = claim_in(probe, NVIDIA_JA)
    found = probe.chain.find(probe.chain.condense(NVIDIA_JA))
    assert found.evidence.get(n).score < best_sentence(probe, NVIDIA_JA).score
    answer = scripted_bot("はい", f"{claim}[{n}]。").ask(NVIDIA_JA)
    assert not answer.refused and answer.quoted and answer.removed == [f"{claim}。"]
    assert [c.evidence_id for c in answer.citations] == [best_sentence(probe, NVIDIA_JA).id]


def test_a_claim_citing_evidence_ranked_above_the_quote_is_kept(scripted_bot):
    """A heading or list item is never quoted (not a full sentence), but when the ranker scores it
    above the quote the model may cite it: the rank check compares scores, not kinds of text."""
    bot = scripted_bot()
    query = bot.chain.condense(NVIDIA_JA)
    found = bot.chain.find(query)
    lead = bot.chain.lead(query, found)
    n, claim = claim_in(bot, NVIDIA_JA)
    reply = f"{claim}[{n}]。"
    assert bot.chain.check(reply, found, query, JA, lead) == ([], [f"{claim}。"])
    found.evidence.get(n).score = max(s.score for s in lead) + 1
    kept, removed = bot.chain.check(reply, found, query, JA, lead)
    assert [(k.text, k.cites) for k in kept] == [(f"{claim}。", [n])] and removed == []
@pytest.mark.parametrize("reply", [
    "OpenAIはGoogleのTPUも450億ドル分購入しました[1]。",  # unsupported, with a made-up figure
    "なぜ今、OpenAIはこの一手を選んだのか[1]。",          # an article's rhetorical question: no claim
])
def test_when_every_model_sentence_fails_the_quote_stands_alone(scripted_bot, reply):
    bot = scripted_bot("はい", reply)
    answer = bot.ask(NVIDIA_JA)
    assert not answer.refused and answer.quoted
    assert answer.text == lead(bot, NVIDIA_JA) and len(answer.citations) == 1
    c = answer.citations[0]
    assert c.text[c.start:c.end] == c.quote


def test_decision_no_refuses_without_writing(scripted_bot):
    bot = scripted_bot("いいえ")
    answer = bot.ask(NVIDIA_JA)
    assert answer.refused and answer.refusal_reason == NOT_ANSWERABLE and answer.text == JA.refusal
    assert len(bot.chat_model.prompts) == 1 and answer.answerable == 0.0 and answer.confidence < 0.2


def test_model_refusal_becomes_a_refusal(scripted_bot):
    answer = scripted_bot("はい", "申し訳ありませんが、根拠文にはOpenAIの従業員数は記載されていません。").ask(
        "OpenAIの従業員数について教えてください。")
    assert answer.refused and answer.refusal_reason == MODEL_REFUSED
    assert answer.text == JA.refusal and answer.citations == [] and answer.sources


def test_fabricated_number_is_removed(scripted_bot):
    answer = scripted_bot("はい", "OpenAIの従業員は3,500人です[1]。").ask("OpenAIとAWSの契約について教えてください。")
    assert "3,500" not in answer.text and answer.removed == ["OpenAIの従業員は3,500人です。"]


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
        # the translation spells Nadella as the article does (ナデラ): a subject the quote must name
        translation = "サティア・ナデラ氏はなぜ、380億ドルのAWS契約を制約しているのはチップではなく電力だと言ったのか？"
        replies = ["いいえ"] if language_of(question) == "ja" else [translation, "No"]
        answer = scripted_bot(*replies).ask(question)
        assert answer.missing_terms == [] and answer.refusal_reason == NOT_ANSWERABLE


def test_question_asking_when_with_no_date_in_the_evidence_is_refused_in_code(scripted_bot, monkeypatch):
    import chatbot.steps as steps

    monkeypatch.setattr(steps, "holds_kind", lambda kind, texts, unit=None: kind != "date")  # evidence without dates
    bot = scripted_bot()
    answer = bot.ask("OpenAIとAWSの契約はいつ発表されましたか？")
    assert answer.refused and answer.refusal_reason == ANSWER_TYPE and bot.chat_model.prompts == []


def test_question_about_a_name_whose_sentences_do_not_hold_the_asked_fact_is_refused_in_code(scripted_bot):
    # The corpus names Tom's Hardware as a source it quotes, never with a person of its staff.
    bot = scripted_bot()
    answer = bot.ask("Tom's Hardwareの編集長は誰ですか？")
    assert answer.refused and answer.refusal_reason == NOT_ABOUT_QUESTION and bot.chat_model.prompts == []


def test_publisher_is_shown_with_each_article(scripted_bot):
    bot = scripted_bot("MAD MAN Monthly Reportは電力について何と言っているか？", "No")
    answer = bot.ask("What does the MAD MAN Monthly Report say about power?")
    assert answer.missing_terms == [] and answer.refusal_reason == NOT_ANSWERABLE  # the model was asked
    assert "(MAD MAN Monthly Report" in bot.chat_model.prompts[1][1].content


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
    bot = scripted_bot("いいえ")
    answer = bot.ask("それはいつ発表されましたか？", history)
    # searched with the previous question and what its answer said
    assert answer.query == "OpenAIとAWSの契約の規模は？ それはいつ発表されましたか？ 7年間で380億ドルです。"
    assert "【質問】それはいつ発表されましたか？（直前の質問:「OpenAIとAWSの契約の規模は？」）" in \
        bot.chat_model.prompts[0][1].content


def test_follow_up_rewrite_when_enabled(corpus_bot):
    settings = corpus_bot.settings.model_copy(update={"follow_up_rewrite": True})
    # The rewrite, the decision, and an answer in case the calibration answers despite the "no".
    model = ScriptedChatModel(replies=["OpenAIとAWSの契約はいつ発表されましたか？", "いいえ", "2025年11月3日です。"],
                              prompts=[])
    bot = Chatbot(settings, embeddings=corpus_bot.embeddings, chat_model=model)
    bot.store, bot.retriever = corpus_bot.store, corpus_bot.retriever
    answer = bot.ask("それはいつ発表されましたか？", [("OpenAIとAWSの契約の規模は？", "7年間で380億ドルです。")])
    assert "OpenAIとAWSの契約の規模は？" in model.prompts[0][0].content
    assert answer.query == "OpenAIとAWSの契約はいつ発表されましたか？ 7年間で380億ドルです。"


# nothing, an echo of the follow-up, or an answer instead of a question
@pytest.mark.parametrize("rewrite", ["", "それはいつ？", "OpenAIとAWSの契約は2025年11月3日に発表されました。"])
def test_failed_rewrite_falls_back_to_the_previous_question(corpus_bot, rewrite):
    settings = corpus_bot.settings.model_copy(update={"follow_up_rewrite": True})
    model = ScriptedChatModel(replies=[rewrite, "いいえ"], prompts=[])
    bot = Chatbot(settings, embeddings=corpus_bot.embeddings, chat_model=model)
    bot.store, bot.retriever = corpus_bot.store, corpus_bot.retriever
    answer = bot.ask("それはいつ？", [("OpenAIとAWSの契約の規模は？", "380億ドルです。")])
    assert answer.query == "OpenAIとAWSの契約の規模は？ それはいつ？ 380億ドルです。"


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
    bot = scripted_bot("はい", copy.text)
    assert cmd_ask(argparse.Namespace(question=NVIDIA_JA, json=True, history=str(history)), bot) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["question"] == NVIDIA_JA and out["refused"] is False and "[1]" in out["answer"]
    assert out["query"] == f"OpenAIとAWSの契約の規模は？ {NVIDIA_JA} 380億ドルです。"  # the history file was read
    assert {"n", "doc_id", "title", "source", "chunk_id", "text", "quote"} <= set(out["citations"][0])
    assert out["sources"] and out["evidence"] and set(out["timings"]) >= {"evidence_s", "first_token_s", "total_s"}
    assert out["model"].startswith("llamacpp:")
