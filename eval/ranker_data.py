"""The ranker's training and report data: each question's candidate sentences as the chain finds
them, with their labels (:class:`Group`), for JSQuAD (in Japanese and in English), dev and
news-dev, cached under ``<data_dir>/ranker-cache``. What each source is and how it is labelled:
:mod:`eval.train_ranker`."""

from __future__ import annotations

import pickle
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chatbot import Chatbot, Settings
from chatbot.prompts import prompts_for
from chatbot.ranker import Candidate, featurize
from chatbot.store import ChunkMeta
from chatbot.text import is_full_sentence, is_question, language_of

from .corpus_retrieval import load_questions
from .jsquad import load_jsquad, norm, split_paragraphs
from .scoring import citation_correct
from .splits import SPLITS


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
    translated: int = 0  # the last forms that are translations (featurize)
    _features: np.ndarray | None = field(default=None, repr=False)

    @property
    def features(self) -> np.ndarray:
        if self._features is None:
            self._features = featurize(self.forms, self.candidates, self.query_vectors,
                                       lambda texts: self.vectors, self.translated).astype(np.float64)
        return self._features

    @property
    def quotable(self) -> np.ndarray:
        """Which candidates the answer may quote (a full sentence, not a question: chain.lead)."""
        return np.array([is_full_sentence(c.text) and not is_question(c.text) for c in self.candidates])


def group_of(bot: Chatbot, source: str, qid: str, language: str, query, found, positive) -> Group | None:
    if not found.ranked:
        return None
    # Candidates in retrieval order, so that nothing of today's ranking leaks into the labels' order.
    cands = sorted(found.ranked, key=lambda c: (c.rank, c.doc_pos))
    forms = list(query.forms) + ([found.translation] if found.translation else [])
    qv = np.stack([bot.chain.query_vector(t) for t in forms])
    return Group(source, qid, language, forms, qv, cands, bot.sentence_vectors([c.text for c in cands]),
                 np.array([positive(c) for c in cands], dtype=np.float64), int(bool(found.translation)))


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
            en = bot.chain.one_line(request.translate_messages(q["question"])) or ""
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
