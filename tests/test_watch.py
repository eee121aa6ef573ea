"""The watched folder with real file events (inotify) in a temp dir, real e5 embeddings and a real
Chroma store: saved files are ingested once stable, changed ones re-ingested, deleted ones removed,
a file written in pieces is ingested once and whole; ``chatbot watch`` prints each event."""

import os
import queue
import shutil
import subprocess
import sys
import time

import pytest

from chatbot.watch import FolderWatcher
from conftest import ROOT
from helpers import DATED_ARTICLE

CHANGED = DATED_ARTICLE.replace("12億円", "15億円")


class Events:
    """The watcher's events, in a queue the test waits on."""

    def __init__(self) -> None:
        self.queue: queue.Queue = queue.Queue()
        self.seen: list = []

    def __call__(self, event) -> None:
        self.queue.put(event)

    def wait(self, action: str, timeout: float = 60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                event = self.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(event)
            if event.action == action:
                return event
        raise AssertionError(f"no '{action}' event within {timeout} s; saw {[str(e) for e in self.seen]}")


@pytest.fixture
def watched(bot, tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    events = Events()
    bot.store.count()  # open the store now, not while a test is writing
    watcher = FolderWatcher(bot, folder, on_event=events, settle=0.5).start()
    yield bot, folder, events
    watcher.stop()
    assert not watcher._thread.is_alive()  # stopped cleanly


def texts(bot) -> list[str]:
    return bot.store.all_texts()[1]


def test_saved_file_is_ingested_changed_reingested_deleted_removed(watched):
    bot, folder, events = watched
    (folder / "kawasemi.md").write_text(DATED_ARTICLE, encoding="utf-8")
    added = events.wait("added")
    assert (added.doc_id, added.chunks) == ("news/kawasemi.md", 1)
    assert str(added) == "added news/kawasemi.md (1 chunks)"
    assert "12億円" in bot.search("カワセミの調達額", k=1)[0].text

    (folder / "kawasemi.md").write_text(CHANGED, encoding="utf-8")
    assert events.wait("updated").doc_id == "news/kawasemi.md"
    assert "15億円" in bot.search("カワセミの調達額", k=1)[0].text and not any("12億円" in t for t in texts(bot))

    (folder / "kawasemi.md").unlink()
    assert events.wait("removed").doc_id == "news/kawasemi.md"
    assert bot.documents() == []


def test_half_written_file_is_ingested_once_and_whole(watched):
    bot, folder, events = watched
    piece = len(DATED_ARTICLE) // 4 + 1
    with open(folder / "slow.md", "w", encoding="utf-8") as f:  # in pieces, pausing less than the settle time
        for i in range(0, len(DATED_ARTICLE), piece):
            f.write(DATED_ARTICLE[i:i + piece])
            f.flush()
            time.sleep(0.3)
    events.wait("added")
    assert texts(bot) == [DATED_ARTICLE.split("---\n\n", 1)[1].strip()]  # the whole article, front matter read
    time.sleep(1.5)
    assert events.queue.empty()  # and only once


def test_other_files_folders_and_skips(watched):
    bot, folder, events = watched
    (folder / ".draft.md").write_text(DATED_ARTICLE, encoding="utf-8")  # hidden: a temporary name
    (folder / "notes.docx").write_bytes(b"PK\x03\x04")  # not a supported type
    (folder / "empty.md").write_text("", encoding="utf-8")
    skipped = events.wait("skipped")
    assert skipped.path.endswith("empty.md") and skipped.detail
    outside = folder.parent / "seed"
    outside.mkdir()
    (outside / "a.md").write_text(DATED_ARTICLE, encoding="utf-8")
    (outside / "b.md").write_text(CHANGED, encoding="utf-8")
    shutil.move(outside, folder / "seed")  # a folder moved in: one event, for the folder
    assert {events.wait("added").doc_id, events.wait("added").doc_id} == {"news/seed/a.md", "news/seed/b.md"}
    shutil.rmtree(folder / "seed")
    assert {events.wait("removed").doc_id, events.wait("removed").doc_id} == {"news/seed/a.md", "news/seed/b.md"}
    assert bot.documents() == []


def test_sync_catches_up_with_changes_made_while_nobody_watched(bot, tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "gone.md").write_text(CHANGED, encoding="utf-8")
    bot.ingest(folder)
    (folder / "gone.md").unlink()
    (folder / "new.md").write_text(DATED_ARTICLE, encoding="utf-8")
    events = Events()
    FolderWatcher(bot, folder, on_event=events).sync()
    assert sorted(str(e) for e in events.queue.queue) == ["added news/new.md (1 chunks)",
                                                          "removed news/gone.md (1 chunks)"]


@pytest.mark.server
def test_chatbot_watch_prints_each_event(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "first.md").write_text(CHANGED, encoding="utf-8")
    env = {**os.environ, "CHATBOT_DATA_DIR": str(tmp_path / "data"), "CHATBOT_WATCH_SETTLE": "0.5",
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "chatbot", "watch", str(folder)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(2)]
        assert lines[0].split(" ", 1)[1] == "added news/first.md (1 chunks)\n"
        assert lines[1].startswith(f"watching {folder} (1 articles")
        (folder / "second.md").write_text(DATED_ARTICLE, encoding="utf-8")
        assert proc.stdout.readline().split(" ", 1)[1] == "added news/second.md (1 chunks)\n"
        (folder / "first.md").unlink()
        assert proc.stdout.readline().split(" ", 1)[1] == "removed news/first.md (1 chunks)\n"
    finally:
        proc.terminate()
        proc.wait(30)
