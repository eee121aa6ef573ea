"""`python -m eval train-ranker` on a small synthetic fixture: the trainer's whole path (fit,
cross-validation, margin, the shipped JSON) runs, and the trained ranker beats a trivial baseline.

The fixture is feature-level (no retrieval, no model): in each question's candidates the answer
is the one whose ``focus`` is high *and* whose ``dense`` is above the question's median, a rule
no single column and not the retrieval order gives."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np

from conftest import ScriptedChatModel

from chatbot import Chatbot, Settings
from chatbot.ranker import FEATURES, Ranker
from eval import jsquad, ranker_data, train_ranker
from eval.ranker_data import Group
from eval.train_ranker import fit_lambdamart, top_n

SENTENCE = SimpleNamespace(text="新しい工場は二〇二七年に稼働する予定である。")  # quotable: a full sentence


def groups(n: int, source: str, seed: int) -> list[Group]:
    rng = np.random.default_rng(seed)
    out = []
    for q in range(n):
        k = 12
        x = rng.normal(size=(k, len(FEATURES)))
        dense, focus = FEATURES.index("dense"), FEATURES.index("focus")
        answer = int(rng.integers(k))
        decoy = (answer + 1 + int(rng.integers(k - 1))) % k
        x[:, focus] = rng.uniform(0, 0.5, k)
        x[answer, focus] = x[decoy, focus] = rng.uniform(0.8, 1.0)  # two candidates look focused...
        x[answer, dense] = np.abs(x[answer, dense]) + 0.5  # ...the answer is also close to the question
        x[decoy, dense] = -np.abs(x[decoy, dense]) - 0.5
        labels = np.zeros(k)
        labels[answer] = 1.0
        out.append(Group(source, f"{source}-{q}", "ja", ["質問"], np.zeros((1, 4)), [SENTENCE] * k,
                         np.zeros((k, 4)), labels, _features=x))
    return out


def test_train_ranker_beats_the_retrieval_order_and_ships_a_file_that_loads(tmp_path, monkeypatch):
    data = (groups(300, "jsquad-train", 1) + groups(100, "jsquad-heldout", 2) + groups(40, "dev", 3)
            + groups(30, "news-dev", 4) + groups(50, "jsquad-train-en", 5) + groups(20, "jsquad-heldout-en", 6))
    monkeypatch.setattr(train_ranker, "collect", lambda *a, **k: data)
    out, report = tmp_path / "ranker.json", tmp_path / "report.json"
    summary = train_ranker.run(out=out, report=report, n_train=300, n_heldout=100, compare=True)

    class RetrievalOrder:  # the trivial baseline: the first candidate retrieved
        def score(self, features):
            return -np.arange(len(features), dtype=float)

    held_out = [g for g in data if g.source == "jsquad-heldout"]
    trivial = top_n(RetrievalOrder(), held_out, 1)
    shipped = Ranker.load(out)
    learned = top_n(shipped, held_out, 1)
    assert trivial < 0.2 and learned > 0.8, (trivial, learned)
    assert summary["results"]["lambdamart"]["jsquad_heldout"]["top1"] == learned
    assert summary["results"]["lambdamart"]["dev_cross_validated"]["dev"]["top1"] > 0.6  # dev folds never seen
    about = json.loads(out.read_text())["about"]
    assert about["trained_on"] == {"dev": 40, "jsquad-train": 300} and "train-ranker" in about["command"]
    assert summary["results"]["lambdamart"]["jsquad_heldout_en"]["questions"] == 20  # reported, never trained on
    with_english = summary["results"]["lambdamart_with_english"]  # --compare: the English questions trained on too
    assert with_english["quote_margin"]["chosen"] in train_ranker.QUOTE_MARGINS
    assert json.loads(report.read_text())["groups"] == about["trained_on"]


def test_training_is_reproducible():
    data = groups(60, "jsquad-train", 5)
    first, second = fit_lambdamart(data, seed=0), fit_lambdamart(data, seed=0)
    assert first.model.text == second.model.text
    x = data[0].features
    assert np.array_equal(Ranker.from_json(first.to_json()).score(x), first.score(x))


def test_the_quote_margin_holds_gold_most_often_at_no_cost_in_citation_precision():
    # Question 1: the best candidate is gold and the runner-up close behind is not; question 2:
    # the runner-up, close behind, is the gold one; question 3: gold first, runner-up far behind.
    def group(labels):
        return Group("dev", "q", "ja", ["質問"], np.zeros((1, 4)), [SENTENCE] * 3, np.zeros((3, 4)),
                     np.array(labels, dtype=float), _features=np.zeros((3, len(FEATURES))))

    scored = [(group([1, 0, 0]), np.array([1.0, 0.6, 0.0])), (group([0, 1, 0]), np.array([1.0, 0.8, 0.0])),
              (group([1, 0, 0]), np.array([3.0, 1.2, 0.0]))]
    curve = {r["margin"]: r for r in train_ranker.quote_margin_curve(scored)}
    assert curve[0.0]["holds_gold"] == round(2 / 3, 4) and curve[0.0]["two_quotes"] == 0
    assert curve[0.25]["holds_gold"] == 1.0 and curve[0.25]["citation_precision"] == round(2.5 / 3, 4)  # q2 only
    assert curve[0.5]["holds_gold"] == 1.0 and curve[0.5]["citation_precision"] == round(2 / 3, 4)  # q1 pays too
    assert curve[2.0]["citation_precision"] < curve[0.0]["citation_precision"]  # q3 as well
    # The same gain at less cost: the smaller margin.
    assert train_ranker.choose_quote_margin(list(curve.values())) == 0.25


TRANSLATED = {  # the fake model's translations; the third is not a question, so it is skipped
    "ハノーファーの西側の近隣都市は？": "Which city neighbours Hanover to the west?",
    "東京タワーが完成したのは何年？": "In which year was Tokyo Tower completed?",
    "富士山の標高は？": "Mount Fuji is 3776 metres high.",
    "琵琶湖は何県にある？": "Which prefecture is Lake Biwa in?",
}


class Translator(ScriptedChatModel):
    """Translates by the table, either way, whichever prompt set asks."""

    def _next(self, messages):
        text = messages[-1].content
        self.prompts.append(messages)
        for ja, en in TRANSLATED.items():
            if ja in text:
                return en
            if en in text:
                return ja
        raise AssertionError(text)


def test_english_groups_ask_the_sampled_questions_in_english_through_find(tmp_path, e5, monkeypatch):
    articles = [("ハノーファー", "ハノーファーはドイツの都市である。西側の近隣都市はビーレフェルトである。", "ビーレフェルト"),
                ("東京タワー", "東京タワーは1958年に完成した電波塔である。高さは333メートルである。", "1958年"),
                ("富士山", "富士山は標高3776メートルの山である。東京からも見える。", "3776メートル"),
                ("琵琶湖", "琵琶湖は滋賀県にある日本最大の湖である。", "滋賀県")]
    data = {"data": [{"title": t, "paragraphs": [{"context": f"{t} [SEP] {body}", "qas": [
        {"id": f"q{i}", "question": q, "answers": [{"text": a, "answer_start": body.find(a)}]}]}]}
        for i, ((t, body, a), q) in enumerate(zip(articles, TRANSLATED))]}
    path = tmp_path / "valid.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(jsquad, "HELD_OUT", 0.5)
    bot = Chatbot(Settings(data_dir=tmp_path / "data"), embeddings=e5, chat_model=Translator(replies=[], prompts=[]))

    made = ranker_data.english_groups(bot, path, 9, 9, seed=0)

    paragraphs, questions = jsquad.load_jsquad(path)
    expected = {part: [q["id"] for q in ranker_data.sampled(paragraphs, questions, part, 0)
                       if not TRANSLATED[q["question"]].endswith(".")] for part in ("train", "heldout")}
    assert expected["train"] and expected["heldout"]  # both parts have questions
    for part in ("train", "heldout"):
        assert [g.qid for g in made if g.source == f"jsquad-{part}-en"] == expected[part]
    by_id = {q["id"]: q for q in questions}
    back = 0  # find translates back only when the passages pass its gate (as at answer time)
    for g in made:
        ja = by_id[g.qid]["question"]
        assert g.language == "en" and g.forms[0] == TRANSLATED[ja] and g.forms[-1] in (TRANSLATED[ja], ja)
        back += g.forms[-1] == ja
        answer = by_id[g.qid]["answers"][0]
        assert g.labels.any() and all((answer in c.text) == bool(y) for c, y in zip(g.candidates, g.labels))
    assert back
