"""Kill the ingest process (SIGKILL) in the middle of a large ingest, once some chunks are written
and before all are; ingest again: the store ends exactly as a clean ingest leaves it (no
duplicated chunks, no orphans, same ids), and the chunks written before the kill are kept, not
embedded again. The keyword index (written after Chroma, so the kill may fall between the two)
then holds exactly the store's chunks and finds the articles written before and after the kill."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from chatbot import Chatbot, Settings

BIN = Path(sys.executable).parent / "chatbot"
ARTICLE = ("# 記事{i}\n\n" + "第{i}社は新しい工場を建設すると発表した。投資額は{i}億円で、{i}年後の稼働を目指す。"
           "担当者は「需要の伸びに応える」と話した。\n\n" * 6)


def stored_rows(sqlite: Path) -> int:
    """Chunks committed to the embedded Chroma store so far (read-only; 0 before it exists)."""
    if not sqlite.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{sqlite}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
    except sqlite3.OperationalError:  # schema not created yet, or a write in progress
        return 0


def test_sigkill_during_ingest_then_reingest_equals_a_clean_ingest(tmp_path, e5):
    corpus = tmp_path / "big"
    corpus.mkdir()
    for i in range(120):
        (corpus / f"a{i:03d}.md").write_text(ARTICLE.format(i=i), encoding="utf-8")
    env = {**os.environ, "CHATBOT_DATA_DIR": str(tmp_path / "killed")}
    proc = subprocess.Popen([str(BIN), "ingest", str(corpus)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sqlite = tmp_path / "killed" / "chroma" / "chroma.sqlite3"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and stored_rows(sqlite) == 0:
        time.sleep(0.05)  # kill as soon as the first batch of chunks is committed
    assert proc.poll() is None, "ingest finished before it could be killed; make the corpus larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    killed = Chatbot(Settings(data_dir=tmp_path / "killed"), embeddings=e5)
    partial = killed.store.count()
    clean = Chatbot(Settings(data_dir=tmp_path / "clean"), embeddings=e5)
    clean.ingest(corpus)
    total = clean.store.count()
    assert 0 < partial < total  # it really was cut short, after some chunks were written

    report = killed.ingest(corpus)
    assert report.files == 120
    # The re-ingest repairs the store: the chunks written before the kill are kept as they are,
    # only the missing ones are embedded, nothing is duplicated or left over.
    assert (report.chunks_unchanged, report.chunks_added, report.chunks_removed) == (partial, total - partial, 0)
    repaired_ids, clean_ids = set(killed.store.all_metadata()), set(clean.store.all_metadata())
    assert repaired_ids == clean_ids and killed.store.count() == total
    assert killed.ingest(corpus).chunks_added == 0  # and nothing is pending

    for i in (0, 119):  # the first article (written before the kill) and the last (after it)
        hits = killed.retriever.bm25_candidates(f"第{i}社は新しい工場を建設", 5)
        assert hits and hits[0].meta.doc_id == f"big/a{i:03d}.md"
    assert killed.store.keyword.engine.ids() == clean_ids
