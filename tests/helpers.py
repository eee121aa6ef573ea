"""Helpers for tests that start real processes on 127.0.0.1 (Chroma server, the web app)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# A small article with a full byline, not in the project's corpus (one chunk).
DATED_ARTICLE = ("---\ntitle: カワセミ・ロボティクスの資金調達\npublisher: テスト通信\npublished: 2026-11-20\n---\n\n"
                 "物流ロボットを開発するカワセミ・ロボティクスは、シリーズBで12億円を調達したと発表した。\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    """``chroma run`` on 127.0.0.1:port, returned once it accepts connections."""
    proc = subprocess.Popen([str(BIN / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("chroma server did not start")


class App:
    """``python app.py`` as a subprocess with its own data dir, port and log."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = workdir / f"app-{self.port}.log"
        self.env = {**os.environ, "CHATBOT_PORT": str(self.port), "GRADIO_ANALYTICS_ENABLED": "False", **env}
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 600) -> "App":
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], env=self.env, cwd=self.workdir,
                                     stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout  # the first start embeds the corpus
        while time.time() < deadline and self.proc.poll() is None:
            try:
                urllib.request.urlopen(self.url, timeout=2)
                return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError("app.py did not start:\n" + self.log())

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class ThreadedServer:
    """An ASGI app served by uvicorn on 127.0.0.1 in a background thread (``with`` starts and stops it)."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "ThreadedServer":
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)
