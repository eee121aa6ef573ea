"""A watched folder (``chatbot watch DIR``, and the web chat's corpus folder): the index follows
the folder while the watcher runs.

File events come from ``watchfiles`` (inotify on Linux, FSEvents on macOS, polling elsewhere).
A new or changed file is ingested once it is *stable*: its size and modification time have not
changed for ``CHATBOT_WATCH_SETTLE`` seconds and no event came for it meanwhile, so a file
still being written is not read half; one that changes while it is being read is read again
once it is stable. A deleted file (or folder) has its articles' chunks removed. Hidden files
(``.name``, e.g. a browser's or the web chat's temporary upload) and editor swap files are
ignored; a writer that pauses longer than the settle time in the middle of a file should write
it under a hidden name and rename it when done, as browsers and editors do.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import watchfiles

from .bot import Chatbot
from .loaders import SUPPORTED_SUFFIXES
from .errors import ChatbotError, DocumentNotFoundError


@dataclass
class WatchEvent:
    """What the watcher did about one file: ``action`` is ``added``, ``updated``, ``unchanged``,
    ``removed``, ``skipped`` (not an article; ``detail`` says why) or ``error``."""

    action: str
    path: str
    doc_id: str | None = None
    chunks: int = 0
    detail: str = ""

    def __str__(self) -> str:
        what = self.doc_id or self.path
        if self.action in ("added", "updated", "removed"):
            return f"{self.action} {what} ({self.chunks} chunks)"
        return f"{self.action} {what}" + (f": {self.detail}" if self.detail else "")


Signature = tuple[int, int, bool] | None  # (size, mtime in ns, is a folder), or None when gone


def signature(path: str) -> Signature:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, os.path.isdir(path)


class FolderWatcher:
    """Keeps the index in line with ``folder``: :meth:`start` watches in a thread (returning once
    the watch is set up), :meth:`wait` blocks until it ends and :meth:`stop` ends it (after the
    ingest under way, if any)."""

    def __init__(self, bot: Chatbot, folder: str | Path, on_event: Callable[[WatchEvent], None] = print,
                 settle: float | None = None) -> None:
        self.bot = bot
        self.folder = Path(folder).resolve()
        self.on_event = on_event
        self.settle = settle if settle is not None else bot.settings.watch_settle
        self._stop = threading.Event()
        self._watching = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: dict[str, tuple[Signature, float]] = {}  # path -> (last signature, when it last changed)
        self._default_filter = watchfiles.DefaultFilter()  # VCS folders, editor swap and backup files

    def sync(self) -> None:
        """Catch up with what changed while nobody watched: ingest the folder (unchanged files
        cost nothing) and remove the articles whose file below it is gone."""
        self._ingest([str(self.folder)], report_unchanged=False)
        self._remove([str(self.folder)], only_missing=True)

    def start(self, sync: bool = False) -> FolderWatcher:
        """Start watching; with ``sync``, then catch up (:meth:`sync`): a file saved meanwhile is
        not missed, since the watch is already set up."""
        self._thread = threading.Thread(target=self._run, name=f"watch {self.folder}", daemon=True)
        self._thread.start()
        while not self._watching.wait(0.1):
            if not self._thread.is_alive():
                raise ChatbotError(f"Cannot watch {self.folder}.")
        if sync:
            self.sync()
        return self

    def wait(self) -> None:
        """Block until the watcher stops; Ctrl-C stops it."""
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            self.stop()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        tick = max(50, min(500, int(self.settle * 250)))  # ms between checks of the files waiting to settle
        for changes in watchfiles.watch(self.folder, watch_filter=self._wanted, stop_event=self._stop,
                                        rust_timeout=tick, yield_on_timeout=True, debounce=tick,
                                        raise_interrupt=False):
            self._watching.set()  # the first yield: the watch is registered
            now = time.monotonic()
            for change, path in changes:
                if change == watchfiles.Change.modified and os.path.isdir(path):
                    continue  # a file inside changed: that file has its own event
                self._pending[path] = (signature(path), now)
            self._process(now)

    def _wanted(self, change: watchfiles.Change, path: str) -> bool:
        rel = Path(os.path.relpath(path, self.folder))
        return self._default_filter(change, path) and not any(part.startswith(".") for part in rel.parts)

    def _process(self, now: float) -> None:
        """Act on the paths whose signature has not changed for the settle time."""
        ready: dict[str, Signature] = {}
        for path, (before, since) in list(self._pending.items()):
            current = signature(path)
            if current != before:
                self._pending[path] = (current, now)
            elif now - since >= self.settle:
                ready[path] = current
                del self._pending[path]
        present = [p for p, sig in ready.items()
                   if sig is not None and (sig[2] or Path(p).suffix.lower() in SUPPORTED_SUFFIXES)]
        if present:
            self._ingest(present)
            for path in present:  # changed while it was read: read it again once stable
                if signature(path) != ready[path]:
                    self._pending[path] = (signature(path), time.monotonic())
        gone = [p for p, sig in ready.items() if sig is None]
        if gone:
            self._remove(gone)

    def _ingest(self, paths: list[str], report_unchanged: bool = True) -> None:
        try:
            report = self.bot.ingest(*paths, root=self.folder)
        except ChatbotError as exc:
            self.on_event(WatchEvent("error", ", ".join(paths), detail=str(exc)))
            return
        for doc in report.documents:
            status = doc["status"]
            if status != "unchanged" or report_unchanged:
                self.on_event(WatchEvent(status, doc["path"], doc["doc_id"], doc["chunks"]))
        for s in report.skipped:
            self.on_event(WatchEvent("skipped", s.path, detail=s.reason))

    def _remove(self, paths: list[str], only_missing: bool = False) -> None:
        """Remove the articles whose file is one of ``paths`` or below one of them."""
        try:
            rows = self.bot.documents()
        except ChatbotError as exc:
            self.on_event(WatchEvent("error", ", ".join(paths), detail=str(exc)))
            return
        for row in rows:
            file = row.path or ""
            if not any(file == p or file.startswith(p.rstrip(os.sep) + os.sep) for p in paths):
                continue
            if only_missing and os.path.exists(file):
                continue
            try:
                result = self.bot.remove(row.doc_id)
            except DocumentNotFoundError:
                continue  # removed meanwhile (the web chat's remove button)
            except ChatbotError as exc:
                self.on_event(WatchEvent("error", file, row.doc_id, detail=str(exc)))
                continue
            self.on_event(WatchEvent("removed", file, result.doc_id, result.chunks_removed))
