"""Kill the ingest process (SIGKILL) in the middle of a large ingest, ingest again: the store ends
exactly as a clean ingest leaves it (no duplicated chunks, no orphans, same ids)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from chatbot import Chatbot, Settings

BIN = Path(sys.executable).parent / "chatbot"
ARTICLE = ("# 記事{i}\n\n" + "第{i}社は新しい工場を建設すると発表した。投資額は{i}億円で、{i}年後の稼働を目指す。"
           "担当者は「需要の伸びに応える」と話した。\n\n" * 6)


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
    while time.time() < deadline and proc.poll() is None:  # wait until writes have begun
        if sqlite.exists() and sqlite.stat().st_size > 300_000:
            break
        time.sleep(0.2)
    time.sleep(2)
    assert proc.poll() is None, "ingest finished before it could be killed; make the corpus larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    killed = Chatbot(Settings(data_dir=tmp_path / "killed"), embeddings=e5)
    partial = killed.store.count()
    report = killed.ingest(corpus)
    assert report.files == 120

    clean = Chatbot(Settings(data_dir=tmp_path / "clean"), embeddings=e5)
    clean.ingest(corpus)
    repaired_ids, clean_ids = set(killed.store.all_metadata()), set(clean.store.all_metadata())
    assert repaired_ids == clean_ids and killed.store.count() == clean.store.count()
    assert partial < clean.store.count()  # it really was cut short
    assert killed.ingest(corpus).chunks_added == 0  # and nothing is pending
