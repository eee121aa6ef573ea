"""``python -m eval train-answerability``: learn the calibrated answerability (``chatbot/data/answerability.json``).

One probability that the answer will be right (:mod:`chatbot.answerability`), from the chain's own
signals and the model's P(yes). Every question goes through the chain's condense, find and gate
steps, then its decision prompt is read by the local model once (P(yes)); questions the gate
refuses in code never reach the calibration and are left out of its data (they are counted: the
report says how often each code rule refused answerable questions).

Data (never the test split):

- the seed dev split: label 1 when the question is answerable and the sentence the answer would
  quote is a gold evidence sentence (:func:`eval.scoring.citation_correct`), else 0 (an
  unanswerable question, or a quote that does not answer: refusing it is better than a wrong
  citation);
- JSQuAD training paragraphs (:func:`eval.jsquad.split_paragraphs`): ``--answerable N`` questions
  asked over every paragraph, label 1 when the quote contains a reference answer; ``--gold-removed
  N`` questions (one per paragraph) asked over an index without their paragraphs, label 0 (left
  out when a reference answer is in a retrieved passage anyway).

The news dev split is collected the same way but never trained on; the report shows how the
calibration does there. The threshold (``CHATBOT_MIN_CONFIDENCE``) is chosen on the seed dev split, by 5-fold
cross-validation by question: the lowest threshold whose false refusals (answerable questions
refused, in code or by the calibration) stay ≤ ``MAX_FALSE_REFUSALS``. Rows are cached under
``<data_dir>/answerability-cache`` (``--refresh`` recomputes them).
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from chatbot import Chatbot, Settings
from chatbot.answerability import SIGNALS, Calibration, signals
from chatbot.linear import LinearModel
from chatbot.prompts import prompts_for

from .corpus_retrieval import load_questions
from .jsquad import (DEFAULT_PATH, SEED, contains_answer, leave_out_key, load_jsquad, samples, split_paragraphs,
                     write_articles)
from .scoring import citation_correct
from .splits import SPLITS

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "chatbot" / "data" / "answerability.json"
REPORT = Path(__file__).resolve().parent / "results" / "answerability.json"
MAX_FALSE_REFUSALS = 0.05  # issue 21: false refusals ≤ 0.05 on dev
L2 = 1.0
# The ranker's own scores are left out: every training row (dev, JSQuAD training questions) is
# in the ranker's training data, so its top score and margin are in-sample there and the
# calibration learned to trust them. With them (12-01, rows-40-40-0): dev CV false refusals 0.043
# at the chosen 0.15, but news-dev (never trained on) 0.34; without them news-dev 0.029 at 0.15.
# Cross-fitted ranker scores would let them back in (not done).
LEFT_OUT = ("top", "margin")


def assess(bot: Chatbot, question: str, history=None) -> dict:
    """One question up to the decision: the gate's verdict, the signals, P(yes) and the quote."""
    chain = bot.chain
    query = chain.condense(question, history)
    found = chain.find(query)
    gate = chain.gate(query, found)
    row = {"gate": gate.reason, "signals": None, "p_yes": None, "quote": None}
    if not gate.answerable:
        return row
    prompts = prompts_for(query.language)
    decision = chain.decide(prompts, chain.format_evidence(prompts, found.evidence), query, found)
    subjects = chain.subjects(query, found)
    row.update(p_yes=decision.probability, signals=signals(query, found, decision.probability, subjects).tolist(),
               quote=chain.lead(query, found, subjects)[0].text)
    return row


def dev_rows(bot: Chatbot, questions: list[dict], source: str) -> list[dict]:
    rows = []
    for q in questions:
        row = assess(bot, q["question"], q.get("history"))
        answerable = q["type"] != "unanswerable"
        right = answerable and row["quote"] is not None and citation_correct(row["quote"], q.get("evidence", []))
        rows.append({"source": source, "id": q["id"], "answerable": answerable, "label": int(right), **row})
        print(f"{source} {q['id']}: gate {row['gate']}, P(yes) {row['p_yes']}, right {right}", file=sys.stderr,
              flush=True)
    return rows


def jsquad_rows(settings: Settings, shared: Chatbot, path: Path, n_answerable: int, n_removed: int,
                seed: int) -> list[dict]:
    paragraphs, questions = load_jsquad(path)
    train, _ = split_paragraphs(paragraphs, seed)
    answerable, removed = samples(questions, train, seed)
    rows = []
    full = Chatbot(settings.model_copy(update={"collection": "jsquad"}), embeddings=shared.embeddings,
                   chat_model=shared.chat_model)
    write_articles(paragraphs, Path(settings.data_dir) / "jsquad")
    full.ingest(Path(settings.data_dir) / "jsquad")
    for q in answerable[:n_answerable]:
        row = assess(full, q["question"])
        right = row["quote"] is not None and contains_answer(q["answers"], row["quote"])
        rows.append({"source": "jsquad-answerable", "id": q["id"], "answerable": True, "label": int(right), **row})
    picked = removed[:n_removed]
    paras = sorted({q["para"] for q in picked})
    key = leave_out_key(paras)
    root = Path(settings.data_dir) / "jsquad-minus" / key
    write_articles(paragraphs, root / "jsquad", leave_out=paras)
    minus = Chatbot(settings.model_copy(update={"collection": f"jsquad-minus-{key}"}), embeddings=shared.embeddings,
                    chat_model=shared.chat_model)
    minus.ingest(root / "jsquad", prune=True)
    for q in picked:
        found = minus.chain.find(minus.chain.condense(q["question"]))
        if any(contains_answer(q["answers"], r.text) for r in found.results):
            continue  # the index still answers it
        row = assess(minus, q["question"])
        rows.append({"source": "jsquad-gold-removed", "id": q["id"], "answerable": False, "label": 0, **row})
    return rows


def fit(rows: list[dict], l2: float = L2) -> Calibration:
    """Logistic regression over :data:`SIGNALS` without :data:`LEFT_OUT` (their weight is 0)."""
    from sklearn.linear_model import LogisticRegression

    keep = [i for i, name in enumerate(SIGNALS) if name not in LEFT_OUT]
    x = np.array([r["signals"] for r in rows])[:, keep]
    y = np.array([r["label"] for r in rows])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=1.0 / l2, max_iter=2000).fit((x - mean) / scale, y)
    coef, full_mean, full_scale = np.zeros(len(SIGNALS)), np.zeros(len(SIGNALS)), np.ones(len(SIGNALS))
    coef[keep], full_mean[keep], full_scale[keep] = model.coef_[0], mean, scale
    return Calibration(LinearModel(SIGNALS, coef, full_mean, full_scale, float(model.intercept_[0])))


def rates(rows: list[dict], probability, threshold: float) -> dict:
    """False refusals (answerable refused, in code or below the threshold), correct refusals, and
    wrong answers (answered, quote not right) at ``threshold``."""
    def refused(r):
        return r["gate"] is not None or probability(r) < threshold
    ans = [r for r in rows if r["answerable"]]
    un = [r for r in rows if not r["answerable"]]
    return {"threshold": threshold,
            "false_refusals": round(sum(map(refused, ans)) / len(ans), 4) if ans else None,
            "correct_refusals": round(sum(map(refused, un)) / len(un), 4) if un else None,
            "answered_right": round(sum(1 for r in ans if not refused(r) and r["label"]) / len(ans), 4) if ans else None}


def run(settings: Settings | None = None, jsquad: Path = DEFAULT_PATH, n_answerable: int = 200, n_removed: int = 200,
        seed: int = SEED, out: Path = OUT, report: Path = REPORT, refresh: bool = False) -> dict:
    settings = settings or Settings(min_confidence=0.0)
    t0 = time.time()
    cache = Path(settings.data_dir) / "answerability-cache" / f"rows-{n_answerable}-{n_removed}-{seed}.json"
    if cache.exists() and not refresh:
        rows = json.loads(cache.read_text())
    else:
        bot = SPLITS["dev"].bot(settings)
        rows = dev_rows(bot, load_questions(SPLITS["dev"].questions), "dev")
        if SPLITS["news-dev"].questions.exists():
            news = SPLITS["news-dev"].bot(settings, embeddings=bot.embeddings, chat_model=bot.chat_model)
            rows += dev_rows(news, load_questions(SPLITS["news-dev"].questions), "news-dev")
        if jsquad.exists():
            rows += jsquad_rows(settings, bot, jsquad, n_answerable, n_removed, seed)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(rows, ensure_ascii=False))
    # news-dev is never trained on (an independent check on other articles); dev is, by fold.
    usable = [r for r in rows if r["signals"] is not None and r["source"] != "news-dev"]
    dev = [r for r in rows if r["source"] == "dev"]
    news = [r for r in rows if r["source"] == "news-dev"]

    # Dev by 5-fold cross-validation: each dev question scored by a calibration that never saw it.
    ids = [r["id"] for r in dev]
    random.Random(seed).shuffle(ids)
    fold = {q: i % 5 for i, q in enumerate(ids)}
    cv: dict[str, float] = {}
    for f in range(5):
        model = fit([r for r in usable if r["source"] != "dev" or fold[r["id"]] != f])
        cv.update({r["id"]: model.probability(np.array(r["signals"])) for r in dev
                   if fold[r["id"]] == f and r["signals"] is not None})
    thresholds = [round(t, 2) for t in np.arange(0.0, 0.81, 0.05)]
    calibrated = [rates(dev, lambda r: cv.get(r["id"], 1.0), t) for t in thresholds]
    model_only = [rates(dev, lambda r: r["p_yes"] if r["p_yes"] is not None else 1.0, t) for t in thresholds]
    chosen = next((p["threshold"] for p in reversed(calibrated)
                   if p["false_refusals"] is not None and p["false_refusals"] <= MAX_FALSE_REFUSALS), 0.0)

    calibration = fit(usable)
    on_news = [rates(news, lambda r: calibration.probability(np.array(r["signals"])) if r["signals"] else 1.0, t)
               for t in thresholds]
    counts = Counter(r["source"] for r in usable)
    code_refusals = {s: dict(Counter(r["gate"] for r in rows if r["source"] == s and r["gate"] and r["answerable"]))
                     for s in sorted({r["source"] for r in rows})}
    m = calibration.model
    calibration = Calibration(LinearModel(SIGNALS, m.coef, m.mean, m.scale, m.intercept, {
        "trained_on": dict(counts), "threshold": chosen,
        "command": f"python -m eval train-answerability --seed {seed} --answerable {n_answerable} "
                   f"--gold-removed {n_removed}",
        "label": "1 = answerable and the quoted sentence is gold (JSQuAD: holds a reference answer)",
        "left_out": list(LEFT_OUT)}))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(calibration.to_json(), indent=1) + "\n", encoding="utf-8")
    summary = {"rows": dict(Counter(r["source"] for r in rows)), "usable": dict(counts),
               "code_refusals_of_answerable": code_refusals, "threshold": chosen,
               "dev_cross_validated": calibrated, "dev_model_p_yes_only": model_only, "news_dev": on_news,
               "weights": dict(zip(SIGNALS, np.round(calibration.model.coef, 4).tolist())),
               "seconds": round(time.time() - t0)}
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary
