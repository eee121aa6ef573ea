"""`python -m eval train-answerability`'s cross-fitting and its cache (no model, no retrieval):
the ranker's scores a row gets come from the ranker of its question's fold, news-dev rows keep
the shipped ranker's, and a cached row is reused as it was."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from chatbot.answerability import SIGNALS
from eval.train_answerability import FOLDS, Cache, cross_fitted, ranker_fold

TOP, MARGIN = SIGNALS.index("top"), SIGNALS.index("margin")


class Shifted:
    """A ranker whose score is the first feature column plus ``shift`` (which fold scored what)."""

    def __init__(self, shift: float) -> None:
        self.shift = shift

    def score(self, features: np.ndarray) -> np.ndarray:
        return features[:, 0] + self.shift


def row(source: str, qid: str) -> dict:
    return {"source": source, "id": qid, "signals": [0.5] * len(SIGNALS), "gate": None, "p_yes": 0.5,
            "quote": "x", "answerable": True, "label": 1}


def test_each_row_is_rescored_by_the_ranker_of_its_fold():
    rankers = [Shifted(10.0 * f) for f in range(FOLDS)]
    rows = [row("dev", f"d{i:03d}") for i in range(12)] + [row("news-dev", "n-d001"), row("jsquad-gold-removed", "j1")]
    features = np.array([[3.0], [1.0], [2.5]])
    groups = {(r["source"], r["id"]): SimpleNamespace(features=features) for r in rows}
    groups[("jsquad-gold-removed", "j1")] = None  # no candidate found: the row stays as it was
    out = cross_fitted(rows, groups, rankers)
    folds = {ranker_fold(r["id"]) for r in rows[:12]}
    assert len(folds) > 1  # the fixture spans several folds
    for before, after in zip(rows[:12], out[:12]):
        assert after["signals"][TOP] == 3.0 + 10.0 * ranker_fold(before["id"])
        assert after["signals"][MARGIN] == 0.5  # 3.0 - 2.5 under any shift
        assert before["signals"][TOP] == 0.5  # the input rows are not changed
    assert out[12]["signals"] == rows[12]["signals"] and out[13] == rows[13]


def test_a_cached_row_is_reused_and_its_candidates_are_kept(tmp_path):
    cache = Cache(tmp_path, "1-1-0", refresh=False)
    assert not cache.complete and cache.row("dev", "d001") is None
    rows = [cache.keep(row("dev", "d001"), SimpleNamespace(features=np.zeros((2, 1))))]
    cache.save(rows)
    again = Cache(tmp_path, "1-1-0", refresh=False)
    assert again.complete and list(again.old.values()) == rows
    assert again.row("dev", "d001") == {"gate": None, "signals": rows[0]["signals"], "p_yes": 0.5, "quote": "x"}
    assert again.groups[("dev", "d001")].features.shape == (2, 1)
    assert not Cache(tmp_path, "1-1-0", refresh=True).complete
