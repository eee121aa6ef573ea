"""Chat models behind LangChain's ``BaseChatModel``, chosen by ``CHATBOT_LLM_BACKEND``.

- ``llamacpp`` (default): a local GGUF through llama-cpp-python, offline. The model is loaded
  once per process and shared; a lock serializes generation (one llama context is not
  thread-safe). Generation runs in a worker thread that holds the lock and hands tokens to
  the reader, so the lock is never held across a ``yield``: a reader that closes the stream
  (or breaks out of its loop) stops generation at the next token, and one that stops reading
  without closing (a closed browser tab) is given up after ``CHATBOT_LLM_IDLE_TIMEOUT`` seconds.
  A prompt reuses the KV cache only where the same question's answer does not depend on what was
  asked before (:meth:`ChatLlamaCpp._read`).
- ``llama-server``: llama.cpp's own server with parallel slots, so several chats run at once
  (:mod:`chatbot.llama_server`).
- ``openai``: any OpenAI-compatible server (OpenAI, vLLM, llama.cpp server, LM Studio).
- ``ollama``: a local Ollama server.

Optional SDKs are imported lazily; a missing one names the extra to install.
"""

from __future__ import annotations

import functools
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from .config import Settings
from .errors import ChatbotError, ModelNotFoundError, pick
from .model_files import resolve_model

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


@dataclass(eq=False)
class LlamaContext:
    """One loaded llama context, its generation lock, and where the cached prompt's messages
    start (the batches it was read in; see :meth:`ChatLlamaCpp._read`)."""

    llama: Any
    lock: threading.Lock
    starts: list[int] = field(default_factory=list)

    def reset(self) -> None:
        """Empty the KV cache (hold :attr:`lock`): the next prompt is read from its start."""
        self.llama.reset()
        self.starts = []


_loaded: dict[tuple, LlamaContext] = {}
_load_lock = threading.Lock()


def load_llama(path: str, n_ctx: int, n_threads: int, slot: str = "main") -> LlamaContext:
    """The process-wide ``llama_cpp.Llama`` context for these parameters. Each ``slot`` is a
    context of its own (its own KV cache) on the same memory-mapped weights."""
    key = (path, n_ctx, n_threads, slot)
    with _load_lock:
        if key not in _loaded:
            from llama_cpp import Llama

            llama = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                          verbose=False)
            _loaded[key] = LlamaContext(llama, threading.Lock())
        return _loaded[key]


@functools.lru_cache(maxsize=8)
def _formatter(template: str, eos_token: str, bos_token: str):
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    return Jinja2ChatFormatter(template=template, eos_token=eos_token, bos_token=bos_token)  # compiling takes ~6 ms


def chat_tokens(llama: Any, messages: list[dict]) -> list[int]:
    """``messages`` as ``llama.create_chat_completion`` formats (the model's chat template) and tokenizes them."""
    formatter = _formatter(llama.metadata["tokenizer.chat_template"],
                           llama._model.token_get_text(llama.token_eos()),
                           llama._model.token_get_text(llama.token_bos()) if llama.token_bos() >= 0 else "")
    return llama.tokenize(formatter(messages=messages).prompt.encode("utf-8"), add_bos=True, special=True)


class StreamAbandonedError(ChatbotError):
    """A local-model answer stream was read again after it had been given up."""


_END = object()  # the generation finished
_GIVEN_UP = object()  # the reader stopped reading; generation was stopped


class _Handoff:
    """Tokens from the generating thread to the reader, and how long the oldest unread one has
    waited (the reader only takes, the generator only puts: no lock needed under the GIL)."""

    def __init__(self) -> None:
        self._items: queue.SimpleQueue = queue.SimpleQueue()
        self._put_at: list[float] = []
        self._taken = 0
        self.closed = threading.Event()  # set by the reader: stop generating

    def put(self, item: Any) -> None:
        self._put_at.append(time.monotonic())
        self._items.put(item)

    def take(self) -> Any:
        item = self._items.get()
        self._taken += 1
        return item

    def unread_for(self) -> float:
        """Seconds the oldest token not yet taken by the reader has waited (0 if none)."""
        taken, put_at = self._taken, self._put_at
        return time.monotonic() - put_at[taken] if taken < len(put_at) else 0.0


class ChatLlamaCpp(BaseChatModel):
    """A local GGUF chat model (llama-cpp-python) as a LangChain chat model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = 4096
    n_threads: int = 0  # 0 = all cores
    max_tokens: int = 512
    temperature: float = 0.0
    idle_timeout: float = 20.0  # seconds a token may wait unread before generation is given up
    slot: str = "main"  # which context of the process's model (see load_llama)
    _context: LlamaContext | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @property
    def context(self) -> LlamaContext:
        """The loaded model's context (loaded on first use, shared by every instance in the process)."""
        if self._context is None:
            self._context = load_llama(self.model_path, self.n_ctx, self.n_threads or os.cpu_count() or 1, self.slot)
        return self._context

    @property
    def llama(self):
        return self.context.llama

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in this model's own vocabulary."""
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _messages(self, messages: list[BaseMessage]) -> list[dict]:
        return [{"role": _ROLES.get(m.type, "user"), "content": m.content} for m in messages]

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        llama = self.llama
        handoff = _Handoff()
        worker = threading.Thread(target=self._generate_into, args=(llama, self._messages(messages), stop, handoff),
                                  name="llama-generate", daemon=True)
        worker.start()
        try:
            while True:
                item = handoff.take()
                if item is _END:
                    return
                if item is _GIVEN_UP:
                    raise StreamAbandonedError(
                        f"The answer stream was not read for {self.idle_timeout:g} s, so its generation was "
                        "stopped to free the model for other questions.")
                if isinstance(item, BaseException):
                    raise item
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=item))
                if run_manager:
                    run_manager.on_llm_new_token(item, chunk=chunk)
                yield chunk
        finally:  # the end, an error, or GeneratorExit (the reader closed the stream): stop generating
            handoff.closed.set()

    def _generate_into(self, llama: Any, messages: list[dict], stop: list[str] | None, handoff: _Handoff) -> None:
        """Worker thread: generate under the model's lock, handing each token over; stop at the
        next token once the reader has closed the stream or left a token unread too long."""
        end = _END
        try:
            with self.context.lock:
                if handoff.closed.is_set():
                    return
                self._read(messages)  # llama.cpp then reads only the rest
                parts = llama.create_chat_completion(
                    messages, stream=True, stop=stop, max_tokens=self.max_tokens,
                    temperature=self.temperature, seed=0)
                try:
                    for part in parts:
                        if handoff.closed.is_set():
                            break
                        if handoff.unread_for() > self.idle_timeout:
                            end = _GIVEN_UP
                            break
                        delta = part["choices"][0]["delta"].get("content")
                        if delta:
                            handoff.put(delta)
                finally:
                    parts.close()  # stops llama.cpp's generator before the lock is released
        except BaseException as exc:  # handed to the reader, raised there
            end = exc
        finally:
            handoff.put(end)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        text = "".join(c.message.content for c in self._stream(messages, stop, run_manager))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def choice_probabilities(self, messages: list[BaseMessage], choices: list[str]) -> dict[str, float]:
        """Probability of each of ``choices`` as the model's reply, from one forward pass.

        The prompt is formatted with the model's chat template exactly as the chat completion
        formats it, so the tokens it leaves in the KV cache are the prefix of the next call
        (an answer turn that extends these messages re-reads nothing). Each choice is scored by
        its first token's logit; the probabilities are normalized over ``choices``."""
        import numpy as np

        llama = self.llama
        first = [llama.tokenize(c.encode("utf-8"), add_bos=False, special=False)[0] for c in choices]
        with self.context.lock:
            tokens = self._read(self._messages(messages))
            llama.eval(tokens[llama.n_tokens:])
            logits = np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1), shape=(llama.n_vocab(),))
            picked = logits[first].astype(np.float64)
        weights = np.exp(picked - picked.max())
        return dict(zip(choices, (weights / weights.sum()).tolist()))

    def _read(self, messages: list[dict]) -> list[int]:
        """The prompt's tokens, with the KV cache brought to a prefix of them whose values do not
        depend on earlier prompts; the caller reads the rest (at least one token) in one batch.

        llama.cpp's numbers for a token differ slightly with the batch it was read in, and the
        1.5B's greedy reply can turn on them: with plain prefix reuse, 9 of 30 dev English
        questions were translated differently right after a restart than after another question.
        So every prompt is read one message per batch, and it reuses the cache only (a) all of
        it, when it continues the cached tokens exactly (the same question's next step: the
        answer after its yes/no), or (b) up to the start of its first message that differs from
        the cached prompt's (the fixed system text, across questions). Every cached value is
        then a function of the prompts of the question being answered, whatever came before."""
        context, llama = self.context, self.llama
        tokens = chat_tokens(llama, messages)
        cached = llama.input_ids[:llama.n_tokens].tolist()
        same = llama.longest_token_prefix(cached, tokens)
        if cached and same == len(cached) < len(tokens):
            return tokens  # (a): llama.cpp reuses it all
        opener = tokens[1] if tokens[0] == llama.token_bos() else tokens[0]  # the token each message starts with
        starts = [i for i, t in enumerate(tokens) if t == opener and i > 0][:-1]  # the last: the reply's own header
        shared = 0
        while shared < min(len(starts), len(context.starts)) and starts[shared] == context.starts[shared] <= same:
            shared += 1
        keep = starts[shared - 1] if shared else 0
        if keep == 0 or not llama._ctx.kv_cache_seq_rm(-1, keep, -1):
            llama.reset()
            keep, shared = 0, 0
        llama.n_tokens = keep
        for start, end in zip([keep, *starts[shared:]], starts[shared:]):
            llama.eval(tokens[start:end])
        context.starts = starts
        return tokens


def _llamacpp(settings: Settings) -> BaseChatModel:
    path = resolve_model(settings.llm_model, settings.model_dir)
    return ChatLlamaCpp(model_path=str(path), n_ctx=settings.llm_context, n_threads=settings.llm_threads,
                        max_tokens=settings.llm_max_tokens, temperature=settings.llm_temperature,
                        idle_timeout=settings.llm_idle_timeout)


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
                      temperature=settings.llm_temperature, num_predict=settings.llm_max_tokens,
                      client_kwargs={"timeout": settings.llm_timeout})


def _llama_server(settings: Settings) -> BaseChatModel:
    from .llama_server import chat_model

    return chat_model(settings)


BACKENDS: dict[str, Callable[[Settings], BaseChatModel]] = {
    "llamacpp": _llamacpp,
    "llama-server": _llama_server,
    "openai": _openai,
    "ollama": _ollama,
}


def get_chat_model(settings: Settings) -> BaseChatModel:
    """Build the chat model named by ``settings.llm_backend``."""
    return pick(BACKENDS, settings.llm_backend, "LLM backend")(settings)


AUX_CONTEXT = 1024  # tokens: one-line requests (a question's translation, a follow-up's rewrite)


def aux_model(model: BaseChatModel) -> BaseChatModel:
    """The model for short one-line requests. For the local model: a second context on the same
    weights, so that those requests' fixed instructions stay in its own KV cache (only the
    question is read) while the main context keeps the evidence prompt; other backends as given."""
    if not isinstance(model, ChatLlamaCpp):
        return model
    return ChatLlamaCpp(model_path=model.model_path, n_ctx=AUX_CONTEXT, n_threads=model.n_threads,
                        max_tokens=model.max_tokens, temperature=model.temperature,
                        idle_timeout=model.idle_timeout, slot="aux")
