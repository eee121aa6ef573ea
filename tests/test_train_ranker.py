"""`python -m eval train-ranker` on a small synthetic fixture: the trainer's whole path (fit,
cross-validation, margin, the shipped JSON) runs, and the trained ranker beats a trivial baseline.

The fixture is feature-level (no retrieval, no model): in each question's candidates the answer
is the one whose ``focus`` is high *and* whose ``dense`` is above the question's median, a rule
no single column and not the retrieval order gives."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np

from chatbot.ranker import FEATURES, Ranker
from eval import train_ranker
from eval.train_ranker import Group, fit_lambdamart, top_n

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
                         np.zeros((k, 4)), labels, x))
    return out


def test_train_ranker_beats_the_retrieval_order_and_ships_a_file_that_loads(tmp_path, monkeypatch):
    data = (groups(300, "jsquad-train", 1) + groups(100, "jsquad-heldout", 2) + groups(40, "dev", 3)
            + groups(30, "news-dev", 4))
    monkeypatch.setattr(train_ranker, "collect", lambda *a, **k: data)
    out, report = tmp_path / "ranker.json", tmp_path / "report.json"
    summary = train_ranker.run(out=out, report=report, n_train=300, n_heldout=100)

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
                     np.array(labels, dtype=float), np.zeros((3, len(FEATURES))))

    scored = [(group([1, 0, 0]), np.array([1.0, 0.6, 0.0])), (group([0, 1, 0]), np.array([1.0, 0.8, 0.0])),
              (group([1, 0, 0]), np.array([3.0, 1.2, 0.0]))]
    curve = {r["margin"]: r for r in train_ranker.quote_margin_curve(scored)}
    assert curve[0.0]["holds_gold"] == round(2 / 3, 4) and curve[0.0]["two_quotes"] == 0
    assert curve[0.25]["holds_gold"] == 1.0 and curve[0.25]["citation_precision"] == round(2.5 / 3, 4)  # q2 only
    assert curve[0.5]["holds_gold"] == 1.0 and curve[0.5]["citation_precision"] == round(2 / 3, 4)  # q1 pays too
    assert curve[2.0]["citation_precision"] < curve[0.0]["citation_precision"]  # q3 as well
    # The same gain at less cost: the smaller margin.
    assert train_ranker.choose_quote_margin(list(curve.values())) == 0.25
