"""The linear rankers ``python -m eval train-ranker --compare`` measures against the shipped
LambdaMART: a conditional logit (a softmax over each question's candidates) and a pointwise
logistic regression, both over the standardized features (results in ``eval/results/ranker.json``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import minimize

from chatbot.linear import LinearModel
from chatbot.ranker import FEATURES, Ranker

if TYPE_CHECKING:
    from .ranker_data import Group

L2 = 1.0  # penalty on the standardized weights (chosen on dev CV with --compare; see the report)


def _standardize(groups: list[Group]) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([g.features for g in groups])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    return mean, scale


def fit_conditional_logit(groups: list[Group], l2: float = L2, weights: dict[str, float] | None = None) -> Ranker:
    """Softmax over each group's candidates; maximize the log-probability of its positives."""
    usable = [g for g in groups if g.labels.any() and len(g.labels) > 1]
    mean, scale = _standardize(usable)
    xs = [(g.features - mean) / scale for g in usable]
    ys = [g.labels > 0 for g in usable]
    ws = np.array([(weights or {}).get(g.source, 1.0) for g in usable])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = l2 * float(w @ w), 2 * l2 * w
        for x, y, weight in zip(xs, ys, ws):
            z = x @ w
            z -= z.max()
            p = np.exp(z)
            p /= p.sum()
            pos = p[y].sum()
            total -= weight * np.log(pos)
            # d/dw of -log sum_pos p = sum_all p x - sum_pos (p/pos) x
            grad -= weight * ((p[y] / pos) @ x[y] - p @ x)
        return total, grad

    res = minimize(loss, np.zeros(len(FEATURES)), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return Ranker(LinearModel(FEATURES, res.x, mean, scale))


def fit_logistic(groups: list[Group], l2: float = L2, weights: dict[str, float] | None = None) -> Ranker:
    """Pointwise logistic regression (positive vs the rest), for comparison."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = _standardize(groups)
    x = np.concatenate([(g.features - mean) / scale for g in groups])
    y = np.concatenate([g.labels for g in groups])
    w = np.concatenate([np.full(len(g.labels), (weights or {}).get(g.source, 1.0)) for g in groups])
    model = LogisticRegression(C=1.0 / max(l2, 1e-6), max_iter=2000, class_weight="balanced")
    model.fit(x, y, sample_weight=w)
    return Ranker(LinearModel(FEATURES, model.coef_[0], mean, scale, float(model.intercept_[0])))
