"""Gradient-boosted trees (LightGBM) over named features, stored as JSON: the form the sentence
ranker ships in (``chatbot/data/ranker.json``; LambdaMART measured better than the linear models
on the articles it was not trained on, see ``eval/results/ranker.json``).

Like :class:`chatbot.linear.LinearModel` the file names its features; unlike a linear model a
tree model cannot give a feature it never saw weight 0, so a feature it was trained on that the
code no longer computes is an error that asks for retraining.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Sequence

import numpy as np

from .errors import ModelNotFoundError


@dataclass(frozen=True)
class BoostedTrees:
    """LightGBM's model text over the columns ``names`` of the rows it scores."""

    names: tuple[str, ...]  # the columns of the rows given to __call__
    trained: tuple[str, ...]  # the features the trees were trained on, in their order
    text: str  # LightGBM's own model format (Booster.model_to_string)
    about: dict = field(default_factory=dict)  # what it was trained on, how, and how it scored

    @cached_property
    def _booster(self):
        import lightgbm

        return lightgbm.Booster(model_str=self.text)

    @cached_property
    def _columns(self) -> np.ndarray:
        return np.array([self.names.index(n) for n in self.trained])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The score of each row of ``x``."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        return self._booster.predict(x[:, self._columns], num_threads=1)

    def importance(self) -> dict[str, float]:
        """Each trained feature's share of the trees' total split gain, largest first."""
        gain = self._booster.feature_importance(importance_type="gain")
        return {n: round(float(g / max(gain.sum(), 1e-12)), 4)
                for n, g in sorted(zip(self.trained, gain), key=lambda p: -p[1])}

    def to_json(self) -> dict:
        return {"kind": "lightgbm", "features": list(self.trained), "trees": self.text, "about": self.about}

    @classmethod
    def from_json(cls, data: dict, names: Sequence[str]) -> BoostedTrees:
        """The model in ``data``, scoring rows whose columns are ``names``."""
        missing = [n for n in data["features"] if n not in names]
        if missing:
            raise ModelNotFoundError(f"the ranker was trained on features this code no longer computes ({missing}): "
                                     "retrain it with `python -m eval train-ranker`.")
        return cls(tuple(names), tuple(data["features"]), data["trees"], data.get("about", {}))

    @classmethod
    def fit(cls, names: Sequence[str], x: np.ndarray, labels: np.ndarray, groups: Sequence[int],
            weights: np.ndarray, seed: int, rounds: int, about: dict | None = None) -> BoostedTrees:
        """LambdaMART over query groups (``groups``: the number of consecutive rows of each)."""
        import lightgbm

        data = lightgbm.Dataset(x, labels.astype(int), group=list(groups), weight=weights)
        params = {"objective": "lambdarank", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 20,
                  "verbose": -1, "seed": seed, "deterministic": True, "num_threads": 1}
        booster = lightgbm.train(params, data, num_boost_round=rounds)
        return cls(tuple(names), tuple(names), booster.model_to_string(), about or {})
