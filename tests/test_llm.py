"""The LLM backends: the real local model, and the OpenAI-compatible path against a real
llama.cpp server on 127.0.0.1 (both with the small 0.5B model to keep CI time down)."""

import socket
import subprocess
import sys
import time

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from chatbot import Settings
from chatbot.errors import ModelNotFoundError
from chatbot.llm import ChatLlamaCpp, get_chat_model
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
