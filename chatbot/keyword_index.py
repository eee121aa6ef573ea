"""The keyword side of retrieval: BM25 over Sudachi morphemes, persistent and incremental.

An engine (``CHATBOT_KEYWORD_INDEX``) holds, for each chunk id, the chunk's morphemes
(:func:`chatbot.lexical.tokenize`) and ranks chunk ids by BM25 (k1 = 1.2, b = 0.75):

- ``tantivy`` (default): the tantivy engine (Lucene-like, Rust), a folder of segments;
- ``sqlite``: SQLite FTS5 (Python's own ``sqlite3``), its ``bm25()`` ranking, one file;
- ``memory``: the in-memory inverted index of :class:`chatbot.lexical.BM25Index`, rebuilt from the
  store at every start (what the product did before; kept as the baseline for benchmarks).

Texts and metadata stay in the store; the index holds ids and morphemes only. The store writes
every chunk it adds or deletes here too, after Chroma (:class:`chatbot.store.ChunkStore`), so an
article added, changed or removed updates only its own chunks, and a restart opens the index
instead of rebuilding it.

**Staying in step with the store.** The store is the truth; this index is derived from it. Its
``state.json`` records the store generation (:meth:`ChunkStore.generation`) it matches, or none
while a write is under way. Before its first write a process clears the recorded generation, and
after the store's generation is bumped it records the new one, but only if the index matched the
store when the writes began and no other process bumped the generation in between. So after a
crash mid-ingest, or after another process changed a shared Chroma server (each client keeps its
own keyword index under its data dir), the recorded generation differs from the store's, and the
next search reconciles: it compares the chunk ids of both and tokenizes only the difference.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, Protocol

from .errors import pick
from .lexical import TOKENIZER_VERSION, BM25Index, tokenize

_PAGE = 2000  # ids per store read during reconciliation
# While this process writes, its own writes reach the index as they happen, so a search does not
# reconcile; a write that stopped without finishing (an error mid-ingest) is reconciled this long
# after its last chunk.
WRITE_GRACE_S = 30.0


class KeywordEngine(Protocol):
    """Where the morphemes live; ids are chunk ids, ``tokens`` space-joined morphemes."""

    def search(self, terms: list[str], n: int) -> list[tuple[str, float]]:
        """The ``n`` best ``(chunk id, BM25 score)`` for any of ``terms``, best first."""

    def add(self, ids: list[str], tokens: list[str]) -> None:
        """Insert or replace chunks."""

    def delete(self, ids: list[str]) -> None:
        """Remove chunks (unknown ids are ignored)."""

    def ids(self) -> set[str]:
        """Every chunk id in the index."""

    def clear(self) -> None:
        """Remove everything."""


class SqliteEngine:
    """SQLite FTS5: an ``ids`` table maps chunk ids to FTS rowids; one transaction per call."""

    # Whitespace alone separates tokens (every Unicode category but separators and controls is a
    # token character): the morphemes arrive already cut, and 3.5 or c++ must stay one token.
    TOKENIZE = "unicode61 remove_diacritics 0 categories 'L* M* N* P* S* Co Cn'"

    def __init__(self, folder: Path) -> None:
        self._db = sqlite3.connect(folder / "index.sqlite", timeout=60, check_same_thread=False,
                                   isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, never corrupt
            self._db.execute("CREATE TABLE IF NOT EXISTS ids (rowid INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE)")
            self._db.execute(f'CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(tokens, tokenize="{self.TOKENIZE}")')

    def search(self, terms: list[str], n: int) -> list[tuple[str, float]]:
        if not terms:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        with self._lock:
            rows = self._db.execute(
                "SELECT ids.chunk_id, -bm25(fts) FROM fts JOIN ids ON ids.rowid = fts.rowid "
                "WHERE fts MATCH ? ORDER BY bm25(fts) LIMIT ?", (match, n)).fetchall()
        return [(cid, float(score)) for cid, score in rows]

    def add(self, ids: list[str], tokens: list[str]) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._delete(ids)
            for cid, text in zip(ids, tokens):
                rowid = self._db.execute("INSERT INTO ids (chunk_id) VALUES (?)", (cid,)).lastrowid
                self._db.execute("INSERT INTO fts (rowid, tokens) VALUES (?, ?)", (rowid, text))

    def delete(self, ids: list[str]) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._delete(ids)

    def _delete(self, ids: list[str]) -> None:
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            marks = ",".join("?" * len(part))
            rowids = [r for (r,) in self._db.execute(f"SELECT rowid FROM ids WHERE chunk_id IN ({marks})", part)]
            if rowids:
                rmarks = ",".join("?" * len(rowids))
                self._db.execute(f"DELETE FROM fts WHERE rowid IN ({rmarks})", rowids)
                self._db.execute(f"DELETE FROM ids WHERE rowid IN ({rmarks})", rowids)

    def ids(self) -> set[str]:
        with self._lock:
            return {cid for (cid,) in self._db.execute("SELECT chunk_id FROM ids")}

    def clear(self) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM ids")
            self._db.execute("DELETE FROM fts")


class TantivyEngine:
    """tantivy: ``id`` (raw, stored) and ``tokens`` (whitespace tokenizer, term frequencies).

    A writer is taken per call and released after its commit, so that several processes on one
    data dir take turns (tantivy allows one writer per index at a time)."""

    def __init__(self, folder: Path) -> None:
        import tantivy

        self._tantivy = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
        builder.add_text_field("tokens", tokenizer_name="whitespace", index_option="freq")
        self._schema = builder.build()
        self._index = tantivy.Index(self._schema, path=str(folder), reuse=True)
        self._lock = threading.Lock()

    def search(self, terms: list[str], n: int) -> list[tuple[str, float]]:
        if not terms:
            return []
        t = self._tantivy
        query = t.Query.boolean_query([(t.Occur.Should, t.Query.term_query(self._schema, "tokens", term))
                                       for term in terms])
        self._index.reload()  # cheap when nothing was committed since
        searcher = self._index.searcher()
        return [(searcher.doc(address)["id"][0], float(score))
                for score, address in searcher.search(query, n, count=False).hits]

    def _write(self, fn: Callable) -> None:
        with self._lock:
            writer = self._writer()
            try:
                fn(writer)
                writer.commit()
                writer.wait_merging_threads()
            except BaseException:
                writer.rollback()
                raise
            finally:
                del writer  # releases the index's writer lock

    def _writer(self, wait_s: float = 60.0):
        """The index's writer; another process on this data dir may hold it for a moment."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                return self._index.writer(64_000_000, 1)
            except ValueError:  # "Failed to acquire Lockfile: LockBusy"
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def add(self, ids: list[str], tokens: list[str]) -> None:
        def write(writer):
            for cid, text in zip(ids, tokens):
                writer.delete_documents_by_term("id", cid)
                writer.add_document(self._tantivy.Document(id=cid, tokens=text))
        self._write(write)

    def delete(self, ids: list[str]) -> None:
        self._write(lambda writer: [writer.delete_documents_by_term("id", cid) for cid in ids])

    def ids(self) -> set[str]:
        t = self._tantivy
        self._index.reload()
        searcher = self._index.searcher()
        found = searcher.search(t.Query.all_query(), max(searcher.num_docs, 1), count=False).hits
        return {searcher.doc(address)["id"][0] for _, address in found}

    def clear(self) -> None:
        self._write(lambda writer: writer.delete_all_documents())


class MemoryEngine:
    """Today's in-memory BM25 (:class:`BM25Index`), rebuilt after each change; nothing on disk."""

    def __init__(self, folder: Path | None = None) -> None:
        self._tokens: dict[str, list[str]] = {}
        self._built: tuple[BM25Index, list[str]] | None = None
        self._lock = threading.Lock()

    def search(self, terms: list[str], n: int) -> list[tuple[str, float]]:
        with self._lock:
            if self._built is None:
                ids = list(self._tokens)
                self._built = BM25Index([self._tokens[i] for i in ids]), ids
            index, ids = self._built
        return [(ids[i], score) for i, score in index.top(terms, n)]

    def add(self, ids: list[str], tokens: list[str]) -> None:
        with self._lock:
            self._tokens.update((cid, text.split(" ") if text else []) for cid, text in zip(ids, tokens))
            self._built = None

    def delete(self, ids: list[str]) -> None:
        with self._lock:
            for cid in ids:
                self._tokens.pop(cid, None)
            self._built = None

    def ids(self) -> set[str]:
        with self._lock:
            return set(self._tokens)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()
            self._built = None


ENGINES: dict[str, Callable[[Path], KeywordEngine]] = {
    "tantivy": TantivyEngine,
    "sqlite": SqliteEngine,
    "memory": MemoryEngine,
}


class KeywordIndex:
    """BM25 over the store's chunks, kept in step with it (see the module docstring)."""

    def __init__(self, engine: KeywordEngine, state_path: Path | None, store) -> None:
        self.engine = engine
        self.store = store  # a ChunkStore: generation(), all_ids(), texts(ids)
        self._state_path = state_path
        self._state: dict = {}
        self._state = self._read_state()
        self._lock = threading.RLock()
        self._write_started_at: str | None = None  # the store generation when this process began writing
        self._writing = False
        self._last_write = 0.0
        if self._state.get("tokenizer") != TOKENIZER_VERSION:  # other morphemes: start again
            engine.clear()
            self._save_state(generation=None)

    # -- the store's writes --------------------------------------------------------------------

    def add(self, ids: list[str], texts: list[str]) -> None:
        """Index new or changed chunks (called by the store after it wrote them)."""
        self._begin_write()
        self.engine.add(ids, [" ".join(tokenize(t)) for t in texts])

    def delete(self, ids: list[str]) -> None:
        """Drop chunks (called by the store after it deleted them)."""
        self._begin_write()
        self.engine.delete(ids)

    def _begin_write(self) -> None:
        with self._lock:
            self._last_write = time.monotonic()
            if not self._writing:
                recorded, now = self._state.get("generation"), self.store.generation()
                self._write_started_at = now if recorded == now else None
                self._writing = True
                if recorded is not None:
                    self._save_state(generation=None)

    def bumped(self, previous: int) -> None:
        """The store's generation went from ``previous`` to the next number (end of a write)."""
        with self._lock:
            started, self._writing = self._write_started_at, False
            self._write_started_at = None
            if started is not None and int(started.split(":")[0]) == previous:
                self._save_state(generation=self.store.generation())

    def cleared(self) -> None:
        """The store's collection was deleted."""
        with self._lock:
            self.engine.clear()
            self._writing, self._write_started_at = False, None
            self._save_state(generation=None)

    # -- searching ---------------------------------------------------------------------------

    def search(self, query: str, n: int) -> list[tuple[str, float]]:
        """The ``n`` best ``(chunk id, BM25 score)`` for ``query``, after catching up with the store."""
        self.catch_up()
        return self.engine.search(list(dict.fromkeys(tokenize(query))), n)

    def catch_up(self) -> bool:
        """Reconcile with the store if its generation is not the one recorded; True if it did.
        Skipped while this process is writing (see :data:`WRITE_GRACE_S`)."""
        with self._lock:
            if self._writing and time.monotonic() - self._last_write < WRITE_GRACE_S:
                return False
            self._writing = False
            self._state = self._read_state()  # another process on this data dir may have recorded it
            generation = self.store.generation()
            if self._state.get("generation") == generation:
                return False
            self._reconcile()
            self._save_state(generation=generation)
            return True

    def _reconcile(self) -> None:
        """Add what the store has and the index lacks, drop what the store no longer has."""
        in_store, in_index = set(self.store.all_ids()), self.engine.ids()
        self.engine.delete(sorted(in_index - in_store))
        missing = sorted(in_store - in_index)
        for i in range(0, len(missing), _PAGE):
            ids = missing[i:i + _PAGE]
            texts = self.store.texts(ids)
            self.engine.add(ids, [" ".join(tokenize(texts[cid])) for cid in ids if cid in texts])

    # -- state -------------------------------------------------------------------------------

    def _read_state(self) -> dict:
        if self._state_path is None:
            return dict(self._state)
        try:
            return json.loads(self._state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _save_state(self, generation: str | None) -> None:
        self._state = {"tokenizer": TOKENIZER_VERSION, "generation": generation}
        if self._state_path is None:
            return
        tmp = self._state_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self._state), encoding="utf-8")
        os.replace(tmp, self._state_path)  # atomic: a reader sees the old state or the new one


def open_keyword_index(name: str, folder: Path, store) -> KeywordIndex:
    """The keyword index of engine ``name`` in ``folder`` for ``store`` (created if new;
    ``memory``: nothing on disk)."""
    make = pick(ENGINES, name, "keyword index")
    if name == "memory":
        return KeywordIndex(make(None), None, store)
    folder.mkdir(parents=True, exist_ok=True)
    return KeywordIndex(make(folder), folder / "state.json", store)
