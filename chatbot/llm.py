"""Chat models behind LangChain's ``BaseChatModel``, chosen by ``CHATBOT_LLM_BACKEND``.

- ``llamacpp`` (default): a local GGUF through llama-cpp-python, offline. The model is loaded
  once per process and shared; a lock serializes generation (one llama context is not
  thread-safe).
- ``openai``: any OpenAI-compatible server (OpenAI, vLLM, llama.cpp server, LM Studio).
- ``ollama``: a local Ollama server.

Optional SDKs are imported lazily; a missing one names the extra to install.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from .config import Settings
from .errors import ModelNotFoundError, pick
from .model_files import resolve_model

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}

_loaded: dict[tuple, tuple[Any, threading.Lock]] = {}
_load_lock = threading.Lock()


def load_llama(path: str, n_ctx: int, n_threads: int) -> tuple[Any, threading.Lock]:
    """The process-wide ``llama_cpp.Llama`` for these parameters, and its generation lock."""
    key = (path, n_ctx, n_threads)
    with _load_lock:
        if key not in _loaded:
            from llama_cpp import Llama

            llama = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                          verbose=False)
            _loaded[key] = (llama, threading.Lock())
        return _loaded[key]


class ChatLlamaCpp(BaseChatModel):
    """A local GGUF chat model (llama-cpp-python) as a LangChain chat model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = 4096
    n_threads: int = 0  # 0 = all cores
    max_tokens: int = 512
    temperature: float = 0.0
    _llama: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @property
    def llama(self):
        """The loaded model (loaded on first use, shared by every instance in the process)."""
        if self._llama is None:
            self._llama, self._lock = load_llama(self.model_path, self.n_ctx, self.n_threads or os.cpu_count() or 1)
        return self._llama

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in this model's own vocabulary."""
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _messages(self, messages: list[BaseMessage]) -> list[dict]:
        return [{"role": _ROLES.get(m.type, "user"), "content": m.content} for m in messages]

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        llama = self.llama
        with self._lock:
            for part in llama.create_chat_completion(
                    self._messages(messages), stream=True, stop=stop, max_tokens=self.max_tokens,
                    temperature=self.temperature, seed=0):
                delta = part["choices"][0]["delta"].get("content")
                if delta:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                    if run_manager:
                        run_manager.on_llm_new_token(delta, chunk=chunk)
                    yield chunk

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        text = "".join(c.message.content for c in self._stream(messages, stop, run_manager))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def _llamacpp(settings: Settings) -> BaseChatModel:
    path = resolve_model(settings.llm_model, settings.model_dir)
    return ChatLlamaCpp(model_path=str(path), n_ctx=settings.llm_context, n_threads=settings.llm_threads,
                        max_tokens=settings.llm_max_tokens, temperature=settings.llm_temperature)


def _openai(settings: Settings) -> BaseChatModel:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise ModelNotFoundError("The openai backend needs langchain-openai: pip install 'chatbot[openai]'") from None
    return ChatOpenAI(base_url=settings.openai_base_url, api_key=settings.openai_api_key or "not-needed",
                      model=settings.llm_model, temperature=settings.llm_temperature,
                      max_tokens=settings.llm_max_tokens, timeout=settings.llm_timeout)


def _ollama(settings: Settings) -> BaseChatModel:
    try:
        from langchain_ollama import ChatOllama
    except ImportError:
        raise ModelNotFoundError("The ollama backend needs langchain-ollama: pip install 'chatbot[ollama]'") from None
    return ChatOllama(base_url=settings.ollama_url, model=settings.llm_model,
                      temperature=settings.llm_temperature, num_predict=settings.llm_max_tokens)


BACKENDS: dict[str, Callable[[Settings], BaseChatModel]] = {
    "llamacpp": _llamacpp,
    "openai": _openai,
    "ollama": _ollama,
}


def get_chat_model(settings: Settings) -> BaseChatModel:
    """Build the chat model named by ``settings.llm_backend``."""
    return pick(BACKENDS, settings.llm_backend, "LLM backend")(settings)
