"""A linear model over named, standardized features, stored as JSON: the form the answerability
calibration ships in (and the hand-set baseline of the sentence ranker, whose shipped model is
LightGBM trees: :mod:`chatbot.trees`).

The file names its features, so a model trained before a feature was added still loads (the new
feature gets weight 0 until the model is retrained); it also records what it was trained on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class LinearModel:
    """``coef · (x - mean) / scale + intercept`` over the columns ``names``."""

    names: tuple[str, ...]
    coef: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    intercept: float = 0.0
    about: dict = field(default_factory=dict)  # what it was trained on, how, and how it scored

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The linear score of each row of ``x`` (a single row gives a 0-d array)."""
        return ((np.asarray(x, dtype=np.float64) - self.mean) / self.scale) @ self.coef + self.intercept

    @classmethod
    def one(cls, names: Sequence[str], name: str, about: dict | None = None) -> LinearModel:
        """The model that returns column ``name`` unchanged."""
        coef = np.zeros(len(names))
        coef[list(names).index(name)] = 1.0
        return cls(tuple(names), coef, np.zeros(len(names)), np.ones(len(names)), 0.0, about or {})

    def to_json(self) -> dict:
        return {"features": list(self.names), "coef": self.coef.tolist(), "mean": self.mean.tolist(),
                "scale": self.scale.tolist(), "intercept": self.intercept, "about": self.about}

    @classmethod
    def from_json(cls, data: dict, names: Sequence[str]) -> LinearModel:
        """The model in ``data`` over the columns ``names`` (columns it was not trained on get weight 0)."""
        trained = dict(zip(data["features"], zip(data["coef"], data["mean"], data["scale"])))
        coef, mean, scale = (np.array(col, dtype=np.float64)
                             for col in zip(*[trained.get(n, (0.0, 0.0, 1.0)) for n in names]))
        return cls(tuple(names), coef, mean, scale, float(data.get("intercept", 0.0)), data.get("about", {}))


def read(path: str | Path | None, shipped: str) -> dict | None:
    """The JSON in ``path``, or the package's ``chatbot/data/<shipped>`` (``None`` if it has none)."""
    if path is not None:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    data = resources.files("chatbot").joinpath("data", shipped)
    return json.loads(data.read_text(encoding="utf-8")) if data.is_file() else None
