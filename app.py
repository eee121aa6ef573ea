"""Web chat (Gradio): ask about the ingested articles, see every answer's sources, add articles.

A thin layer over :class:`chatbot.Chatbot` (the same API as the CLI and the eval). Start with
``python app.py`` (or ``make run``); host and port are the settings CHATBOT_HOST / CHATBOT_PORT,
and CHATBOT_AUTH adds a login (see :mod:`chatbot.webauth`).
Everything from articles or the model is escaped before it reaches the page: shown, never run.
"""

from __future__ import annotations

import html
import shutil
import sys
import threading
import time
from pathlib import Path

import gradio as gr

from chatbot import Chatbot, ChatbotError
from chatbot.chain import Answer, message_text
from chatbot.documents import SUPPORTED_SUFFIXES
from chatbot.prompts import prompts_for
from chatbot.webauth import exposure_warning, load_credentials

EXAMPLES = [
    "なぜOpenAIはTrainiumではなくNVIDIAを選んだのですか？",
    "OpenAIとAWSの契約の規模はどのくらいですか？",
    "Why did OpenAI sign a cloud deal with AWS?",
    "ナデラCEOはAIの最大の課題は何だと言っていますか？",
]
REFUSED_PREFIX = "⚠ "

CSS = """
#sources .source, #sources .refusal { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 8px 12px; margin: 8px 0; }
#sources .refusal { border-color: #d97706; background: rgba(217, 119, 6, 0.08); }
#sources p { white-space: pre-wrap; margin: 6px 0 0; }
#sources mark { background: #fde68a; color: inherit; }
"""


def highlight(text: str, quote: str) -> str:
    """``text`` escaped, with the first occurrence of ``quote`` in ``<mark>``."""
    i = text.find(quote) if quote else -1
    if i < 0:
        return html.escape(text)
    return (html.escape(text[:i]) + "<mark>" + html.escape(quote) + "</mark>"
            + html.escape(text[i + len(quote):]))


def _byline(meta: dict, doc_id: str) -> str:
    parts = [str(meta[k]) for k in ("publisher", "published") if meta.get(k)]
    return html.escape(" · ".join(parts + [doc_id]))


def render_sources(answer: Answer) -> str:
    """The numbered sources of an answer (cited sentence highlighted), or, for a refusal, a
    notice and the closest passages."""
    meta = {s.chunk_id: s.metadata for s in answer.sources}
    if answer.refused:
        out = [f"<div class='refusal'><b>{html.escape(answer.text)}</b></div>"]
        if answer.sources:
            out.append(f"<p><b>{html.escape(prompts_for(answer.language).closest)}</b></p>")
        for s in answer.sources[:3]:
            out.append(f"<div class='source closest'><b>{html.escape(s.title)}</b> "
                       f"<small>{_byline(s.metadata, s.doc_id)}</small><p>{html.escape(s.text)}</p></div>")
        return "\n".join(out)
    out = []
    for c in answer.citations:
        out.append(f"<div class='source' id='source-{c.n}'><b>[{c.n}] {html.escape(c.title)}</b> "
                   f"<small>{_byline(meta.get(c.chunk_id, {}), c.doc_id)}</small>"
                   f"<p>{highlight(c.text, c.quote)}</p></div>")
    return "\n".join(out)


def build_app(bot: Chatbot) -> gr.Blocks:
    def respond(message: str, history: list, k: int):
        history = list(history or [])
        if not (message or "").strip():
            yield history, "<p class='error'>Type a question about the articles.</p>", message
            return
        # The chat component renders HTML (sanitized, but markup would vanish or act): every
        # message is escaped for display and unescaped when passed back as history.
        prior = [{"role": m["role"], "content": html.unescape(message_text(m["content"]))} for m in history]
        history += [{"role": "user", "content": html.escape(message)}, {"role": "assistant", "content": "…"}]
        yield history, "", ""
        answer = None
        try:
            draft = ""
            for event in bot.stream(message, prior, top_k=int(k)):
                if isinstance(event, Answer):
                    answer = event
                else:
                    draft += event
                    history[-1] = {"role": "assistant", "content": html.escape(draft)}
                    yield history, "", ""
        except ChatbotError as exc:
            history[-1] = {"role": "assistant", "content": html.escape(f"{REFUSED_PREFIX}{exc}")}
            yield history, f"<div class='refusal'>{html.escape(str(exc))}</div>", ""
            return
        text = f"{REFUSED_PREFIX}{answer.text}" if answer.refused else answer.text
        history[-1] = {"role": "assistant", "content": html.escape(text)}
        yield history, render_sources(answer), ""

    def documents() -> list[list]:
        return [[d["title"], d.get("publisher") or "", d.get("published") or "", d["chunks"]]
                for d in bot.documents()]

    def upload(files, progress=gr.Progress()):
        if not files:
            return "No file selected.", documents()
        target = Path(bot.settings.corpus_dir)
        target.mkdir(parents=True, exist_ok=True)
        saved, lines = [], []
        for f in files:
            src = Path(f if isinstance(f, str) else f.name)
            if src.suffix.lower() not in SUPPORTED_SUFFIXES:
                lines.append(f"Skipped {src.name}: unsupported file type (use .md, .txt or .html).")
                continue
            dst = target / src.name
            shutil.copyfile(src, dst)
            saved.append(dst)
        if saved:
            try:
                report = bot.ingest(*saved, progress=lambda done, total: progress((done, max(total, 1)),
                                                                                 unit="chunks"))
            except ChatbotError as exc:
                return f"Upload failed: {exc}", documents()
            lines.insert(0, f"{report.files} file(s) ingested: {report.chunks_added} chunks added, "
                            f"{report.chunks_unchanged} unchanged.")
            lines += [f"Skipped {Path(s.path).name}: {s.reason}" for s in report.skipped]
        return "\n".join(lines), documents()

    s = bot.settings
    with gr.Blocks(title="News QA") as app:
        gr.Markdown("## ニュースQA — answers only from your articles, with sources")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", height=460, render_markdown=False, elem_id="chat")
                with gr.Row():
                    box = gr.Textbox(label="Question", placeholder=EXAMPLES[0], scale=5, elem_id="question")
                    send = gr.Button("Send", variant="primary", scale=1)
                gr.Examples(EXAMPLES, inputs=box, label="Examples")
                gr.Markdown("### Sources")
                sources = gr.HTML(elem_id="sources")
            with gr.Column(scale=2):
                with gr.Accordion("Settings", open=True):
                    k = gr.Slider(1, 20, value=s.top_k, step=1, label="Passages to retrieve (top-k)")
                    gr.Markdown(f"Model: `{s.llm_backend}:{s.llm_model}`  \nEmbeddings: "
                                f"`{s.embedding_backend}:{s.embedding_model}`")
                    clear = gr.Button("Clear conversation")
                table = gr.Dataframe(headers=["title", "publisher", "published", "chunks"], value=documents,
                                     label="Articles", interactive=False)
                files = gr.File(file_count="multiple", label="Add articles (.md, .txt, .html)", elem_id="upload")
                status = gr.Textbox(label="Upload", interactive=False, elem_id="upload-status")
        for trigger in (box.submit, send.click):
            trigger(respond, [box, chat, k], [chat, sources, box], concurrency_limit=8)
        clear.click(lambda: ([], ""), None, [chat, sources])
        files.upload(upload, files, [status, table])
    return app


def load_model(bot: Chatbot) -> None:
    """Load the chat model now, not on the first question (run in a background thread)."""
    t0 = time.perf_counter()
    try:
        getattr(bot.chat_model, "llama", None)  # local models load on first access
    except ChatbotError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return
    print(f"model loaded: {bot.settings.llm_backend}:{bot.settings.llm_model} "
          f"in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)


def main() -> None:
    bot = Chatbot()
    try:
        credentials = load_credentials(bot.settings.auth)  # CHATBOT_AUTH: checked before the slow start
    except ChatbotError as exc:
        sys.exit(f"error: {exc}")
    if warning := exposure_warning(bot.settings.host, bot.settings.port, credentials):
        print(warning, file=sys.stderr, flush=True)
    try:
        report = bot.ingest()  # unchanged files cost nothing: nothing is re-embedded
    except ChatbotError as exc:
        sys.exit(f"error: {exc}")
    print(f"corpus: {report.files} files, {report.chunks_added} chunks added, "
          f"{report.chunks_unchanged} unchanged", file=sys.stderr)
    threading.Thread(target=load_model, args=(bot,), daemon=True).start()
    build_app(bot).queue().launch(server_name=bot.settings.host, server_port=bot.settings.port, css=CSS,
                                  auth=credentials, auth_message="ニュースQA: sign in to ask about the articles.")


if __name__ == "__main__":
    main()
