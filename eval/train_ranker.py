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
So are **the same JSQuAD questions in English** (:func:`english_groups`): the first ``N_ENGLISH``
of the training and of the held-out sample, translated into English by the local model and then
asked like any English question (their Japanese form is the model's back-translation). The
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
(``quote_margin``) is chosen on the same dev folds (:func:`choose_quote_margin`). The candidates are cached under ``<data_dir>/ranker-cache`` (they
do not depend on the weights or the features); ``--refresh`` recomputes them.
"""

from __future__ import annotations

import json
import pickle
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chatbot import Chatbot, Settings
from chatbot.prompts import prompts_for
from chatbot.ranker import FEATURES, Candidate, Ranker, featurize
from chatbot.store import ChunkMeta
from chatbot.trees import BoostedTrees
from chatbot.text import is_full_sentence, is_question, language_of

from .corpus_retrieval import load_questions
from .jsquad import DEFAULT_PATH, SEED, doc_id, load_jsquad, norm, split_paragraphs, write_articles
from .ranker_baselines import L2, fit_conditional_logit, fit_logistic
from .scoring import citation_correct
from .splits import SPLITS

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "chatbot" / "data" / "ranker.json"
REPORT = Path(__file__).resolve().parent / "results" / "ranker.json"
DEV_WEIGHT = 5.0  # a dev question counts this many JSQuAD questions (its articles are the product's kind)


@dataclass
class Group:
    """One question's candidates as the chain found them (retrieval order), with their labels.

    The raw inputs of :func:`chatbot.ranker.featurize` are kept (question forms, query vectors,
    candidates, sentence vectors), so a changed feature set is recomputed from the cache in
    seconds instead of re-running retrieval and the translations."""

    source: str  # jsquad-train, jsquad-heldout, dev, news-dev
    qid: str
    language: str
    forms: list[str]
    query_vectors: np.ndarray
    candidates: list[Candidate]
    vectors: np.ndarray  # the candidates' sentence vectors, in order
    labels: np.ndarray
    _features: np.ndarray | None = field(default=None, repr=False)

    @property
    def features(self) -> np.ndarray:
        if self._features is None:
            self._features = featurize(self.forms, self.candidates, self.query_vectors,
                                       lambda texts: self.vectors).astype(np.float64)
        return self._features

    @property
    def quotable(self) -> np.ndarray:
        """Which candidates the answer may quote (a full sentence, not a question: chain.lead)."""
        return np.array([is_full_sentence(c.text) and not is_question(c.text) for c in self.candidates])


# -- data ---------------------------------------------------------------------------------------

def group_of(bot: Chatbot, source: str, qid: str, language: str, query, found, positive) -> Group | None:
    if not found.ranked:
        return None
    # Candidates in retrieval order, so that nothing of today's ranking leaks into the labels' order.
    cands = sorted(found.ranked, key=lambda c: (c.rank, c.doc_pos))
    forms = list(query.forms) + ([found.translation] if found.translation else [])
    qv = np.stack([bot.chain._query_vector(t) for t in forms])
    return Group(source, qid, language, forms, qv, cands, bot.sentence_vectors([c.text for c in cands]),
                 np.array([positive(c) for c in cands], dtype=np.float64))


def write_title_articles(paragraphs: list[tuple[str, str]], folder: Path) -> dict[str, str]:
    """One Markdown article per JSQuAD title, its paragraphs in order (as a news archive holds
    long articles, not single paragraphs); returns ``{title: doc_id}``."""
    folder.mkdir(parents=True, exist_ok=True)
    titles = list(dict.fromkeys(t for t, _ in paragraphs))
    ids = {}
    for i, title in enumerate(titles):
        body = "\n\n".join(b for t, b in paragraphs if t == title)
        f = folder / f"{i:03d}.md"
        text = f"# {title}\n\n{body}\n"
        if not f.exists() or f.read_text(encoding="utf-8") != text:
            f.write_text(text, encoding="utf-8")
        ids[title] = f"{folder.name}/{f.name}"
    return ids


def _articles(bot: Chatbot, path: Path) -> tuple[list[tuple[str, str]], list[dict], dict[str, str]]:
    """JSQuAD's paragraphs and questions, its titles written as articles and ingested into ``bot``."""
    paragraphs, questions = load_jsquad(path)
    folder = Path(bot.settings.data_dir) / "jsquad-articles"
    ids = write_title_articles(paragraphs, folder)
    t0 = time.time()
    report = bot.ingest(folder)
    print(f"jsquad articles: {report.chunks_added} chunks embedded ({time.time() - t0:.0f} s)", file=sys.stderr)
    return paragraphs, questions, ids


def jsquad_groups(bot: Chatbot, path: Path, n_train: int, n_heldout: int, seed: int) -> list[Group]:
    """Candidates of sampled JSQuAD questions, ``n_train`` from training paragraphs and
    ``n_heldout`` from held-out ones (for reporting only), searched over the JSQuAD articles
    (a title's paragraphs as one article), so that the other sentences of the answer's article
    compete as they do in a news archive. Positive: a sentence of the question's own paragraph
    that holds a reference answer."""
    paragraphs, questions, ids = _articles(bot, path)
    picked = ([("jsquad-train", q) for q in sampled(paragraphs, questions, "train", seed)][:n_train]
              + [("jsquad-heldout", q) for q in sampled(paragraphs, questions, "heldout", seed)][:n_heldout])
    return _asked(bot, paragraphs, ids, [(source, "ja", q["question"], q) for source, q in picked])


def sampled(paragraphs: list[tuple[str, str]], questions: list[dict], part: str, seed: int) -> list[dict]:
    """The questions of the ``part`` ("train" or "heldout") paragraphs, in a seeded order."""
    train, heldout = map(set, split_paragraphs(paragraphs, seed))
    keep = train if part == "train" else heldout
    order = list(range(len(questions)))
    random.Random(seed).shuffle(order)
    return [questions[i] for i in order if questions[i]["para"] in keep]


def _asked(bot: Chatbot, paragraphs: list[tuple[str, str]], ids: dict[str, str],
           asked: list[tuple[str, str, str, dict]]) -> list[Group]:
    """Groups of JSQuAD questions asked as ``(source, language, text, question)`` through the
    chain's condense and find."""
    groups = []
    for j, (source, language, text, q) in enumerate(asked, 1):
        query = bot.chain.condense(text)
        found = bot.chain.find(query)
        title, body = paragraphs[q["para"]]
        gold, body = ids[title], norm(body)
        answers = [norm(a) for a in q["answers"] if norm(a)]
        g = group_of(bot, source, q["id"], language, query, found,
                     lambda c: c.doc_id == gold and norm(c.text) in body and any(a in norm(c.text) for a in answers))
        if g is not None:
            groups.append(g)
        if j % 200 == 0:
            print(f"jsquad {j}/{len(asked)}", file=sys.stderr, flush=True)
    return groups


def english_groups(bot: Chatbot, path: Path, n_train: int, n_heldout: int, seed: int) -> list[Group]:
    """The first ``n_train`` / ``n_heldout`` sampled JSQuAD questions (of the training / held-out
    paragraphs, the same ones as the Japanese groups') asked in English, over the same articles.

    The dev split holds the only English questions written by hand (29), too few to learn how an
    English question meets a Japanese sentence. Here the local model translates each question
    (the Japanese prompt set's ``translate`` request, the one the chain uses the other way), and
    the English question then goes through condense and find like any English question, so its
    Japanese form is the model's back-translation, as at answer time. A translation that is not
    an English question (no question mark, or not English) is skipped."""
    paragraphs, questions, ids = _articles(bot, path)
    request = prompts_for("ja")
    asked, tried = [], 0
    for part, n in (("train", n_train), ("heldout", n_heldout)):
        for q in sampled(paragraphs, questions, part, seed)[:n]:
            en = bot.chain._one_line(request.translate_messages(q["question"])) or ""
            tried += 1
            if language_of(en) == "en" and en.rstrip().endswith("?"):
                asked.append((f"jsquad-{part}-en", "en", en, q))
    print(f"jsquad english: {len(asked)} of {tried} translations kept", file=sys.stderr, flush=True)
    return _asked(bot, paragraphs, ids, asked)


def dev_groups(bot: Chatbot, questions: list[dict], source: str) -> list[Group]:
    """Candidates of the answerable dev questions, through the chain's condense and find."""
    groups = []
    for q in questions:
        if not q.get("evidence"):
            continue
        query = bot.chain.condense(q["question"], q.get("history"))
        found = bot.chain.find(query)
        g = group_of(bot, source, q["id"], q["language"], query, found,
                   lambda c: citation_correct(c.text, q["evidence"]))
        if g is not None:
            groups.append(g)
    return groups


def collect(settings: Settings, jsquad: Path, n_train: int, n_heldout: int, seed: int, refresh: bool,
            n_english: tuple[int, int] = (0, 0)) -> list[Group]:
    """Every group; each source is cached as soon as it is done (and reused for the same request)."""
    folder = Path(settings.data_dir) / "ranker-cache"
    shared: dict[str, Chatbot] = {}

    def dev(split: str) -> list[Group]:
        first = next(iter(shared.values()), None)
        parts = {"embeddings": first.embeddings, "chat_model": first.chat_model} if first else {}
        bot = shared[split] = SPLITS[split].bot(settings, **parts)
        return dev_groups(bot, load_questions(SPLITS[split].questions), split)

    def jsquad_bot() -> Chatbot:
        return Chatbot(settings.model_copy(update={"collection": "jsquad-articles"}))

    parts = [(f"jsquad-articles-{n_train}-{n_heldout}-{seed}", jsquad.exists(),
              lambda: jsquad_groups(jsquad_bot(), jsquad, n_train, n_heldout, seed)),
             (f"jsquad-english-{n_english[0]}-{n_english[1]}-{seed}", jsquad.exists() and any(n_english),
              lambda: english_groups(jsquad_bot(), jsquad, *n_english, seed)),
             ("dev", True, lambda: dev("dev")),
             ("news-dev", SPLITS["news-dev"].questions.exists(), lambda: dev("news-dev"))]
    groups: list[Group] = []
    for name, wanted, make in parts:
        if not wanted:
            continue
        cache = folder / f"{name}.pickle"
        if cache.exists() and not refresh:
            groups += _upgraded(pickle.loads(cache.read_bytes()))
            continue
        made = make()
        folder.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(made))
        groups += made
    return groups


def _upgraded(groups: list[Group]) -> list[Group]:
    """Caches written before chunk metadata was typed hold it as the stored dict (``metadata``)."""
    for g in groups:
        for c in g.candidates:
            r = c.result
            if getattr(r, "meta", None) is None and isinstance(getattr(r, "metadata", None), dict):
                r.meta = ChunkMeta.from_chroma(r.metadata)
    return groups


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
