"""One calibrated probability that the answer will be right, from cheap signals and the model's P(yes).

The model's yes/no probability alone separates answerable from unanswerable questions poorly
on near misses (docs/evaluation.md). The ranker sees other things: how well the best sentence
matches, how far ahead of the next it is, whether it holds the kind of fact asked for and names
the question's subject. :class:`Calibration` is a logistic regression over those
:data:`SIGNALS`, trained by ``python -m eval train-answerability`` on the dev split and on
answerable and gold-removed JSQuAD questions of the training paragraphs (weights in
``chatbot/data/answerability.json``, which says what they were trained on). Without that file
the probability is the model's P(yes) itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .answer_types import holds_kind
from .linear import LinearModel, read
from .ranker import FEATURES
from .text import language_of

if TYPE_CHECKING:
    from .steps import Found, Query

SIGNALS = (
    "logit_yes", "top", "margin", "top_dense", "top_lexical", "top_window_lexical", "relevance",
    "kind_asked", "kind_in_top", "about_top", "subjects", "cross_language", "follow_up",
)


def signals(query: Query, found: Found, p_yes: float) -> np.ndarray:
    """The :data:`SIGNALS` of one question, in order."""
    scores = [c.score for c in found.ranked]
    top = found.evidence.ranked[0] if found.evidence else None
    row = found.features[0] if len(found.features) else np.zeros(len(FEATURES))
    p = min(max(p_yes, 1e-4), 1 - 1e-4)
    values = {
        "logit_yes": math.log(p / (1 - p)),
        "top": scores[0] if scores else 0.0,
        "margin": scores[0] - scores[1] if len(scores) > 1 else 1.0,
        "top_dense": float(row[FEATURES.index("dense")]),
        "top_lexical": float(row[FEATURES.index("lexical")]),
        "top_window_lexical": float(row[FEATURES.index("lexical_window")]),
        "relevance": found.relevance,
        "kind_asked": float(query.kind is not None),
        "kind_in_top": float(query.kind is not None and top is not None and holds_kind(query.kind, [top.text])),
        "about_top": float(top is None or found.subjects.about(top)),
        "subjects": float(len(found.subjects.terms)),
        "cross_language": float(bool(found.results) and language_of(found.results[0].text) != query.language),
        "follow_up": float(len(query.forms) > 1),
    }
    return np.array([values[s] for s in SIGNALS], dtype=np.float64)


@dataclass(frozen=True)
class Calibration:
    """``sigmoid`` of a linear model over :data:`SIGNALS`."""

    model: LinearModel

    def probability(self, x: np.ndarray) -> float:
        z = float(self.model(x))
        return 1 / (1 + math.exp(-max(min(z, 50.0), -50.0)))

    def to_json(self) -> dict:
        return self.model.to_json()

    @classmethod
    def load(cls, path: str | Path | None = None) -> Calibration:
        """The calibration in ``path``, or the shipped one (the model's P(yes) when none ships)."""
        if path is None:
            return _shipped()
        return cls(LinearModel.from_json(read(path, "answerability.json"), SIGNALS))

    @classmethod
    def model_only(cls) -> Calibration:
        """The model's P(yes), unchanged."""
        return cls(LinearModel.one(SIGNALS, "logit_yes", {"name": "model P(yes)"}))


@lru_cache(maxsize=1)
def _shipped() -> Calibration:
    data = read(None, "answerability.json")
    return Calibration(LinearModel.from_json(data, SIGNALS)) if data is not None else Calibration.model_only()
