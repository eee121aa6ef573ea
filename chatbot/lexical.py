"""Keyword search for Japanese: morphemes from SudachiPy scored with BM25.

The index is an inverted index over numpy arrays, so a query touches only the postings of
its own terms (``rank_bm25`` scans every document for every query term).
"""

from __future__ import annotations

import math
import re
import threading
from functools import lru_cache

import numpy as np

from .text import nfkc

# Recorded by the persistent keyword index (chatbot.keyword_index): bump it when tokenize() changes,
# so that every index built with the old tokens is rebuilt.
TOKENIZER_VERSION = "sudachi-core-A-normalized-content-v1"
_KATAKANA = re.compile(r"[\u30a0-\u30ff]+")  # katakana, ・ and ー
# Parts of speech that carry no topic: particles, auxiliaries, punctuation, blanks.
_STOP_POS = {"助詞", "助動詞", "補助記号", "記号", "空白"}


@lru_cache(maxsize=1)
def _dictionary():
    from sudachipy import Dictionary  # imported lazily: the dictionary takes ~0.2 s to load

    return Dictionary(dict="core")


@lru_cache(maxsize=1)
def _tokenizer():
    from sudachipy import SplitMode

    return _dictionary().tokenizer(mode=SplitMode.A)


_tokenizer_lock = threading.Lock()


def tokenize(text: str) -> list[str]:
    """Content morphemes of ``text`` for BM25: Sudachi short units (mode A) in normalized
    form (選んだ -> 選ぶ, spelling variants unified), NFKC, lower-cased, without particles,
    auxiliaries or punctuation."""
    text = nfkc(text).lower()
    with _tokenizer_lock:  # a Sudachi tokenizer is not safe to share between threads
        morphemes = _tokenizer().tokenize(text)
        return [m.normalized_form().lower() for m in morphemes
                if m.part_of_speech()[0] not in _STOP_POS and m.surface().strip()]


def proper_nouns(text: str) -> list[str]:
    """Japanese proper nouns in ``text`` (Sudachi's 固有名詞: people, places, organisations),
    as written, NFKC-normalized. Left out: katakana-only names (マイクロソフト is often written
    Microsoft, アルトマン Altman), country names (アメリカ is also 米国, and 日本語 is a language),
    words that are also common nouns (見方 is a surname too), words with 何 (何川 is a
    question), and Latin-script words, which :func:`chatbot.facts.names` handles."""
    text = nfkc(text)
    with _tokenizer_lock:
        candidates = [m.surface() for m in _tokenizer().tokenize(text)
                      if m.part_of_speech()[1] == "固有名詞" and m.part_of_speech()[3] != "国"]
    return [w for w in candidates
            if "何" not in w and not _KATAKANA.fullmatch(w) and not w.isascii() and not is_common_noun(w)]


def names_someone(text: str) -> bool:
    """Whether ``text`` holds a proper noun that is not a place (Sudachi: 宮本顕治, 国連): a name
    that can answer 誰 even with no title after it."""
    with _tokenizer_lock:
        return any(m.part_of_speech()[1] == "固有名詞" and m.part_of_speech()[2] != "地名"
                   for m in _tokenizer().tokenize(nfkc(text)))


def is_common_noun(word: str) -> bool:
    """Whether Sudachi's dictionary lists ``word`` (as a whole) as a common noun: シリーズ, メディア,
    GPU name kinds of things; キャピタル is also a surname, and still a common noun."""
    with _tokenizer_lock:
        return any(m.part_of_speech()[1] == "普通名詞" for m in _dictionary().lookup(nfkc(word)))


def name_readings(text: str, parts: bool = False) -> list[str]:
    """Katakana readings of the runs of proper nouns and katakana words in ``text``
    (大森健吾社長 -> オオモリケンゴ; ローズタウン工場 -> ローズタウン): what a name in an
    English translation of ``text`` can be spelled from; with ``parts``, each word's reading
    of a run of several too (オオモリ, ケンゴ)."""
    runs: list[list[str]] = [[]]
    with _tokenizer_lock:
        for m in _tokenizer().tokenize(nfkc(text)):
            if m.part_of_speech()[1] == "固有名詞" or _KATAKANA.fullmatch(m.surface()):
                runs[-1].append(m.reading_form())
            elif runs[-1]:
                runs.append([])
    whole = ["".join(r) for r in runs if r]
    return whole + [w for r in runs if len(r) > 1 for w in r] if parts else whole


class BM25Index:
    """Okapi BM25 over pre-tokenized documents (Lucene's non-negative idf)."""

    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.n = len(docs)
        self.k1, self.b = k1, b
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        avg = float(lengths.mean()) if self.n else 1.0  # an empty index returns no hits
        self._norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
        postings: dict[str, dict[int, int]] = {}
        for i, doc in enumerate(docs):
            for term in doc:
                row = postings.setdefault(term, {})
                row[i] = row.get(i, 0) + 1
        self._postings = {
            term: (np.fromiter(row.keys(), np.int32, len(row)),
                   np.fromiter(row.values(), np.float32, len(row)),
                   math.log(1 + (self.n - len(row) + 0.5) / (len(row) + 0.5)))
            for term, row in postings.items()
        }

    def scores(self, query: list[str]) -> np.ndarray:
        """BM25 score of every document for the query terms."""
        out = np.zeros(self.n, dtype=np.float32)
        for term in set(query):
            hit = self._postings.get(term)
            if hit is None:
                continue
            idx, tf, idf = hit
            out[idx] += idf * tf * (self.k1 + 1) / (tf + self._norm[idx])
        return out

    def top(self, query: list[str], n: int) -> list[tuple[int, float]]:
        """The ``n`` best ``(document index, score)`` pairs with a score above zero."""
        s = self.scores(query)
        n = min(n, int(np.count_nonzero(s)))
        if n <= 0:
            return []
        best = np.argpartition(-s, n - 1)[:n]
        best = best[np.argsort(-s[best], kind="stable")]
        return [(int(i), float(s[i])) for i in best]
