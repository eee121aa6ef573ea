"""The web app as a user starts it: time to ready, and peak memory with the default model
loaded and a large index, after one answered question."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .stats import peak_rss_mb

ROOT = Path(__file__).resolve().parent.parent
LOADED = re.compile(r"model loaded")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_app(data_dir: Path, corpus_dir: Path, log: Path, question: str | None, timeout: float = 900) -> dict:
    """Start ``python app.py`` on 127.0.0.1, time it to HTTP ready and to model loaded, optionally
    ask one question through the Gradio API, read its peak RSS, stop it."""
    port = _free_port()
    env = {**os.environ, "CHATBOT_DATA_DIR": str(data_dir), "CHATBOT_CORPUS_DIR": str(corpus_dir),
           "CHATBOT_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    url = f"http://127.0.0.1:{port}/"
    out: dict = {}
    with open(log, "w") as f:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], env=env, cwd=ROOT, stdout=f,
                                stderr=subprocess.STDOUT)
    try:
        deadline = t0 + timeout
        while "ready_s" not in out or "model_loaded_s" not in out:
            if time.perf_counter() > deadline or proc.poll() is not None:
                raise RuntimeError("app.py did not become ready:\n" + log.read_text(errors="replace")[-2000:])
            if "ready_s" not in out:
                try:
                    urllib.request.urlopen(url, timeout=2)
                    out["ready_s"] = time.perf_counter() - t0
                except OSError:
                    pass
            if "model_loaded_s" not in out and LOADED.search(log.read_text(errors="replace")):
                out["model_loaded_s"] = time.perf_counter() - t0
            time.sleep(0.1)
        if question:
            from gradio_client import Client

            client = Client(url, verbose=False)
            client.predict(question, [], 5, api_name="/respond")
        out["peak_rss_mb"] = peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return out
