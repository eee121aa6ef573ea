"""An MCP server over :class:`Chatbot` (``chatbot mcp``), on the official ``mcp`` SDK, so agents
and IDE assistants can search and ask the articles as tools.

Tools (all read-only; results are structured content, also given as JSON text):

- ``search_articles(query, k=5)``: the ``k`` best passages (hybrid search), with title,
  publisher, date, source and score;
- ``ask(question)``: the checked answer with ``[n]`` markers and its citations (each with the
  cited sentence verbatim), or a refusal (``refused`` true) when the articles do not say;
- ``list_articles()``: the ingested articles.

``chatbot mcp`` speaks over stdio (an MCP client starts it as a subprocess); ``chatbot serve``
also serves it over streamable HTTP at ``/mcp``. An error a user can act on (an empty index, an
empty question) comes back as a tool error with its message.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Annotated, Iterator

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from . import Chatbot, ChatbotError
from .views import AnswerView, ArticleView, SearchView, answer_view, article_view, search_view

READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False)


@dataclass
class SearchResults:
    query: str
    results: list[SearchView]


@dataclass
class Articles:
    articles: list[ArticleView]


@contextlib.contextmanager
def _tool_errors() -> Iterator[None]:
    """A :class:`ChatbotError` reaches the client as a tool error with its message."""
    try:
        yield
    except ChatbotError as exc:
        raise ToolError(str(exc)) from exc


def build_server(bot: Chatbot) -> MCPServer:
    server = MCPServer(
        "news-qa", title="News QA",
        instructions="Answers questions from the user's ingested news articles only, with checked citations. "
                     "Use `ask` for an answer (it refuses when the articles do not say), `search_articles` for "
                     "passages, `list_articles` for what is there.")

    @server.tool(annotations=READ_ONLY)
    def search_articles(query: str, k: Annotated[int, Field(ge=1, le=50)] = 5) -> SearchResults:
        """Hybrid (keyword + meaning) search over the ingested news articles: the k best passages,
        each with its article's title, publisher, date and source."""
        with _tool_errors():
            return SearchResults(query, [search_view(r) for r in bot.search(query, k)])

    @server.tool(annotations=READ_ONLY)
    def ask(question: str) -> AnswerView:
        """Answer a question (Japanese or English) from the ingested articles only. `answer` has
        [n] markers indexing `citations` (each with the cited article sentence verbatim); when the
        articles do not say, `refused` is true and `answer` says so."""
        with _tool_errors():
            return answer_view(bot.ask(question))

    @server.tool(annotations=READ_ONLY)
    def list_articles() -> Articles:
        """The ingested articles: doc id, title, publisher, date, source and chunk count."""
        with _tool_errors():
            return Articles([article_view(row) for row in bot.documents()])

    return server


def run_stdio(bot: Chatbot) -> None:
    """Serve over stdin/stdout until the client closes them."""
    bot.chain  # build the retriever and the chain before the first call
    build_server(bot).run("stdio")
