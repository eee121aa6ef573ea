"""JSQuAD end-to-end eval (eval/jsquad.py): the two seeded samples, the gold-removed index and the
"answer string in a retrieved passage → excluded" rule, on tiny hand-made data (no LLM)."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from chatbot import Chatbot, Settings
from eval import jsquad
from eval.jsquad import (contains_answer, leave_out_key, samples, score_gold_removed, summarize_gold_removed,
                         tradeoff_table, write_articles)

# Six tiny "Wikipedia" paragraphs; 東京 occurs in several, ビーレフェルト only in its own.
PARAGRAPHS = [
    ("ハノーファー", "ハノーファーはドイツの都市である。西側の近隣都市はビーレフェルトである。", [
        ("h1", "ハノーファーの西側の近隣都市は？", "ビーレフェルト"),
        ("h2", "ハノーファーはどの国の都市？", "ドイツ")]),
    ("富士山", "富士山は標高3776メートルの山である。東京からも見える。", [
        ("f1", "富士山の標高は？", "3776メートル")]),
    ("東京タワー", "東京タワーは1958年に完成した電波塔である。高さは333メートルである。", [
        ("t1", "東京タワーが完成したのは何年？", "1958年"),
        ("t2", "東京タワーの高さは？", "333メートル")]),
    ("新幹線", "東海道新幹線は1964年に東京と新大阪の間で開業した。", [
        ("s1", "東海道新幹線はどこから新大阪までを結ぶ？", "東京")]),
    ("琵琶湖", "琵琶湖は滋賀県にある日本最大の湖である。", [
        ("b1", "日本最大の湖は何県にある？", "滋賀県")]),
    ("皇居", "皇居は東京の千代田区にある。かつての江戸城の跡地である。", [
        ("k1", "皇居はどの都市にある？", "東京"),
        ("k2", "皇居はかつて何という城だった？", "江戸城")]),
]


def jsquad_file(folder: Path) -> Path:
    data = {"data": [{"title": title, "paragraphs": [{
        "context": f"{title} [SEP] {body}",
        "qas": [{"id": qid, "question": q, "answers": [{"text": a, "answer_start": body.find(a)}]}
                for qid, q, a in qas]}]} for title, body, qas in PARAGRAPHS]}
    path = folder / "valid.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def passage(text, doc="jsquad/0000.md"):
    return SimpleNamespace(text=text, doc_id=doc)


def answer(text="", refused=True, reason="no_relevant_sources", sources=()):
    return SimpleNamespace(text=text, refused=refused, refusal_reason=reason if refused else None,
                           sources=list(sources), timings={"total_s": 1.0})


Q = {"id": "q1", "question": "西側の近隣都市は？", "answers": ["ビーレフェルト", "ビーレフェルト市"]}


def test_containment_is_nfkc_without_spaces():
    assert contains_answer(["3776メートル"], "標高は３７７６ メートルです。")
    assert contains_answer(["ＡＢＣ"], "abc ABC")
    assert not contains_answer(["3776メートル"], "標高は3775メートルです。")
    assert not contains_answer([""], "empty reference answers never match")


def test_answer_string_in_a_retrieved_passage_excludes_the_question():
    row = score_gold_removed(Q, answer(sources=[passage("東の都市。"), passage("西にはビーレフェルト が ある。")]))
    assert row["excluded"] and row["correct"] is None
    # the rule looks at the retrieved passages, not at what the model did with them
    row = score_gold_removed(Q, answer("ビーレフェルトです。", refused=False, sources=[passage("ビーレフェルト")]))
    assert row["excluded"] and row["correct"] is None


def test_refusal_without_the_answer_in_the_passages_is_correct():
    row = score_gold_removed(Q, answer(reason="model_refused", sources=[passage("ハノーファーはドイツの都市。")]))
    assert not row["excluded"] and row["correct"] is True and row["reason"] == "model_refused"
    row = score_gold_removed(Q, answer("ミュンスターです。", refused=False, sources=[passage("ミュンスター")]))
    assert not row["excluded"] and row["correct"] is False and not row["contains_answer"]
    # an answer from the model's own knowledge is still a wrong non-refusal, and is flagged
    row = score_gold_removed(Q, answer("ビーレフェルトです。", refused=False, sources=[passage("ドイツ")]))
    assert row["correct"] is False and row["contains_answer"]


def test_a_left_out_paragraph_in_the_sources_is_an_error():
    with pytest.raises(RuntimeError, match="not gold-removed"):
        score_gold_removed(Q, answer(sources=[passage("x", "jsquad/0007.md")]), left_out={"jsquad/0007.md"})


def test_summary_counts_only_questions_that_are_not_excluded():
    rows = [score_gold_removed(Q, a) for a in (
        answer(reason="no_relevant_sources", sources=[passage("a")]),
        answer(reason="model_refused", sources=[passage("b")]),
        answer(reason="model_refused", sources=[passage("c")]),
        answer("ミュンスター", refused=False, sources=[passage("d")]),
        answer(reason="model_refused", sources=[passage("ビーレフェルト")]),  # excluded
    )]
    s = summarize_gold_removed(rows)
    assert (s["questions"], s["excluded"], s["counted"], s["correct_refusals"]) == (5, 1, 4, 3)
    assert s["correct_refusal_rate"] == 0.75
    assert s["refusal_reasons"] == {"model_refused": 2, "no_relevant_sources": 1}
    assert summarize_gold_removed([rows[-1]])["correct_refusal_rate"] is None


def test_samples_are_seeded_disjoint_and_prefix_stable(tmp_path):
    _, questions = jsquad.load_jsquad(jsquad_file(tmp_path))
    answerable, removed = samples(questions, range(len(PARAGRAPHS)), seed=3)
    assert (answerable, removed) == samples(questions, range(len(PARAGRAPHS)), seed=3)
    assert not {q["para"] for q in answerable} & {q["para"] for q in removed}
    assert len({q["para"] for q in removed}) == len(removed)  # one question per left-out paragraph
    assert {q["para"] for q in answerable} | {q["para"] for q in removed} == set(range(len(PARAGRAPHS)))
    # the real data: 4,442 questions over 1,145 paragraphs
    if jsquad.DEFAULT_PATH.exists():
        paragraphs, qs = jsquad.load_jsquad(jsquad.DEFAULT_PATH)
        a, r = samples(qs, range(len(paragraphs)))
        assert len(a) > 2000 and len(r) > 500 and not {q["para"] for q in a} & {q["para"] for q in r}


def test_training_and_held_out_paragraphs_are_seeded_and_disjoint():
    paragraphs = [(f"article {i % 37}", f"paragraph {i}") for i in range(1145)]
    train, held_out = jsquad.split_paragraphs(paragraphs, seed=0)
    assert (train, held_out) == jsquad.split_paragraphs(paragraphs, seed=0) != jsquad.split_paragraphs(paragraphs, seed=1)
    assert not set(train) & set(held_out) and len(train) + len(held_out) == 1145
    assert not {paragraphs[i][0] for i in train} & {paragraphs[i][0] for i in held_out}  # by article
    assert jsquad.HELD_OUT <= len(held_out) / 1145 < jsquad.HELD_OUT + 32 / 1145


def test_left_out_paragraphs_get_no_file_and_a_stable_key(tmp_path):
    paragraphs = [(t, b) for t, b, _ in PARAGRAPHS]
    write_articles(paragraphs, tmp_path / "jsquad")
    write_articles(paragraphs, tmp_path / "jsquad", leave_out=[1, 4])
    assert sorted(f.name for f in (tmp_path / "jsquad").iterdir()) == ["0000.md", "0002.md", "0003.md", "0005.md"]
    assert leave_out_key([4, 1, 4]) == leave_out_key([1, 4]) != leave_out_key([1, 5])


def test_gold_removed_index_lacks_the_left_out_paragraphs(tmp_path, e5, monkeypatch):
    """The real ingest and search (e5 + BM25) over the gold-removed collection; ``ask`` is replaced by a
    refusal that carries what the real retriever found, so no LLM runs."""
    seen = {}  # question -> retrieved passage texts

    def ask(self, question, history=None, top_k=None):
        sources = self.search(question, k=5)
        seen[question] = [s.text for s in sources]
        return answer(sources=sources)
    monkeypatch.setattr(Chatbot, "ask", ask)
    monkeypatch.setattr(jsquad, "HELD_OUT", 1.0)  # every paragraph held out: 3 gold-removed questions from 6
    path = jsquad_file(tmp_path)
    settings = Settings(data_dir=tmp_path / "data")
    shared = Chatbot(settings, embeddings=e5, chat_model=SimpleNamespace())
    result = jsquad.run_unanswerable(path, 3, settings=settings, seed=3, shared=shared)

    _, questions = jsquad.load_jsquad(path)
    picked = samples(questions, range(len(PARAGRAPHS)), seed=3)[1][:3]
    assert [r["id"] for r in result["questions"]] == [q["id"] for q in picked]
    left_out = {jsquad.doc_id(q["para"]) for q in picked}
    assert result["paragraphs_in_index"] == len(PARAGRAPHS) - 3
    assert result["collection"] == f"jsquad-minus-{leave_out_key(q['para'] for q in picked)}"
    for row in result["questions"]:
        assert row["retrieved"] and not set(row["retrieved"]) & left_out
    for row in result["questions"]:
        assert row["excluded"] == any(a in t for a in row["answers"] for t in seen[row["question"]])
        assert row["correct"] is (None if row["excluded"] else True)
    # 東京 is in other paragraphs (excluded); 江戸城 and 3776メートル only in their own (counted)
    assert {r["id"]: r["excluded"] for r in result["questions"]} == {"s1": True, "k2": False, "f1": False}
    s = result["summary"]
    assert (s["excluded"], s["counted"], s["correct_refusals"]) == (1, 2, 2)

    again = jsquad.run_unanswerable(path, 3, settings=settings, seed=3, shared=shared)
    assert again["ingest"]["chunks_added"] == 0  # the gold-removed collection is reused


def test_tradeoff_table_has_one_row_per_measure():
    answers = {"model": "m", "seed": 0, "sample": 4, "floor": {"k": 5, "n": 1},
               "summary": {"answer_containment": 0.5, "floor_containment": 0.75, "refused": 0.25,
                           "refusal_reasons": {"model_refused": 1}}}
    removed = {"model": "m", "seed": 0, "summary": summarize_gold_removed([score_gold_removed(Q, answer())])}
    table = tradeoff_table(answers, removed)
    assert table.count("| answerable") == 2 and table.count("| gold paragraph removed") == 1
    assert "0.500" in table and "0.750" in table and "1.000" in table
    assert "floor" in tradeoff_table(None, removed) and "answerable" not in tradeoff_table(None, removed)


def test_scoring_imports_nothing_from_the_products_checkers():
    source = Path(jsquad.__file__).read_text(encoding="utf-8")
    assert "chatbot.citations" not in source and "chatbot.facts" not in source
    assert "from chatbot import" in source  # only the public API (and the retriever for the retrieval part)


def test_threshold_applied_offline_to_a_jsquad_run(tmp_path):
    from eval.threshold import jsquad_curve

    answerable = [{"refused": False, "answerable": 0.9, "contains_answer": True},
                  {"refused": False, "answerable": 0.1, "contains_answer": True},   # refused at 0.2
                  {"refused": True, "answerable": None, "contains_answer": False}]  # refused in code
    removed = [{"refused": False, "answerable": 0.15, "excluded": False},           # correct at 0.2
               {"refused": False, "answerable": 0.6, "excluded": False},
               {"refused": False, "answerable": 0.05, "excluded": True}]            # not counted
    (tmp_path / "jsquad-answers.json").write_text(json.dumps(
        {"questions": answerable, "summary": {"floor_containment": 0.5}}))
    (tmp_path / "jsquad-unanswerable.json").write_text(json.dumps({"questions": removed, "summary": {"excluded": 1}}))
    at0, at02 = jsquad_curve(tmp_path, [0, 0.2])
    assert (at0["answer_containment"], at0["answerable_refused"], at0["correct_refusals"]) == (0.6667, 0.3333, 0.0)
    assert (at02["answer_containment"], at02["answerable_refused"], at02["correct_refusals"]) == (0.3333, 0.6667, 0.5)
    assert at02["gold_removed_counted"] == 2 and at02["floor_containment"] == 0.5
