"""The LLM backends: the real local model, and the OpenAI-compatible path against a real
llama.cpp server on 127.0.0.1 (both with the small 0.5B model to keep CI time down); the local
model's stream handling with a stand-in for llama.cpp; the Ollama backend's timeout against a
server on 127.0.0.1 that never answers."""

import http.server
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from chatbot import Settings
from chatbot.errors import ModelNotFoundError
from chatbot.llm import ChatLlamaCpp, LlamaContext, StreamAbandonedError, chat_tokens, get_chat_model
from chatbot.model_files import resolve_model

SMALL = "qwen2.5-coder-0.5b-instruct-q4"
PROMPT = [SystemMessage("You answer in one short sentence."),
          HumanMessage("What is the capital of Japan? Answer with the city name.")]


@pytest.fixture(scope="module")
def small_model_path():
    return str(resolve_model(SMALL, Settings().model_dir))


@pytest.mark.llm
def test_local_model_answers_streams_and_loads_once(small_model_path):
    settings = Settings(llm_model=SMALL, llm_max_tokens=24)
    model = get_chat_model(settings)
    assert isinstance(model, ChatLlamaCpp)
    answer = model.invoke(PROMPT).content
    assert "Tokyo" in answer
    pieces = [c.content for c in model.stream(PROMPT)]
    assert len(pieces) > 1 and "".join(pieces) == answer  # greedy: the same text, token by token
    again = get_chat_model(settings)
    again.invoke([HumanMessage("Say OK.")])
    assert again.llama is model.llama  # one model per process


def answered_in_thread(ask, timeout: float):
    """``ask()`` run in another thread (as another user's request is), or a failure after ``timeout``
    seconds: a model lock still held by an abandoned stream would block it for good."""
    box: dict = {}

    def run():
        try:
            box["answer"] = ask()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), f"the next question got no answer in {timeout} s: the model is still locked"
    if "error" in box:
        raise box["error"]
    return box["answer"]


@pytest.mark.llm
def test_an_abandoned_stream_does_not_block_the_next_question(small_model_path):
    model = get_chat_model(Settings(llm_model=SMALL, llm_max_tokens=32, llm_idle_timeout=2))
    abandoned = model.stream([HumanMessage("Count from 1 to 100, separated by spaces.")])
    assert next(abandoned).content  # the first token, then this reader goes away without closing
    assert "Tokyo" in answered_in_thread(lambda: model.invoke(PROMPT).content, timeout=120)
    closed = model.stream([HumanMessage("Count from 1 to 100, separated by spaces.")])
    next(closed)
    closed.close()  # a reader that breaks out of its loop
    assert "Tokyo" in answered_in_thread(lambda: model.invoke(PROMPT).content, timeout=120)


@pytest.mark.llm
def test_a_prompt_reads_the_same_whatever_was_asked_before(small_model_path):
    """llama.cpp's values for a token shift with the batch it was read in; the cache is reused so
    that a prompt's logits and greedy reply do not depend on the prompts before it."""
    model = get_chat_model(Settings(llm_model=SMALL, llm_max_tokens=24))
    shared = SystemMessage("You answer questions about this text in one short sentence. " * 6)
    asked = [shared, HumanMessage("Which city is the capital of Japan? Answer yes or no: is it Tokyo?")]
    other = [shared, HumanMessage("Is Osaka the capital of Japan? Answer yes or no.")]
    unrelated = [HumanMessage("Count from 1 to 20, separated by spaces.")]

    def probabilities():
        return model.choice_probabilities(asked, ["yes", "no"])

    with model.context.lock:
        model.context.reset()
    first = probabilities()
    reply = model.invoke(asked).content
    for before in (other, unrelated, asked[:1] + [HumanMessage("Hello")]):
        model.invoke(before)  # leaves its own tokens (and a shared prefix, for two of them) in the cache
        assert probabilities() == first  # bit-identical, not only close
        model.invoke(before)
        assert model.invoke(asked).content == reply
    # llama.cpp's own formatting of the prompt is the one the cache was brought up to
    tokens = chat_tokens(model.llama, model._messages(asked))
    assert model.llama.input_ids[:len(tokens)].tolist() == tokens


class FakeLlama:
    """Stands in for ``llama_cpp.Llama``: streams ``t0 t1 ...``, one token per ``delay`` seconds,
    and counts the tokens it generated."""

    def __init__(self, delay: float = 0.005) -> None:
        self.delay = delay
        self.generated = 0

    def create_chat_completion(self, messages, stream, stop, max_tokens, temperature, seed):
        assert stream
        yield {"choices": [{"delta": {"role": "assistant"}}]}
        for i in range(max_tokens):
            time.sleep(self.delay)
            self.generated += 1
            yield {"choices": [{"delta": {"content": f"t{i} "}}]}


class FakeChat(ChatLlamaCpp):
    """The local chat model over :class:`FakeLlama`, which has no KV cache to bring up to date."""

    def _read(self, messages):
        return []


def fake_model(max_tokens: int, idle_timeout: float = 60.0) -> tuple[ChatLlamaCpp, FakeLlama]:
    model = FakeChat(model_path="fake.gguf", max_tokens=max_tokens, idle_timeout=idle_timeout)
    llama = FakeLlama()
    model._context = LlamaContext(llama, threading.Lock())
    return model, llama


def test_a_closed_stream_stops_generating_and_frees_the_model():
    model, llama = fake_model(max_tokens=2000)  # 10 s of tokens
    stream = model.stream("question")
    assert next(stream).content == "t0 "
    stream.close()
    assert model.context.lock.acquire(timeout=2), "closing the stream did not free the model"
    model.context.lock.release()
    stopped_at = llama.generated
    time.sleep(0.1)
    assert llama.generated == stopped_at < 100  # generation stopped at the next token
    short = model.model_copy(update={"max_tokens": 3})  # same llama, same lock
    assert short.invoke("again").content == "t0 t1 t2 "


def test_an_unread_stream_is_given_up_and_the_next_question_answered():
    model, llama = fake_model(max_tokens=10_000, idle_timeout=0.3)  # 50 s of tokens
    stream = model.stream("question")
    assert next(stream).content == "t0 "  # then no more reading, and no close (a closed browser tab)
    short = model.model_copy(update={"max_tokens": 3})
    assert answered_in_thread(lambda: short.invoke("next").content, timeout=10) == "t0 t1 t2 "
    assert llama.generated < 1000 + 3  # the abandoned one was stopped, not run to its end
    # A reader that comes back gets the tokens made before the stop, then a clear error.
    with pytest.raises(StreamAbandonedError, match="not read for 0.3 s"):
        for _ in stream:
            pass


def test_a_generation_error_reaches_the_reader_and_frees_the_model():
    model, llama = fake_model(max_tokens=5)

    def broken(*args, **kwargs):
        yield {"choices": [{"delta": {"content": "t0 "}}]}
        raise RuntimeError("llama_decode returned -1")

    llama.create_chat_completion = broken
    with pytest.raises(RuntimeError, match="llama_decode"):
        model.invoke("question")
    assert model.context.lock.acquire(timeout=2)
    model.context.lock.release()


class _SilentOllama(http.server.BaseHTTPRequestHandler):
    """An Ollama server that accepts a request and never answers (until the test ends)."""

    release = threading.Event()

    def do_POST(self):
        self.release.wait(8)

    def log_message(self, *args):
        pass


def test_ollama_backend_gives_up_after_llm_timeout():
    pytest.importorskip("langchain_ollama")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SilentOllama)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        model = get_chat_model(Settings(llm_backend="ollama", llm_model="qwen", llm_timeout=0.5,
                                        ollama_url=f"http://127.0.0.1:{server.server_address[1]}"))
        t0 = time.monotonic()
        with pytest.raises(httpx.TimeoutException):
            model.invoke("hello")
        assert time.monotonic() - t0 < 4
    finally:
        _SilentOllama.release.set()
        server.shutdown()
        server.server_close()


def test_missing_model_and_unknown_backend_are_clear_errors(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        get_chat_model(Settings(llm_model=str(tmp_path / "missing.gguf")))
    with pytest.raises(ModelNotFoundError, match="chatbot models"):
        get_chat_model(Settings(model_dir=tmp_path))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.llm
@pytest.mark.server
def test_openai_compatible_backend_against_local_llama_server(small_model_path):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", small_model_path, "--model_alias", "small",
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        model = get_chat_model(Settings(llm_backend="openai", llm_model="small", llm_max_tokens=24,
                                        openai_base_url=f"http://127.0.0.1:{port}/v1"))
        assert "Tokyo" in model.invoke(PROMPT).content
        assert "".join(c.content for c in model.stream(PROMPT)).strip()
    finally:
        server.terminate()
        server.wait(timeout=30)
