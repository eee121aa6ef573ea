"""An OpenAI-compatible chat API over :class:`Chatbot` (``chatbot serve``), so chat clients and
scripts built for OpenAI (Open WebUI, LibreChat, Chatbox, the ``openai`` SDK) can ask the articles.

- ``POST /v1/chat/completions`` answers the last user message; the messages before it are the
  history. ``message.content`` is the checked answer with its ``[n]`` markers, then a short
  Sources list (:func:`chatbot.views.with_sources`). The same answer and its citations, as data,
  are in the extension field ``chatbot`` of the response (:class:`chatbot.views.AnswerView`).
- With ``stream: true`` (server-sent events) the model's unchecked draft streams as
  ``delta.reasoning_content`` while it is written (clients that show reasoning show it as such;
  the others ignore it), then the checked answer arrives as ``delta.content`` in one piece, and the
  last chunk (``finish_reason: "stop"``) carries the ``chatbot`` field. So the streamed content is
  exactly the non-streamed content: a plain client never shows text that the check removed.
- ``GET /v1/models`` lists the one model, :data:`MODEL_ID`.
- ``POST /mcp``: the MCP server (:mod:`chatbot.mcp_server`) over streamable HTTP.

Errors have OpenAI's shape (``{"error": {"message", "type", "param", "code"}}``). With
``CHATBOT_API_TOKEN`` set, every request needs ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sys
import time
from typing import Any, Iterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import Answer, Chatbot, ChatbotError
from .errors import EmptyIndexError, InvalidQuestionError, QuestionTooLongError, StoreUnavailableError
from .views import answer_view, with_sources, without_sources
from .webauth import is_loopback

MODEL_ID = "news-qa"
EXTENSION = "chatbot"  # the response field holding the answer and its citations as data


class APIError(Exception):
    """An error response in OpenAI's format."""

    def __init__(self, status: int, message: str, type: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None, retry: bool = True) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param, self.retry = (
            status, message, type, code, param, retry)

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        # The openai SDK retries 5xx responses unless told not to.
        headers = {} if self.retry else {"x-should-retry": "false"}
        return JSONResponse(self.body(), status_code=self.status, headers=headers)


def api_error(exc: ChatbotError) -> APIError:
    """The HTTP status and error body an OpenAI client expects for a :class:`ChatbotError`."""
    if isinstance(exc, QuestionTooLongError):
        return APIError(400, str(exc), code="context_length_exceeded", param="messages")
    if isinstance(exc, InvalidQuestionError):
        return APIError(400, str(exc), code="invalid_question", param="messages")
    if isinstance(exc, EmptyIndexError):
        return APIError(503, str(exc), type="server_error", code="empty_index", retry=False)
    if isinstance(exc, StoreUnavailableError):
        return APIError(503, str(exc), type="server_error", code="store_unavailable")
    return APIError(500, str(exc), type="server_error", retry=False)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list | None = None


class ChatRequest(BaseModel):
    """The fields this server reads; the others (temperature, max_tokens, ...) are accepted and
    ignored: the answer's length and sampling are the bot's settings."""

    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[ChatMessage]
    stream: bool = False


def content_text(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return content or ""


def split_messages(messages: list[ChatMessage]) -> tuple[str, list[dict]]:
    """``(question, history)``: the last user message, and the user and assistant messages before
    it (our Sources lists taken off earlier replies; system messages are not used)."""
    last = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].role == "user"), None)
    if last is None:
        raise APIError(400, "The messages contain no user message: send the question as "
                            '{"role": "user", "content": "..."}.', param="messages", code="no_user_message")
    history = [{"role": m.role, "content": without_sources(content_text(m.content)) if m.role == "assistant"
                else content_text(m.content)} for m in messages[:last] if m.role in ("user", "assistant")]
    return content_text(messages[last].content), history


class Completion:
    """The ids and the response shapes of one chat completion."""

    def __init__(self) -> None:
        self.id = f"chatcmpl-{secrets.token_hex(12)}"
        self.created = int(time.time())

    def response(self, answer: Answer) -> dict:
        view = answer_view(answer)
        return {"id": self.id, "object": "chat.completion", "created": self.created, "model": MODEL_ID,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": with_sources(view)},
                             "logprobs": None, "finish_reason": "stop"}],
                EXTENSION: view.to_dict()}

    def chunk(self, delta: dict, finish_reason: str | None = None, **extra: Any) -> str:
        data = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": MODEL_ID,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
                **extra}
        return sse(data)

    def stream(self, events: Iterator) -> Iterator[str]:
        """Server-sent events for an answer stream (see the module docstring)."""
        yield self.chunk({"role": "assistant", "content": ""})
        try:
            for event in events:
                if isinstance(event, str):
                    yield self.chunk({"reasoning_content": event})
                elif isinstance(event, Answer):
                    view = answer_view(event)
                    yield self.chunk({"content": with_sources(view)})
                    yield self.chunk({}, "stop", **{EXTENSION: view.to_dict()})
        except ChatbotError as exc:  # after the headers: OpenAI's in-stream error event
            yield sse(api_error(exc).body())
            return
        finally:
            close = getattr(events, "close", None)
            if close:
                close()  # a client that went away stops the model at its next token
        yield "data: [DONE]\n\n"


def sse(data: dict) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


class BearerAuth:
    """ASGI middleware: every HTTP request must carry ``Authorization: Bearer <token>``."""

    def __init__(self, app, token: str) -> None:
        self.app, self.expected = app, f"Bearer {token}".encode()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not secrets.compare_digest(given, self.expected):
                error = APIError(401, "Missing or wrong API token: send `Authorization: Bearer <CHATBOT_API_TOKEN>`.",
                                 code="invalid_api_key", retry=False)
                await error.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(bot: Chatbot, mcp: bool = True) -> FastAPI:
    """The API as an ASGI app (``mcp``: also serve the MCP server at ``/mcp``)."""
    token = bot.settings.api_token.get_secret_value() if bot.settings.api_token else None
    mcp_routes, lifespan = [], None
    if mcp:
        from .mcp_server import build_server

        server = build_server(bot)
        mcp_routes = server.streamable_http_app(streamable_http_path="/mcp", host=bot.settings.host).routes

        @contextlib.asynccontextmanager
        async def lifespan(app):
            async with server.session_manager.run():
                yield

    app = FastAPI(title="News QA: OpenAI-compatible API", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.router.routes.extend(mcp_routes)
    if token:
        app.add_middleware(BearerAuth, token=token)
    model_card = {"id": MODEL_ID, "object": "model", "created": int(time.time()), "owned_by": "chatbot"}

    @app.exception_handler(APIError)
    async def on_api_error(request: Request, exc: APIError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def on_bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return APIError(400, f"Invalid request: {where or 'body'}: {first.get('msg', 'malformed')}.",
                        param=where or None).response()

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return APIError(exc.status_code, str(exc.detail), code="not_found" if exc.status_code == 404 else None
                        ).response()

    @app.get("/v1/models")
    def list_models() -> dict:
        return {"object": "list", "data": [model_card]}

    @app.get("/v1/models/{model}")
    def get_model(model: str) -> dict:
        check_model(model)
        return model_card

    @app.post("/v1/chat/completions")
    def chat_completions(request: ChatRequest):
        check_model(request.model)
        question, history = split_messages(request.messages)
        events = bot.stream(question, history)
        completion = Completion()
        try:
            # The question check and the empty-index check run at the first step, before any
            # byte is sent, so they get a proper status code even when streaming.
            first = next(events)
            if request.stream:
                return StreamingResponse(completion.stream(_chain(first, events)), media_type="text/event-stream",
                                         headers={"Cache-Control": "no-cache"})
            for event in events:
                if isinstance(event, Answer):
                    return completion.response(event)
        except ChatbotError as exc:
            raise api_error(exc) from None
        raise APIError(500, "The answer stream ended without an answer.", type="server_error")

    return app


def check_model(model: str) -> None:
    if model != MODEL_ID:
        raise APIError(404, f"The model `{model}` does not exist: this server serves `{MODEL_ID}` "
                            "(GET /v1/models).", code="model_not_found", param="model")


def _chain(first, rest: Iterator) -> Iterator:
    """``first``, then ``rest``, closing ``rest`` when closed itself."""
    try:
        yield first
        yield from rest
    finally:
        rest.close()


def exposure_warning(host: str, port: int, token: bool) -> str | None:
    """The warning printed at start-up when the API listens beyond loopback without a token."""
    if token or is_loopback(host):
        return None
    return (f"warning: the API listens on {host}:{port} without a token: anyone who can reach it can read "
            "the articles and use the model. Set CHATBOT_API_TOKEN, or CHATBOT_HOST=127.0.0.1.")


def serve(bot: Chatbot, host: str, port: int) -> None:
    """Run the API with uvicorn until interrupted."""
    import uvicorn

    if warning := exposure_warning(host, port, bot.settings.api_token is not None):
        print(warning, file=sys.stderr, flush=True)
    bot.chain  # build the retriever and the chain before the first request, not in two at once
    print(f"OpenAI-compatible API on http://{host}:{port}/v1 (model `{MODEL_ID}`), MCP on http://{host}:{port}/mcp",
          file=sys.stderr, flush=True)
    uvicorn.run(create_app(bot), host=host, port=port, log_level="warning")
