"""Errors a user can act on. Each message says what went wrong and how to fix it."""

from __future__ import annotations


class ChatbotError(Exception):
    """Base class: the CLI prints the message as one line and exits non-zero."""


class EmbeddingMismatchError(ChatbotError):
    def __init__(self, built_with: str, configured: str) -> None:
        super().__init__(
            f"The index was built with embedding model '{built_with}', but the current setting is "
            f"'{configured}'. Re-ingest with the new model (`chatbot ingest --rebuild`) or set "
            f"CHATBOT_EMBEDDING_BACKEND/CHATBOT_EMBEDDING_MODEL back to '{built_with}'."
        )


class StoreUnavailableError(ChatbotError):
    def __init__(self, where: str, cause: Exception) -> None:
        hint = ("Start it (`chroma run --path DIR --host 127.0.0.1 --port PORT`) or unset CHATBOT_CHROMA_URL "
                "to use the embedded store." if where.startswith("http") else
                "Check that CHATBOT_DATA_DIR is writable.")
        super().__init__(f"Cannot use the vector store at {where}: {cause}. {hint}")


class EmbeddingServerError(ChatbotError):
    def __init__(self, url: str, cause, retried: bool = True) -> None:
        tried = "after retrying" if retried else "and the request was refused"
        super().__init__(
            f"The embedding server at {url} failed {tried}: {cause}. Check that it runs and serves "
            "CHATBOT_EMBEDDING_MODEL; what was ingested so far is kept, so run the ingest again to finish it.")


class EmptyIndexError(ChatbotError):
    def __init__(self) -> None:
        super().__init__("The index is empty. Ingest articles first: `chatbot ingest corpus`.")


class InvalidQuestionError(ChatbotError):
    """An empty or unusable question."""


class QuestionTooLongError(InvalidQuestionError):
    """A question over the length limit."""


class ModelNotFoundError(ChatbotError):
    """A model file or package is missing."""


class DocumentNotFoundError(ChatbotError):
    def __init__(self, what: str) -> None:
        super().__init__(f"No ingested article has the id or path '{what}'. `chatbot list` shows them.")


def pick(registry: dict, name: str, what: str):
    """``registry[name]``, or an error listing the choices (backend registries use this)."""
    try:
        return registry[name]
    except KeyError:
        raise ModelNotFoundError(f"Unknown {what} '{name}'; choose one of {', '.join(registry)}.") from None
