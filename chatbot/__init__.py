"""Japanese-first question answering over news articles, with checked citations."""

from .bot import Chatbot
from .answer import Answer, EvidenceFound
from .config import Settings
from .errors import ChatbotError
from .ingest import IngestReport
from .retrieval import SearchResult

__all__ = ["Chatbot", "Answer", "EvidenceFound", "Settings", "ChatbotError", "IngestReport", "SearchResult"]
