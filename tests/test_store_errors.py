"""Which Chroma errors mean "the server is not there" (StoreUnavailableError, with the fix) and which
are the server's own answer: by the client's exception types, never by words in the message.
(Real `chroma run` servers going down and coming back: test_chroma_server.py, reliability/.)"""

import chromadb.errors
import httpx
import pytest

from chatbot.errors import StoreUnavailableError
from chatbot.store import ChunkStore, _is_connection_error


def raised_from(cause: BaseException, exc: BaseException) -> BaseException:
    """``exc`` as Python leaves it when raised while handling ``cause`` (chromadb does this)."""
    try:
        try:
            raise cause
        except type(cause):
            raise exc
    except type(exc) as e:
        return e


@pytest.mark.parametrize("exc", [
    httpx.ConnectError("[Errno 111] Connection refused"),
    httpx.ConnectTimeout("timed out"),
    httpx.ReadTimeout("timed out"),
    httpx.RemoteProtocolError("Server disconnected without sending a response."),
    httpx.ReadError("reset"),
    ConnectionRefusedError(111, "Connection refused"),
    ConnectionResetError(104, "Connection reset by peer"),
    # chromadb's HttpClient start-up turns httpx.ConnectError into a plain ValueError
    raised_from(httpx.ConnectError("refused"),
                ValueError("Could not connect to a Chroma server. Are you sure it is running?")),
])
def test_transport_failures_are_connection_errors(exc):
    assert _is_connection_error(exc)


@pytest.mark.parametrize("exc", [
    ValueError("Could not connect to tenant default_tenant. Are you sure it exists?"),  # no transport error
    chromadb.errors.InvalidArgumentError("Collection expecting embedding with dimension of 384, got 3"),
    chromadb.errors.NotFoundError("Collection [articles] does not exist"),
    chromadb.errors.InternalError("disconnected shard"),  # an answer from the server, whatever it says
    RuntimeError("reconnect the pipeline"),
])
def test_answers_from_the_server_and_other_errors_are_not(exc):
    assert not _is_connection_error(exc)


class _Failing:
    def __init__(self, exc):
        self.exc = exc

    def count(self):
        raise self.exc


def store_with(exc) -> ChunkStore:
    store = ChunkStore.__new__(ChunkStore)  # no client: only the error handling is exercised
    store.settings = type("S", (), {"chroma_url": "http://127.0.0.1:9", "chroma_path": lambda self: None})()
    store._collection = _Failing(exc)
    return store


def test_a_connection_error_becomes_a_store_error_that_names_the_fix():
    store = store_with(httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(StoreUnavailableError, match="chroma run"):
        store.count()
    assert store._collection is None  # reconnect on the next call


def test_a_server_answer_mentioning_connect_is_passed_on_unchanged():
    error = chromadb.errors.InvalidArgumentError("cannot connect embeddings of dimension 3 to this collection")
    store = store_with(error)
    with pytest.raises(chromadb.errors.InvalidArgumentError):
        store.count()
