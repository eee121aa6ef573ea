"""The chat model in llama.cpp's own server with parallel slots (``CHATBOT_LLM_BACKEND=llama-server``).

The in-process model (``llamacpp``) answers one question at a time behind a lock. llama.cpp's
``llama-server`` (built from the llama.cpp sources vendored in the llama-cpp-python sdist, see
the Makefile's ``llama-server`` target) decodes ``CHATBOT_LLM_PARALLEL`` conversations at once in
one batch (continuous batching), so several chats share the cores instead of queueing. (The
server that ships with llama-cpp-python serializes requests behind one lock and interrupts a
streaming answer when the next request arrives, so it does not serve several users.)

Unless ``CHATBOT_LLM_SERVER_URL`` names a running server, the first use starts one on a free
127.0.0.1 port with the packaged model, ``--parallel N`` slots of ``CHATBOT_LLM_CONTEXT`` tokens
each, and stops it when the process exits. The answerability decision reads the server's
next-token probabilities (``logprobs``/``top_logprobs`` of one generated token), normalized over
the two choices as the in-process model normalizes its logits: the same decision.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from .config import Settings
from .errors import ChatbotError, ModelNotFoundError
from .model_files import resolve_model

TOP_LOGPROBS = 20  # next-token candidates the decision reads; a choice outside them gets the smallest
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}
_started: dict[tuple, tuple[str, subprocess.Popen]] = {}
_start_lock = threading.Lock()


class LlamaServerError(ChatbotError):
    """The llama.cpp server is missing, did not start, or failed a request."""


def server_binary(name: str) -> str:
    """``llama-server`` next to this Python (``make llama-server`` puts it in .venv/bin), a path, or on PATH."""
    for candidate in (Path(sys.executable).parent / name, Path(name)):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise ModelNotFoundError(
            f"llama.cpp's server '{name}' was not found. Build it with `make llama-server` (from the llama.cpp "
            "sources in the llama-cpp-python sdist), or set CHATBOT_LLM_SERVER_URL to a running server.")
    return found


def _key(settings: Settings) -> tuple:
    return (str(resolve_model(settings.llm_model, settings.model_dir)), settings.llm_parallel, settings.llm_context,
            settings.llm_threads)


def start_server(settings: Settings) -> str:
    """The base URL of a ``llama-server`` for these settings, started once per process."""
    key = _key(settings)
    model = key[0]
    with _start_lock:
        if key in _started:
            return _started[key][0]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        threads = str(settings.llm_threads or os.cpu_count() or 1)
        cmd = [server_binary(settings.llm_server_bin), "--model", model, "--host", "127.0.0.1", "--port", str(port),
               "--parallel", str(settings.llm_parallel), "--ctx-size", str(settings.llm_context * settings.llm_parallel),
               "--threads", threads, "--threads-batch", threads, "--no-webui"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        atexit.register(_stop, proc)
        url = f"http://127.0.0.1:{port}"
        _wait_ready(proc, url, settings.llm_timeout)
        _started[key] = (url, proc)
        return url


def stop_server(settings: Settings) -> None:
    """Stop the server :func:`start_server` started for these settings, if any (the next
    ``start_server`` starts a new one, with empty caches)."""
    with _start_lock:
        entry = _started.pop(_key(settings), None)
    if entry is not None:
        _stop(entry[1])


def _wait_ready(proc: subprocess.Popen, url: str, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LlamaServerError(f"llama-server exited at start ({proc.returncode}): "
                                   f"{(proc.stderr.read() or '')[-800:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    _stop(proc)
    raise LlamaServerError(f"llama-server did not become ready within {timeout:g} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


class ChatLlamaServer(BaseChatModel):
    """A chat model served by llama.cpp's ``llama-server`` (OpenAI-style chat completions)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    base_url: str
    max_tokens: int = 512
    temperature: float = 0.0
    timeout: float = 120.0
    _http: Any = PrivateAttr(default=None)
    _first_pieces: dict = PrivateAttr(default_factory=dict)

    @property
    def _llm_type(self) -> str:
        return "llama-server"

    @property
    def http(self):
        if self._http is None:
            import httpx

            self._http = httpx.Client(base_url=self.base_url, timeout=self.timeout,
                                      limits=httpx.Limits(max_connections=64))
        return self._http

    def _body(self, messages: list[BaseMessage], **extra) -> dict:
        return {"messages": [{"role": _ROLES.get(m.type, "user"), "content": m.content} for m in messages],
                "temperature": self.temperature, "max_tokens": self.max_tokens, "seed": 0, "cache_prompt": True,
                **extra}

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        import httpx

        body = self._body(messages, stream=True, **({"stop": stop} if stop else {}))
        try:  # leaving the loop closes the connection, and the server stops generating for it
            with self.http.stream("POST", "/v1/chat/completions", json=body) as r:
                if r.status_code != 200:
                    raise LlamaServerError(f"llama-server answered {r.status_code}: {r.read().decode()[:300]}")
                for line in r.iter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    choices = json.loads(line[6:]).get("choices") or [{}]
                    delta = (choices[0].get("delta") or {}).get("content")
                    if delta:
                        chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                        if run_manager:
                            run_manager.on_llm_new_token(delta, chunk=chunk)
                        yield chunk
        except httpx.TransportError as exc:
            raise LlamaServerError(f"Cannot reach llama-server at {self.base_url}: {exc}") from exc

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        text = "".join(c.message.content for c in self._stream(messages, stop, run_manager))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def choice_probabilities(self, messages: list[BaseMessage], choices: list[str]) -> dict[str, float]:
        """Probability of each of ``choices`` as the reply, from the server's next-token
        probabilities (the first token of each choice), normalized over ``choices``."""
        body = self._body(messages, max_tokens=1, logprobs=True, top_logprobs=TOP_LOGPROBS)
        r = self.http.post("/v1/chat/completions", json=body)
        if r.status_code != 200:
            raise LlamaServerError(f"llama-server answered {r.status_code}: {r.text[:300]}")
        top = r.json()["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
        by_piece = {t["token"]: t["logprob"] for t in top}
        floor = min(by_piece.values())
        logprobs = [by_piece.get(self._first_piece(c), floor) for c in choices]
        weights = [math.exp(lp - max(logprobs)) for lp in logprobs]
        return {c: w / sum(weights) for c, w in zip(choices, weights)}

    def _first_piece(self, text: str) -> str:
        """The text of ``text``'s first token in the served model's vocabulary."""
        if text not in self._first_pieces:
            r = self.http.post("/tokenize", json={"content": text, "with_pieces": True})
            self._first_pieces[text] = r.json()["tokens"][0]["piece"]
        return self._first_pieces[text]


def chat_model(settings: Settings) -> ChatLlamaServer:
    """The ``llama-server`` backend: a running server (``CHATBOT_LLM_SERVER_URL``) or one started here."""
    url = settings.llm_server_url or start_server(settings)
    return ChatLlamaServer(base_url=url.rstrip("/").removesuffix("/v1"), max_tokens=settings.llm_max_tokens,
                           temperature=settings.llm_temperature, timeout=settings.llm_timeout)
