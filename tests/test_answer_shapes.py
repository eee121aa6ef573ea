"""Answers shaped by the question: the lead sentences for why / comparison questions, summaries
from each article's central sentences, the subject check, and what a follow-up refers to."""

from dataclasses import replace

import numpy as np
import pytest

from chatbot import Settings
from chatbot.answer import ANSWER_TYPE, NOT_ABOUT_QUESTION, Quote
from chatbot.answer_types import asked_unit, expected_kind
from chatbot.chain import AnswerChain, Found, Query
from chatbot.evidence import Evidence, EvidenceSentence
from chatbot.history import previous_context, turns_of
from chatbot.prompts import prompts_for
from chatbot.ranker import Ranker
from chatbot.retrieval import SearchResult
from chatbot.shapes import COMPARE, FACT, SUMMARY, WHY, form_of, refers_back
from chatbot.subjects import Subjects
from chatbot.text import is_full_sentence, language_of



@pytest.mark.parametrize("question, form", [
    ("なぜOpenAIはNVIDIAを選んだのですか？", WHY),
    ("OpenAIがAWSと契約した背景は？", WHY),
    ("Why did OpenAI pick NVIDIA?", WHY),
    ("二つの記事はMicrosoftをどう描いていますか？", COMPARE),
    ("GPUの需給を、2本の記事はどう描いている？", COMPARE),
    ("How do the two articles differ on Microsoft?", COMPARE),
    ("この記事を要約してください", SUMMARY),
    ("両方の記事を要約して", SUMMARY),
    ("What is this article about?", SUMMARY),
    ("契約の規模はどのくらいですか？", FACT),
    ("Who wrote the first article?", FACT),
])
def test_question_form(question, form):
    assert form_of(question) == form


def passage(doc, title, text, start=0):
    return SearchResult(rank=1, doc_id=doc, title=title, source=f"{doc}.md", chunk_id=f"{doc}#{start}", text=text,
                        score=1.0, start=start, end=start + len(text))


def evidence_of(result, ranked_texts):
    """Evidence of ``result``'s sentences in text order, ranked as ``ranked_texts`` says."""
    sentences = []
    for i, t in enumerate(t for t in result.text.split("\n") if t):
        start = result.text.index(t)
        sentences.append(EvidenceSentence(i + 1, t, result, start, start + len(t), 0.0))
    for s in sentences:
        s.score = -ranked_texts.index(s.text) if s.text in ranked_texts else -99
    return Evidence(sentences, sorted(sentences, key=lambda s: -s.score))


def lead(form, evidence, question="q", subjects=Subjects(), quote_margin=0.0):
    chain = AnswerChain.__new__(AnswerChain)  # lead() needs no model, store or embedder
    chain.ranker = replace(Ranker.baseline(), quote_margin=quote_margin)
    query = Query(question, "ja", form, None, question, question, [question], 5)
    return [s.text for s in chain.lead(query, Found([], [], np.zeros((0, 0)), evidence, 1.0, subjects=subjects))]


A = passage("a", "KairoがNVIDIAを選んだ理由", "Kairo Roboticsは新しい計算基盤を選びました。\nその理由は、NVIDIAの性能が最も高かったからです。\n"
            "同社は来年にも増強する方針です。")


def test_why_leads_with_the_reason_and_its_lead_in_when_it_refers_back():
    reason = "その理由は、NVIDIAの性能が最も高かったからです。"
    assert refers_back(reason) and not refers_back("Kairo Roboticsは新しい計算基盤を選びました。")
    evidence = evidence_of(A, [reason])
    assert lead(WHY, evidence) == ["Kairo Roboticsは新しい計算基盤を選びました。", reason]
    assert lead(FACT, evidence) == [reason]  # a fact question quotes the one sentence


def test_the_runner_up_is_quoted_too_only_when_the_ranker_scores_it_nearly_alike():
    first, second = "その理由は、NVIDIAの性能が最も高かったからです。", "同社は来年にも増強する方針です。"
    evidence = evidence_of(A, [first, second])  # scores 0 and -1
    assert lead(FACT, evidence, quote_margin=1.5) == [first, second]  # in article order
    assert lead(FACT, evidence, quote_margin=0.5) == [first]
    assert lead(FACT, evidence) == [first]  # a ranker without a margin never quotes two


B = passage("b", "Nexaの新工場", "Nexa Motorsは熊本に新工場を建てます。\n新工場の生産能力は年間5GWです。")


def test_a_comparison_quotes_one_sentence_per_article():
    both = evidence_of(A, ["その理由は、NVIDIAの性能が最も高かったからです。"])
    other = evidence_of(B, ["新工場の生産能力は年間5GWです。"])
    for s in other.sentences:
        s.id += len(both.sentences)
    merged = Evidence(both.sentences + other.sentences, sorted(both.ranked + other.ranked, key=lambda s: -s.score))
    assert lead(COMPARE, merged) == ["その理由は、NVIDIAの性能が最も高かったからです。", "新工場の生産能力は年間5GWです。"]
    assert len(lead(FACT, merged)) == 1


def test_a_sentence_about_another_company_is_not_about_the_question():
    subjects = Subjects.of(["Kairo Roboticsの新工場の生産能力は？"], [A, B])
    assert subjects.terms == ("kairo robotics",)
    capacity = evidence_of(B, ["新工場の生産能力は年間5GWです。"]).ranked[0]
    assert not subjects.about(capacity)  # Nexa's plant, in Nexa's article
    later = evidence_of(A, ["同社は来年にも増強する方針です。"]).ranked[0]
    assert subjects.about(later)  # 「同社」: Kairo is named in the sentences before
    # the quote skips the other company's sentence when one about the subject is near the top
    merged = Evidence(capacity.result and [capacity, later], [capacity, later])
    assert lead(FACT, merged, subjects=subjects) == ["同社は来年にも増強する方針です。"]


C = passage("c", "Kairo Robotics、シリーズBで45億円を調達",
            "Kairo RoboticsはシリーズBで45億円を調達した。\n主要な投資家にはHokushin Capitalが加わった。\n"
            "Germanyの拠点も拡充する。")


def gate(question, result=C):
    """The gate's refusal reason for ``question`` over ``result`` alone (``None``: the model is asked)."""
    chain = AnswerChain.__new__(AnswerChain)  # gate() needs no model, store or embedder
    chain.settings = Settings()
    query = Query(question, language_of(question), form_of(question), expected_kind(question), question, question,
                  [question], 5, asked_unit(question))
    evidence = evidence_of(result, [])
    found = Found([result], [], np.zeros((0, 0)), evidence, 1.0, subjects=Subjects.of([question], [result]))
    return chain.gate(query, found).reason


def test_the_names_a_quote_must_hold_leave_out_common_nouns_and_countries():
    subjects = Subjects.of(["Hokushin CapitalはシリーズBでいくら出資した？", "Did Kairo Robotics grow in Germany?"], [C])
    assert subjects.terms == ("germany", "hokushin capital", "kairo robotics", "シリーズ")
    assert subjects.names == ("hokushin capital", "kairo robotics")
    first, second, third = evidence_of(C, []).sentences
    assert subjects.about(first) and not subjects.covers(first) and subjects.covers(second)


def test_no_sentence_to_quote_that_names_the_subject_with_the_asked_fact_is_refused_in_code():
    assert gate("Kairo RoboticsはシリーズBでいくら調達しましたか？") is None
    # Hokushin Capital is named, but not with an amount: the article does not say what it put in
    assert gate("Hokushin CapitalはシリーズBでいくら出資しましたか？") == NOT_ABOUT_QUESTION
    assert gate("Hokushin Capitalについて何が書かれていますか？") is None  # no kind asked: its sentence answers
    # a comparison quotes one sentence per article, each about one of the subjects
    assert gate("Hokushin CapitalとKairo Roboticsの金額を比べると？") is None


def test_a_figure_in_another_measure_than_the_one_asked_is_refused_in_code():
    assert gate("Kairo RoboticsはシリーズBで調達額の何%を海外に投じますか？") == ANSWER_TYPE  # only 45億円
    assert gate("How old is the head of Kairo Robotics?") == ANSWER_TYPE


SORA = passage("sora", "ソラリンク、「ソラノート」を値上げ", "ソラリンクは業務チャット「ソラノート」を値上げする。\n"
               "値上げは2019年のサービス開始以来初めてとなる。")
VELORA = passage("velora", "Velora Mini、リコール", "Velora Miniは2024年5月に発売した小型EVだ。\nブレーキに不具合があった。")


def test_a_name_a_japanese_article_writes_in_katakana_is_checked_by_its_reading():
    subjects = Subjects.of(["When did Soranote launch?"], [SORA, VELORA])
    assert subjects.terms == () and subjects.read == ("soranote",)  # ソラノート
    launch, velora = evidence_of(SORA, []).sentences[1], evidence_of(VELORA, []).sentences[0]
    assert subjects.about(launch) and subjects.covers(launch)  # named in the sentence before and the title
    assert not subjects.about(velora) and not subjects.covers(velora)  # another product's launch date
    assert gate("When did Soranote launch?", VELORA) is None  # its own article: nothing to tell it from
    assert Subjects.of(["What did Nadella say?"], [A, B]) == Subjects()  # no passage writes ナデラ


def test_a_capitalized_first_word_or_a_possessive_is_not_a_name_read_from_katakana():
    subjects = Subjects.of(["Roughly when did Soranote's price rise?"], [SORA])
    assert subjects.read == ("soranote",)  # not "roughly", not "soranote's"
    # a name the passages spell in Latin letters is matched as spelled, plural or not
    assert Subjects.of(["How many NVIDIA GPUs did Kairo Robotics buy?"], [A]).read == ()


def test_an_english_question_about_a_japanese_article_is_refused_when_only_another_products_sentence_answers():
    other = passage("v", "EV市場", VELORA.text + "\nソラノートは無関係だ。")  # ソラノート only after the date
    assert gate("When did Soranote launch?", other) == NOT_ABOUT_QUESTION
    assert gate("When did Soranote launch?", SORA) is None


def test_the_model_sentence_citing_another_companys_figure_is_removed(e5):
    chain = AnswerChain(None, None, e5, Settings())
    kairo, nexa = evidence_of(A, []), evidence_of(B, [])
    for s in nexa.sentences:
        s.id += len(kairo.sentences)
    evidence = Evidence(kairo.sentences + nexa.sentences, kairo.sentences + nexa.sentences)
    question = "Kairo Roboticsの新工場の生産能力は？"
    query = Query(question, "ja", FACT, None, question, question, [question], 5)
    found = Found([A, B], [], np.zeros((0, 0)), evidence, 1.0, subjects=Subjects.of([question], [A, B]))
    capacity = nexa.sentences[1]  # Nexa's plant: 年間5GW
    kept, removed = chain.check(f"Kairo Roboticsの新工場の生産能力は年間5GWです[{capacity.id}]。", found, query,
                                prompts_for("ja"), [kairo.sentences[0]])
    assert kept == [] and removed == ["Kairo Roboticsの新工場の生産能力は年間5GWです。"]
    kept, removed = chain.check("NVIDIAの性能が最も高かったからです[2]。", found, query, prompts_for("ja"),
                                [kairo.sentences[0]])
    assert [k.text for k in kept] == ["NVIDIAの性能が最も高かったからです。"] and kept[0].cites == [2]


def test_previous_answer_quote_names_what_a_follow_up_refers_to():
    turns = turns_of([{"role": "user", "content": "契約の規模は？"},
                      {"role": "assistant", "content": "記事より：「7年間で380億ドルの契約です。」[1]\n大きな契約です[1]。"}])
    context = previous_context(turns)
    assert context.question == "契約の規模は？" and context.answer == "7年間で380億ドルの契約です。"
    plain = previous_context(turns_of([("規模は？", "380億ドルです[1]。ほかにもあります。")]))
    assert plain.answer == "380億ドルです。"  # no quote: the answer's first sentence, markers dropped
    assert previous_context(turns_of([])) is None


def test_summaries_are_the_central_full_sentences_in_article_order(corpus_bot):
    doc = "corpus/openai-aws-38b-deal.md"
    central = corpus_bot.summaries.central(doc)
    assert 3 <= len(central) <= 5 and [s.id for s in central] == list(range(1, len(central) + 1))
    assert [s.result.start + s.start for s in central] == sorted(s.result.start + s.start for s in central)
    for s in central:
        assert s.result.doc_id == doc and s.result.text[s.start:s.end] == s.text
        assert is_full_sentence(s.text) and not refers_back(s.text)


def test_a_summary_request_quotes_the_central_sentences_without_the_model(scripted_bot):
    bot = scripted_bot()  # any model call would fail: the script is empty
    answer = bot.ask("OpenAIとAWSの契約の記事を要約してください")
    central = bot.summaries.central(answer.citations[0].doc_id)
    assert not answer.refused and answer.form == SUMMARY and bot.chat_model.prompts == []
    assert answer.text.splitlines()[0] == f"《{central[0].result.title}》の要点："
    assert answer.text.splitlines()[1:] == [f"・「{s.text}」[{i}]" for i, s in enumerate(central, 1)]
    assert [c.quote for c in answer.citations] == [s.text for s in central]
    assert answer.quotes == [Quote(s.text, i, i) for i, s in enumerate(central, 1)]


def test_removing_an_article_removes_its_summary(bot, corpus_copy):
    bot.ingest(corpus_copy)
    doc = "corpus/openai-aws-38b-deal.md"
    assert bot.summaries.central(doc)
    bot.remove(doc)
    assert bot.summaries.central(doc) == [] and not bot.summaries.has(doc)
    assert bot.ingest(corpus_copy).chunks_added and bot.summaries.has(doc)  # ingested again: chosen again
