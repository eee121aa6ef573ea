"""``python -m eval train-ranker``: learn the evidence-sentence ranker (``chatbot/data/ranker.json``).

Data (never the test split):

- **JSQuAD training paragraphs** (:func:`eval.jsquad.split_paragraphs`, split by article): each
  JSQuAD title's paragraphs become one article (as a news archive holds long articles, not lone
  paragraphs), indexed by the product's own ingest (collection ``jsquad-articles``); a seeded
  sample of the questions whose paragraph is in the training part is searched with the product's
  retriever, and every sentence of the top-k passages is a candidate, described by
  :func:`chatbot.ranker.featurize` exactly as at answer time. Positive: a sentence of the
  question's own paragraph that contains a reference answer (NFKC, no spaces).
- **The seed dev split** (``eval/dev.jsonl``): each answerable question goes through the chain's
  own condense and find steps (English questions are translated by the local model, as at answer
  time). Positive: a candidate that is a gold evidence sentence (:func:`eval.scoring.citation_correct`,
  the eval's own matcher).

The news dev split (``eval/news/dev.jsonl``, fictional articles of other kinds) is collected the
same way but never trained on: it shows how the ranker does on articles unlike the seed ones.
So are **the same JSQuAD questions in English** (:func:`eval.ranker_data.english_groups`): the
first ``N_ENGLISH`` of the training and of the held-out sample, translated into English by the
local model and then asked like any English question (their Japanese form is the model's back-translation). The
held-out ones are reported (``jsquad_heldout_en``, the largest English measure); the training
ones are trained on only by the ``--compare`` variant ``lambdamart_with_english``, which did
not beat the shipped ranker on the hand-written English questions (docs/evaluation.md).

Model: LightGBM's LambdaMART (:mod:`chatbot.trees`; fixed seed, deterministic, one thread, so a
rerun writes the same file). Chosen against two linear models on the same data (``--compare``:
a conditional logit, i.e. a softmax over each question's candidates, and a pointwise logistic
regression; results in the report): the linear ones matched it on dev and JSQuAD but not on the
news-dev articles it was not trained on (see ``eval/results/ranker.json``). Reported: top-1 and top-3
(a positive among the first 1 / 3 candidates) on the JSQuAD held-out paragraphs, on dev
(5-fold cross-validation by question: the dev questions of a fold are never trained on), and
for the hand-set baseline score. The margin within which the runner-up sentence is quoted too
(``quote_margin``) is chosen on the same dev folds (:func:`choose_quote_margin`). The candidates
(:mod:`eval.ranker_data`) are cached under ``<data_dir>/ranker-cache`` (they
do not depend on the weights or the features); ``--refresh`` recomputes them.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from chatbot import Settings
from chatbot.ranker import FEATURES, Ranker
from chatbot.trees import BoostedTrees

from .jsquad import DEFAULT_PATH, SEED
from .ranker_baselines import L2, fit_conditional_logit, fit_logistic
from .ranker_data import Group, collect

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "chatbot" / "data" / "ranker.json"
REPORT = Path(__file__).resolve().parent / "results" / "ranker.json"
DEV_WEIGHT = 5.0  # a dev question counts this many JSQuAD questions (its articles are the product's kind)


# -- models -------------------------------------------------------------------------------------

ROUNDS = 300  # boosting rounds of the shipped LambdaMART (learning rate 0.05, 15 leaves)


def fit_lambdamart(groups: list[Group], weights: dict[str, float] | None = None, seed: int = SEED,
                   rounds: int = ROUNDS) -> Ranker:
    """LightGBM's LambdaMART over each group's candidates (the shipped model)."""
    x = np.concatenate([g.features for g in groups])
    y = np.concatenate([g.labels for g in groups])
    w = np.concatenate([np.full(len(g.labels), (weights or {}).get(g.source, 1.0)) for g in groups])
    return Ranker(BoostedTrees.fit(FEATURES, x, y, [len(g.labels) for g in groups], w, seed, rounds))


# -- measures -----------------------------------------------------------------------------------

def quote_top1(model, groups: list[Group]) -> float | None:
    """Share of groups whose best-scored *quotable* candidate is a positive (what the answer quotes)."""
    if not groups:
        return None
    hits = 0
    for g in groups:
        scores = np.where(g.quotable, model.score(g.features), -np.inf)
        best = int(np.argmax(scores))
        hits += bool(g.quotable[best] and g.labels[best])
    return round(hits / len(groups), 4)


def top_n(model, groups: list[Group], n: int) -> float | None:
    """Share of groups with a positive among the ``n`` best-scored candidates (groups without a
    positive count as misses: the positive was not retrieved)."""
    if not groups:
        return None
    hits = 0
    for g in groups:
        order = np.argsort(-model.score(g.features), kind="stable")[:n]
        hits += bool(g.labels[order].any())
    return round(hits / len(groups), 4)


def measures(model, groups: list[Group]) -> dict:
    out = {}
    for name, sel in (("jsquad_heldout", lambda g: g.source == "jsquad-heldout"),
                      ("jsquad_heldout_en", lambda g: g.source == "jsquad-heldout-en"),
                      ("dev", lambda g: g.source == "dev"),
                      ("dev_ja", lambda g: g.source == "dev" and g.language == "ja"),
                      ("dev_en", lambda g: g.source == "dev" and g.language == "en"),
                      ("news_dev", lambda g: g.source == "news-dev"),
                      ("news_dev_en", lambda g: g.source == "news-dev" and g.language == "en")):
        part = [g for g in groups if sel(g)]
        if part:
            out[name] = {"questions": len(part), "top1": top_n(model, part, 1), "top3": top_n(model, part, 3),
                         "quote": quote_top1(model, part),
                         "positive_retrieved": round(sum(bool(g.labels.any()) for g in part) / len(part), 4)}
    return out


def dev_fold_scores(fit, groups: list[Group], folds: int = 5, seed: int = SEED) -> list[tuple[Group, np.ndarray]]:
    """Each dev group's scores by a model fitted on ``groups`` without its fold (the others always in)."""
    dev = [g for g in groups if g.source == "dev"]
    rest = [g for g in groups if g.source != "dev"]
    ids = sorted({g.qid for g in dev})
    random.Random(seed).shuffle(ids)
    fold_of = {q: i % folds for i, q in enumerate(ids)}
    scored: list[tuple[Group, np.ndarray]] = []
    for f in range(folds):
        model = fit(rest + [g for g in dev if fold_of[g.qid] != f])
        scored += [(g, model.score(g.features)) for g in dev if fold_of[g.qid] == f]
    return scored


class _Fixed:
    """Scores computed elsewhere (a held-out fold's), looked up by the features' identity."""

    def __init__(self, pairs: list[tuple[Group, np.ndarray]]) -> None:
        self.pairs = {id(g.features): s for g, s in pairs}

    def score(self, features):
        return self.pairs[id(features)]


QUOTE_MARGINS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)  # the grid for Ranker.quote_margin (LambdaMART units)


def quote_margin_curve(scored: list[tuple[Group, np.ndarray]]) -> list[dict]:
    """For each margin: the share of questions whose quotes (the best quotable candidate, and
    the runner-up when it scores within the margin) hold a positive, the mean share of their
    quotes that are positives (the citation precision), and how often two are quoted."""
    rows = []
    for margin in QUOTE_MARGINS:
        hit = precision = two = 0.0
        for g, scores in scored:
            order = [i for i in np.argsort(-scores, kind="stable") if g.quotable[i]]
            k = 2 if len(order) > 1 and scores[order[0]] - scores[order[1]] < margin else 1
            labels = g.labels[order[:k]]
            hit, precision, two = hit + bool(labels.any()), precision + float(labels.mean()), two + (k == 2)
        n = max(len(scored), 1)
        rows.append({"margin": margin, "holds_gold": round(hit / n, 4), "citation_precision": round(precision / n, 4),
                     "two_quotes": round(two / n, 4)})
    return rows


def choose_quote_margin(curve: list[dict]) -> float:
    """The margin whose quotes hold a gold sentence most often, among those whose citation
    precision is no lower than quoting one sentence (a second quote must not cost precision)."""
    one = curve[0]["citation_precision"]
    ok = [r for r in curve if r["citation_precision"] >= one]
    return max(ok, key=lambda r: (r["holds_gold"], -r["margin"]))["margin"]


def choose_margin(ranker: Ranker, groups: list[Group]) -> float:
    """The article margin in this ranker's score units: under the baseline score, the hand-set
    ARTICLE_MARGIN (chosen on dev, chatbot.rules) keeps a certain share of each dev question's
    candidates within reach of its best one; the margin that keeps the same share under the new
    score (see chatbot.evidence)."""
    base = Ranker.baseline()
    dev = [g for g in groups if g.source == "dev"]
    if not dev:
        return 1.0

    def gaps(model) -> np.ndarray:
        out = []
        for g in dev:
            s = np.sort(model.score(g.features))[::-1]
            out += list(s[0] - s[1:])
        return np.array(out)

    share = float((gaps(base) <= base.article_margin).mean())
    return round(float(np.quantile(gaps(ranker), share)), 4)


N_TRAIN, N_HELDOUT = 2000, 600  # JSQuAD questions sampled from the training and the held-out paragraphs
N_ENGLISH = (350, 150)  # of those, the first ones also asked in English (english_groups): training, held out
TRAINED = ("jsquad-train", "dev")  # the sources the shipped ranker learns from
WITH_ENGLISH = (*TRAINED, "jsquad-train-en")  # measured with --compare, not shipped (docs/evaluation.md)


def run(settings: Settings | None = None, jsquad: Path = DEFAULT_PATH, n_train: int = N_TRAIN, n_heldout: int = N_HELDOUT,
        seed: int = SEED, out: Path = OUT, report: Path = REPORT, compare: bool = False, refresh: bool = False,
        n_english: tuple[int, int] = N_ENGLISH) -> dict:
    settings = settings or Settings()
    t0 = time.time()
    groups = collect(settings, jsquad, n_train, n_heldout, seed, refresh, n_english)
    weights = {"dev": DEV_WEIGHT}
    # news-dev is never trained on: it shows how the ranker does on articles unlike the seed ones.
    train = [g for g in groups if g.source in TRAINED]
    results: dict = {"baseline": measures(Ranker.baseline(), groups)}
    fits = {"lambdamart": lambda gs: fit_lambdamart(gs, weights, seed)}
    sources = {"lambdamart": TRAINED}  # the other fits learn from TRAINED too
    if compare:
        fits["lambdamart_with_english"] = fits["lambdamart"]
        sources["lambdamart_with_english"] = WITH_ENGLISH
        fits["conditional_logit"] = lambda gs: fit_conditional_logit(gs, L2, weights)
        fits["logistic"] = lambda gs: fit_logistic(gs, L2, weights)
        fits["lambdamart_100_rounds"] = lambda gs: fit_lambdamart(gs, weights, seed, 100)
        for l2 in (0.1, 10.0):
            fits[f"conditional_logit_l2_{l2:g}"] = lambda gs, l2=l2: fit_conditional_logit(gs, l2, weights)
        fits["conditional_logit_jsquad_only"] = lambda gs: fit_conditional_logit(
            [g for g in gs if g.source == "jsquad-train"], L2)
    dev = [g for g in groups if g.source == "dev"]
    held_out = [g for g in groups if g.source in ("jsquad-heldout", "jsquad-heldout-en", "news-dev")]
    for name, fit in fits.items():
        learn = [g for g in groups if g.source in sources.get(name, TRAINED)]
        model = fit(learn)
        full = measures(model, held_out)
        scored = dev_fold_scores(fit, learn, seed=seed)
        results[name] = {"dev_cross_validated": measures(_Fixed(scored), dev), **full}
        if name in ("lambdamart", "lambdamart_with_english"):
            these = {"dev_cross_validated": quote_margin_curve(scored), **{
                source: quote_margin_curve([(g, model.score(g.features)) for g in held_out if g.source == source])
                for source in ("news-dev", "jsquad-heldout", "jsquad-heldout-en")}}
            if name == "lambdamart":
                ranker, curves = model, these
            else:
                results[name]["quote_margin"] = {"chosen": choose_quote_margin(these["dev_cross_validated"]),
                                                 "curves": these}
        print(name, json.dumps(results[name]), file=sys.stderr, flush=True)
    quote_margin = choose_quote_margin(curves["dev_cross_validated"])
    counts = {s: sum(1 for g in train if g.source == s) for s in sorted({g.source for g in train})}
    trees = ranker.model
    ranker = Ranker(BoostedTrees(trees.names, trees.trained, trees.text, {
        "trained_on": counts,
        "command": f"python -m eval train-ranker --seed {seed} --jsquad-train {n_train} --jsquad-heldout {n_heldout}"
                   f" --english {n_english[0]} {n_english[1]}",
        "model": f"LightGBM LambdaMART, {ROUNDS} rounds, dev weight {DEV_WEIGHT}",
        "held_out": results["lambdamart"],
        "baseline": results["baseline"]}), choose_margin(ranker, groups), quote_margin)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(ranker.to_json(), indent=1) + "\n", encoding="utf-8")
    summary = {"groups": counts, "seconds": round(time.time() - t0), "results": results,
               "quote_margin": {"chosen": quote_margin, "by": "dev cross-validated: most often holding a gold "
                                "sentence at no lower citation precision than one quote", "curves": curves},
               "shipped": str(out.relative_to(ROOT)) if out.is_relative_to(ROOT) else str(out),
               "feature_importance": ranker.model.importance()}
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary
