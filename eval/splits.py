"""The eval's question splits, each with the folder of articles its questions are about.

- ``test`` / ``dev``: the seed splits (``questions.jsonl``, ``dev.jsonl``) about the two articles
  in ``corpus/``, asked over the configured store.
- ``news-test`` / ``news-dev``: ``news/test.jsonl``, ``news/dev.jsonl`` about the fictional
  articles in ``news/articles/`` (written for the eval, kept out of ``corpus/``). They are ingested
  into a store of their own, ``<data_dir>/news-eval`` with the collection ``news-eval``, so they never
  mix with ``corpus/`` or a user's archive. Their doc ids are ``articles/<file>.md``: the ingested
  folder's name plus the path below it.

The test splits are report-only: nothing is tuned on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .corpus_retrieval import EVAL_SET

EVAL_DIR = EVAL_SET.parent
CORPUS = EVAL_DIR.parent / "corpus"
NEWS = EVAL_DIR / "news"


@dataclass(frozen=True)
class Split:
    """A question file and the articles it is asked over."""

    questions: Path
    articles: Path
    store: str | None = None  # name of the split's own data dir and collection; None: the configured store

    def settings(self, base):
        """``base`` (a ``chatbot.Settings``) moved to the split's own store, if it has one."""
        if self.store is None:
            return base
        return base.model_copy(update={"data_dir": Path(base.data_dir) / self.store, "collection": self.store})

    def bot(self, base, **parts):
        """A ``Chatbot`` on the split's store with its articles ingested (unchanged files cost nothing);
        ``parts`` (``embeddings``, ``chat_model``) go to the ``Chatbot``."""
        from chatbot import Chatbot

        bot = Chatbot(self.settings(base), **parts)
        # An own store holds only this folder, so articles deleted from it leave the index too.
        bot.ingest(self.articles, prune=self.store is not None)
        return bot


SPLITS = {
    "test": Split(EVAL_SET, CORPUS),
    "dev": Split(EVAL_DIR / "dev.jsonl", CORPUS),
    "news-test": Split(NEWS / "test.jsonl", NEWS / "articles", store="news-eval"),
    "news-dev": Split(NEWS / "dev.jsonl", NEWS / "articles", store="news-eval"),
}
