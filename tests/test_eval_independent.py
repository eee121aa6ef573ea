"""The eval's independent scorers (eval/scoring.py), the dev/test check, the quote floor and the
report, on hand-made answers (no LLM). Answers are dicts: the JSON of ``Chatbot.ask``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from eval.__main__ import main as eval_main
from eval.answers import groups, previous_run, rescore, run, select, summarize
from eval.check import check_splits, overlap, paraphrases
from eval.corpus_retrieval import EVAL_SET, load_questions
from eval.floor import floor_row, floor_sentences, passage_sentences, score_sentences
from eval.report import markdown
from eval.scoring import citation_correct, evidence_agreement, fact_found, score_answer, wrong_numbers
from eval.speed import prompt_reading_speed

# Sentences of corpus/openai-aws-38b-deal.md
DEAL = "OpenAIがAmazon Web Services(AWS)と結んだ、7年間で380億ドル(約5.8兆円)という天文学的な規模のクラウド契約です。"
DATE = "2025年11月3日、AI業界を震撼させるニュースが飛び込みました。"
GPUS = "AWSは市場で最も需要が逼迫している最新の「GB200」および「GB300」といった数十万基のNVIDIA製GPUを提供します。"
PASSAGE = f"{DATE}{DEAL}"

Q_SIZE = {"id": "t1", "type": "amount", "language": "ja", "question": "OpenAIとAWSの契約の規模はどのくらいですか？",
          "reference_answer": "7年間で380億ドル(約5.8兆円)のクラウド契約です。",
          "key_facts": [["380億", "38B", "38 billion", "$38"], ["7年", "seven years", "7 years"]],
          "doc_ids": ["corpus/openai-aws-38b-deal.md"], "evidence": [DEAL]}
Q_DATE = {"id": "t2", "type": "date", "language": "ja", "question": "OpenAIとAWSの契約はいつ発表された？",
          "reference_answer": "2025年11月3日です。", "key_facts": [["11月3日", "November 3"]],
          "doc_ids": ["corpus/openai-aws-38b-deal.md"], "evidence": [DATE]}


def cite(quote: str, text: str = PASSAGE, n: int = 1) -> dict:
    return {"n": n, "doc_id": "corpus/openai-aws-38b-deal.md", "title": "t", "source": "", "chunk_id": f"c{n}",
            "text": text, "quote": quote}


def answer(text: str, citations: list[dict], refused: bool = False, **extra) -> dict:
    return {"answer": text, "refused": refused, "refusal_reason": "model_refused" if refused else None,
            "language": "ja", "citations": citations, "sources": [],
            "timings": {"first_token_s": 2.0, "total_s": 5.0}, **extra}


# --- key facts --------------------------------------------------------------------------------

def test_key_facts_by_text_or_by_value():
    assert fact_found("7年間で３８０億ドルです[1]。", ["380億"])
    assert fact_found("A 38 billion dollar deal.", ["380億"])
    assert fact_found("The deal is $38B over seven years.", ["7年"])
    assert fact_found("It was announced on November 3, 2025.", ["11月3日"])
    assert fact_found("総額は2,500億ドルです。", ["250B"])
    assert not fact_found("70年間の契約です。", ["7年"])
    assert not fact_found("17年の契約です。", ["7年"])  # 7年 is not the tail of 17年
    assert not fact_found("3,800億ドルです。", ["380億"])
    assert not fact_found("契約は7つあります。", ["7年"])


# --- citations --------------------------------------------------------------------------------

def test_a_citation_of_the_gold_sentence_is_correct():
    assert citation_correct(DEAL, [DEAL])
    assert citation_correct(unicode_variant(DEAL), [DEAL])  # after normalization
    assert citation_correct(DEAL, ["7年間で380億ドル(約5.8兆円)"])  # a clause-level gold inside the quote
    assert citation_correct("7年間で380億ドル(約5.8兆円)という天文学的な規模のクラウド契約です。", [DEAL])  # ≥ 50%


def unicode_variant(text: str) -> str:
    return text.replace("(", "（").replace(")", "）").replace("7", "７")


def test_a_citation_of_another_sentence_of_the_right_article_is_wrong():
    assert not citation_correct(GPUS, [DEAL])
    assert not citation_correct(DATE, [DEAL])
    assert not citation_correct("", [DEAL])
    assert not citation_correct("契約です。", [DEAL])  # too short to stand for the gold sentence


def test_citation_correctness_per_answer():
    right = score_answer(Q_SIZE, answer("7年間で380億ドルの契約です[1]。", [cite(DEAL)]))
    assert right["citation_correctness"] == 1.0 and right["cited"][0]["correct"]
    wrong = score_answer(Q_SIZE, answer("7年間で380億ドルの契約です[1]。", [cite(GPUS, text=GPUS + DEAL)]))
    assert wrong["citation_correctness"] == 0.0
    assert wrong["cited"][0]["passage_has_gold"]  # the right passage, the wrong sentence
    half = score_answer(Q_SIZE, answer("380億ドル[1]。7年[2]。", [cite(DEAL), cite(GPUS, n=2)]))
    assert half["citation_correctness"] == 0.5 and half["citations_correct"] == 1
    assert score_answer(Q_SIZE, answer("記事には記載がありません。", [], refused=True)).get("cited") is None


# --- answer-evidence agreement ----------------------------------------------------------------

def test_a_fact_from_an_uncited_passage_breaks_agreement():
    # 380億 is stated, but the cited passage (the GPU sentence) does not hold it.
    a = answer("7年間で380億ドルの契約です[1]。", [cite(GPUS, text=GPUS)])
    got = evidence_agreement(a, Q_SIZE)
    assert got == {"facts_scored": [0, 1], "facts_uncited": [0, 1], "evidence_agrees": False}
    ok = evidence_agreement(answer("7年間で380億ドルの契約です[1]。", [cite(DEAL, text=DEAL)]), Q_SIZE)
    assert ok["evidence_agrees"] is True
    # An English answer agrees with a Japanese passage through the fact's variants.
    en = evidence_agreement(answer("A $38 billion deal over seven years [1].", [cite(DEAL, text=DEAL)]), Q_SIZE)
    assert en["evidence_agrees"] is True
    # No key fact found: nothing to agree on.
    assert evidence_agreement(answer("大きな契約です[1]。", [cite(DEAL)]), Q_SIZE)["evidence_agrees"] is None


def test_a_fact_the_question_already_gives_is_not_scored_for_agreement():
    q = {**Q_SIZE, "question": "OpenAIとAWSの7年契約の規模は？"}
    got = evidence_agreement(answer("7年間で380億ドルの契約です[1]。", [cite(DEAL, text=DEAL)]), q)
    assert got["facts_scored"] == [0]


# --- wrong-but-cited --------------------------------------------------------------------------

def test_a_wrong_year_is_a_wrong_number():
    wrong = wrong_numbers("2024年11月3日に発表されました[1]。", Q_DATE)
    assert "2024" in wrong and "2024年11月3日" in wrong
    assert wrong_numbers("2025年11月3日に発表されました[1]。", Q_DATE) == []
    assert wrong_numbers("It was announced on Nov. 3, 2025 [1].", Q_DATE) == []


def test_numbers_of_the_evidence_reference_or_question_are_not_wrong():
    assert wrong_numbers("A $38 billion deal (about 5.8 trillion yen) over 7 years [1].", Q_SIZE) == []
    assert wrong_numbers("380億ドル、約5.9兆円です[1]。", Q_SIZE) == ["5.9兆円"]
    q = {**Q_SIZE, "question": "2030年までのOpenAIとAWSの契約の規模は？"}
    assert wrong_numbers("2030年までに380億ドルです[1]。", q) == []  # the question's own year
    assert wrong_numbers("2つの記事によると380億ドルです[1][2]。", Q_SIZE) == []  # no claim


# --- summary and report -----------------------------------------------------------------------

def rows_for(answers: list[tuple[dict, dict]]) -> list[dict]:
    from eval.answers import score

    return [score(q, a) for q, a in answers]


UNANSWERABLE = {"id": "t3", "type": "unanswerable", "language": "en", "question": "When is GPT-6 released?",
                "reference_answer": "The articles do not say.", "key_facts": [], "doc_ids": [], "evidence": []}


def test_summary_has_the_independent_figures():
    rows = rows_for([
        (Q_SIZE, answer("7年間で380億ドルの契約です[1]。", [cite(DEAL, text=DEAL)])),
        (Q_DATE, answer("2024年11月3日です[1]。", [cite(GPUS, text=GPUS)])),
        (UNANSWERABLE, answer("GPT-6 comes out in 2026 [1].", [cite(GPUS, text=GPUS)])),
    ])
    s = summarize(rows)
    assert s["fact_accuracy"] == 1.0 and s["correct_refusal_rate"] == 0.0  # 11月3日 is there, the year is wrong
    assert s["citation_correctness"] == 0.5 and s["citation_scored_answers"] == 2
    assert s["evidence_agreement"] == 0.5 and s["answers_with_uncited_facts"] == 1
    assert s["wrong_but_cited"] == 2  # the wrong year, and a year for an unanswerable question
    assert "citation_recall" not in s and all(not k.startswith("citation_p") or k == "citation_passage_has_gold"
                                              for k in s)
    json.dumps(rows)  # rows are JSON-ready


def fake_result(rows: list[dict]) -> dict:
    s = summarize(rows)
    s["wall_s"], s["prompt_reading"] = 1.0, {"prompt_tokens": 290, "seconds": 10.0, "tokens_per_s": 29.0,
                                             "method": "test"}
    return {"summary": s, "groups": groups(rows), "questions": rows,
            "meta": {"date": "2026-01-01T00:00:00+00:00", "model": "fake", "machine": "test", "split": "test",
                     "commit": "abc"}}


def test_report_headline_has_independent_figures_floor_and_deltas(tmp_path):
    now = rows_for([(Q_SIZE, answer("7年間で380億ドルの契約です[1]。", [cite(DEAL, text=DEAL)]))])
    now[0].update(floor_answer=DEAL, floor_top=[DEAL], floor_fact_accuracy=1.0, floor_all_facts=True,
                  floor_top3_fact_accuracy=1.0)
    before = rows_for([(Q_SIZE, answer("380億ドルです[1]。", [cite(GPUS, text=GPUS)]))])
    previous = {"file": str(tmp_path / "20260101T000000Z.json"), "meta": {"model": "fake", "commit": "xyz"},
                "summary": summarize(before), "groups": groups(before)}
    text = markdown(fake_result(now), None, previous)
    head = text.split("## By language")[0]
    for label in ("key-fact accuracy (answerable)", "correct refusals", "false refusals",
                  "citation correctness (independent)", "answer-evidence agreement", "wrong-but-cited",
                  "first token p50", "total p95", "prompt reading, tokens/s", "key-fact accuracy, amount"):
        assert label in head
    assert "self_check" not in text and "recall" not in head and "fabricat" not in head
    assert re.search(r"\| key-fact accuracy \(answerable\) \| 1 \| \+0\.5 \| 1 \| – \|", head)
    assert re.search(r"\| citation correctness \(independent\) \| 1 \| \+1 \|", head)
    assert "| ja | 1 | 1 (+0.5) |" in text  # per language, with its delta


def test_previous_run_covers_the_same_questions_and_is_rescored(tmp_path):
    def write(name, date, rows, split="test"):
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps({"meta": {"split": split, "date": date}, "summary": {}, "questions": rows}),
                        encoding="utf-8")

    old_row = {"id": "t1", "type": "amount", "language": "ja", "question": "", "answer": "38 billion dollars",
               "refused": False, "citations": 0, "fact_accuracy": 0.0, "doc_rank": None, "evidence_rank": None}
    # the uncommitted history of every run, and the committed latest run (a copy of the newest)
    write("history/20260101T000000Z.json", "2026-01-01", [old_row, {**old_row, "id": "t2", "type": "date",
                                                                      "answer": "Nov 3"}])
    write("history/20260102T000000Z.json", "2026-01-02", [old_row])  # a newer run on a subset
    write("latest.json", "2026-01-03", [old_row, {**old_row, "id": "t2"}], split="dev")
    prev = previous_run([tmp_path], "test", [Q_SIZE, Q_DATE])
    assert Path(prev["file"]).name == "20260101T000000Z.json"
    assert prev["summary"]["fact_accuracy"] == 0.75  # rescored: 38 billion dollars = 380億; 7年 missing
    assert Path(previous_run([tmp_path], "test", [Q_SIZE])["file"]).name == "20260102T000000Z.json"
    assert Path(previous_run([tmp_path], "dev", [Q_SIZE])["file"]).name == "latest.json"
    (tmp_path / "history").rename(tmp_path / "elsewhere")  # a fresh clone: only the committed run
    assert previous_run([tmp_path], "test", [Q_SIZE]) is None
    assert previous_run([tmp_path], "dev", [Q_SIZE, Q_DATE, UNANSWERABLE]) is None
    assert rescore({**old_row, "refused": True}, Q_SIZE)["fact_accuracy"] == 0.0


def test_select_by_ids_types_and_limit():
    qs = load_questions()
    assert [q["id"] for q in select(qs, ids="q002,q001")] == ["q001", "q002"]
    assert all(q["type"] == "why" for q in select(qs, types="why"))
    assert len(select(qs, limit=3)) == 3
    with pytest.raises(SystemExit):
        select(qs, ids="q001,nope")


# --- the dev/test check -----------------------------------------------------------------------

def test_check_catches_a_dev_question_that_repeats_a_test_question(tmp_path):
    test = load_questions(EVAL_SET)
    dev_q = {"id": "d001", "question": "AWSとOpenAIの契約の期間は何年ですか？", "language": "ja",
             "reference_answer": "7年間です。", "key_facts": [["7年"]], "doc_ids": ["corpus/openai-aws-38b-deal.md"],
             "type": "fact", "evidence": [DEAL]}
    test_path, dev_path = tmp_path / "questions.jsonl", tmp_path / "dev.jsonl"
    test_path.write_text(EVAL_SET.read_text(encoding="utf-8"), encoding="utf-8")
    dev_path.write_text(json.dumps(dev_q, ensure_ascii=False) + "\n", encoding="utf-8")
    problems, notes = check_splits(test_path, dev_path)
    assert problems == [] and any("dev: 1 questions" in n for n in notes)

    planted = {**dev_q, "id": "d002", "question": test[0]["question"].replace("？", "?")}  # q001, re-punctuated
    cut = {**dev_q, "id": "d003", "question": "OpenAIとAWSの契約の規模は？"}  # q001 with words cut
    dev_path.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in (dev_q, planted, cut)),
                        encoding="utf-8")
    problems, _ = check_splits(test_path, dev_path)
    assert any("d002: repeats test q001" in p for p in problems)
    assert any("d003: repeats test q001" in p for p in problems)
    assert not any("d001" in p for p in problems)
    assert eval_main(["check", "--test", str(test_path), "--dev", str(dev_path)]) == 1


def test_check_without_a_dev_file_checks_the_test_set_only(tmp_path):
    problems, notes = check_splits(EVAL_SET, tmp_path / "missing.jsonl")
    assert problems == [] and any("not found" in n for n in notes)


def test_dev_ids_must_differ_from_test_ids_and_overlap_is_symmetric():
    assert overlap("OpenAIとAWSの契約", "AWSとOpenAIの契約")[0] == overlap("AWSとOpenAIの契約", "OpenAIとAWSの契約")[0]
    got = paraphrases([{"id": "q1", "question": "GPT-6はいつ？"}], [{"id": "q1", "question": "Oracleの契約額は？"}])
    assert got == ["dev q1: id is also a test id"]


# --- the quote floor --------------------------------------------------------------------------

class FakeEmbeddings:
    """Unit vectors from a few keywords: enough to order sentences deterministically."""

    model_id = "fake"
    words = ("契約", "GPU", "発表", "規模")

    def _vec(self, text):
        v = np.array([1.0 + text.count(w) for w in self.words], dtype=np.float32)
        return v / np.linalg.norm(v)

    def embed_queries(self, texts):
        return np.stack([self._vec(t) for t in texts])

    def embed_passages(self, texts):
        return np.stack([self._vec(t) for t in texts])


class Hit:
    def __init__(self, text):
        self.text, self.doc_id = text, "corpus/openai-aws-38b-deal.md"


class FakeBot:
    """``search``, ``embeddings`` and ``ask`` of a Chatbot, with canned results."""

    def __init__(self, passages, answers=None):
        self.passages, self.answers, self.embeddings, self.queries = passages, answers or {}, FakeEmbeddings(), []

    def search(self, query, k=None):
        self.queries.append(query)
        return [Hit(p) for p in self.passages[:k]]

    def ask(self, question, history=None):
        return self.answers[question]


def test_floor_quotes_the_best_sentence_of_the_retrieved_passages():
    bot = FakeBot([f"# 見出し\n{DATE}{GPUS}", DEAL])
    assert passage_sentences([f"# 見出し\n{DATE}{GPUS}", DEAL, DEAL]) == [DATE, GPUS, DEAL]
    assert floor_sentences(bot, "契約の規模は？") == [DEAL]
    ranked = score_sentences(bot, "契約の規模は？", [DATE, GPUS, DEAL])
    assert [s for _, s in ranked][0] == DEAL and ranked[0][0] > ranked[1][0]
    row = floor_row(bot, Q_SIZE)
    assert row["floor_answer"] == DEAL and row["floor_fact_accuracy"] == 1.0 and len(row["floor_top"]) == 3
    follow = {**Q_SIZE, "type": "follow_up", "question": "それはいつ？",
              "history": [{"role": "user", "content": "契約の規模は？"}, {"role": "assistant", "content": "380億ドル"}]}
    floor_row(bot, follow)
    assert bot.queries[-1] == "契約の規模は？ それはいつ？"  # previous user question + question


def test_floor_on_the_real_corpus_with_e5(corpus_bot):
    q = next(q for q in load_questions() if q["id"] == "q001")
    top = floor_sentences(corpus_bot, q["question"], k=5, n=1)
    assert len(top) == 1 and fact_found(top[0], q["key_facts"][0])


def test_run_scores_answers_and_the_floor_with_a_fake_bot():
    bot = FakeBot([DEAL, GPUS], answers={
        Q_SIZE["question"]: answer("7年間で380億ドルの契約です[1]。", [cite(DEAL, text=DEAL)]),
        UNANSWERABLE["question"]: answer("記事には記載がありません。", [], refused=True),
    })
    result = run(bot, [Q_SIZE, UNANSWERABLE])
    s = result["summary"]
    assert s["fact_accuracy"] == 1.0 and s["correct_refusal_rate"] == 1.0 and s["floor"]["fact_accuracy"] == 1.0
    assert s["citation_correctness"] == 1.0 and s["wrong_but_cited"] == 0
    assert set(result["groups"]) == {"ja", "en", "amount", "unanswerable"}
    assert "floor_answer" not in result["questions"][1]  # no floor for unanswerable questions
    json.dumps(result)


def test_prompt_speed_is_measured_or_reported_missing():
    class Broken:
        def stream(self, messages):
            raise RuntimeError("no server")

    assert "error" in prompt_reading_speed(Broken())

    from conftest import ScriptedChatModel

    got = prompt_reading_speed(ScriptedChatModel(replies=["はい"]))
    assert got["prompt_tokens"] > 150 and got["tokens_per_s"] > 0


def test_scoring_code_imports_nothing_from_the_products_checks():
    for name in ("answers.py", "scoring.py", "quantities.py", "report.py"):
        text = (ROOT / "eval" / name).read_text(encoding="utf-8")
        assert "chatbot.citations" not in text and "chatbot.facts" not in text, name
    for name in ("scoring.py", "quantities.py"):
        assert not re.search(r"^\s*(from|import)\s+chatbot", (ROOT / "eval" / name).read_text(encoding="utf-8"), re.M)
