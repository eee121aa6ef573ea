"""Web chat (Gradio): ask about the ingested articles, see every answer's sources, add articles.

A thin layer over :class:`chatbot.Chatbot` (the same API as the CLI and the eval). Start with
``python app.py`` (or ``make run``); host and port are the settings CHATBOT_HOST / CHATBOT_PORT,
and CHATBOT_AUTH adds a login (see :mod:`chatbot.webauth`). While it runs it watches the corpus
folder (CHATBOT_WATCH_CORPUS, :mod:`chatbot.watch`): files saved there are ingested, deleted ones
removed from the index.
Everything from articles or the model is escaped before it reaches the page: shown, never run.
"""

from __future__ import annotations

import html
import re
import signal
import sys
import threading
import time
from pathlib import Path

import gradio as gr

from chatbot import Chatbot, ChatbotError
from chatbot.answer import Answer, EvidenceFound
from chatbot.history import message_text
from chatbot.prompts import prompts_for
from chatbot.quotes import marked
from chatbot.retrieval import SearchResult, page_label
from chatbot.text import is_full_sentence, is_question
from chatbot.uploads import save_upload
from chatbot.watch import FolderWatcher
from chatbot.webauth import exposure_warning, load_credentials

EXAMPLES = [  # the first is the input's placeholder
    "OpenAIとAWSの契約の規模はどのくらいですか？",
    "なぜOpenAIはTrainiumではなくNVIDIAを選んだのですか？",
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


def _byline(result: SearchResult | None, doc_id: str, page: int | None = None) -> str:
    """Publisher · date · doc id · page (PDFs: the cited sentence's page, else the passage's)."""
    parts, label = [], page_label(page)
    if result is not None:
        parts = [v for v in (result.meta.publisher, result.meta.published) if v]
        label = label or result.page_label
    return html.escape(" · ".join(parts + [doc_id] + ([label] if label else [])))


def shown_as_evidence(sentence: str) -> bool:
    """Whether an evidence sentence is worth showing under a refusal: a full sentence (not a
    heading such as 「この記事の監修」) that states rather than asks (not the article's rhetorical
    「なぜ今、OpenAIはこの一手を選んだのか。」). The quote an answer leads with follows the same rule."""
    return is_full_sentence(sentence) and not is_question(sentence)


def render_sources(answer: Answer) -> str:
    """The numbered sources of an answer (cited sentence highlighted), or, for a refusal, a
    notice and the evidence that was read, by article (else the closest passages)."""
    results = {s.chunk_id: s for s in answer.sources}
    if answer.refused:
        out = [f"<div class='refusal'><b>{html.escape(answer.text)}</b></div>"]
        if answer.sources:
            out.append(f"<p><b>{html.escape(prompts_for(answer.language).closest)}</b></p>")
        shown = [e for e in answer.evidence if shown_as_evidence(e["text"])]
        if shown:  # the sentences that were read, by article: the reader can check the refusal
            by_article: dict[str, list[dict]] = {}
            for e in shown:
                by_article.setdefault(e["doc_id"], []).append(e)
            for doc_id, sentences in by_article.items():
                first = sentences[0]
                src = results.get(first.get("chunk_id"))
                out.append(f"<div class='source closest'><b>{html.escape(first['title'])}</b> "
                           f"<small>{_byline(src, doc_id, first.get('page'))}</small>")
                out += [f"<p>[{e['id']}] {html.escape(e['text'])}</p>" for e in sentences]
                out.append("</div>")
            return "\n".join(out)
        for s in answer.sources[:3]:
            out.append(f"<div class='source closest'><b>{html.escape(s.title)}</b> "
                       f"<small>{_byline(s, s.doc_id)}</small><p>{html.escape(s.text)}</p></div>")
        return "\n".join(out)
    out = []
    for c in answer.citations:
        src = results.get(c.chunk_id)
        page = src.page_of(c.quote) if src is not None else getattr(c, "page", None)
        out.append(f"<div class='source' id='source-{c.n}'><b>[{c.n}] {html.escape(c.title)}</b> "
                   f"<small>{_byline(src, c.doc_id, page)}</small>"
                   f"<p>{highlight(c.text, c.quote)}</p></div>")
    return "\n".join(out)


_TAGS = re.compile(r"<[^>]+>")  # the markup render_answer adds (article text inside is escaped)


def render_answer(answer: Answer) -> str:
    """The answer as the chat shows it, escaped. A translated quote keeps its original sentence
    one click away (a collapsed ``<details>``)."""
    text = f"{REFUSED_PREFIX}{answer.text}" if answer.refused else answer.text  # a quote says so itself
    label = html.escape(prompts_for(answer.language).original)
    return html.escape(text) + "".join(
        f"<details class='original'><summary>{label} [{q.n}]</summary>{html.escape(marked(q.text))}</details>"
        for q in answer.quotes if q.translation)


def status_box(text: str):
    """A status message for a side-panel box, shown only when there is one."""
    return gr.update(value=text, visible=bool(text))


def render_evidence(event: EvidenceFound) -> str:
    """The evidence sentences the model is reading, grouped by article, while it writes."""
    out = [f"<div id='evidence'><p><b>{html.escape(prompts_for(event.language).evidence_found)}</b></p>"]
    for result, sentences in event.evidence.articles():
        out.append(f"<div class='source evidence'><b>{html.escape(result.title)}</b> "
                   f"<small>{_byline(result, result.doc_id)}</small>")
        out += [f"<p>[{s.id}] {html.escape(s.text)}</p>" for s in sentences]
        out.append("</div>")
    return "\n".join(out + ["</div>"])


def build_app(bot: Chatbot) -> gr.Blocks:
    def respond(message: str, history: list, k: int):
        history = list(history or [])
        if not (message or "").strip():
            yield history, "<p class='error'>Type a question about the articles.</p>", message
            return
        # The chat component renders HTML (sanitized, but markup would vanish or act): every
        # message is escaped for display and unescaped when passed back as history.
        prior = [{"role": m["role"], "content": html.unescape(_TAGS.sub("", message_text(m["content"])))}
                 for m in history]
        history += [{"role": "user", "content": html.escape(message)}, {"role": "assistant", "content": "…"}]
        yield history, "", ""
        answer = None
        try:
            draft, evidence_html = "", ""
            for event in bot.stream(message, prior, top_k=int(k)):
                if isinstance(event, Answer):
                    answer = event
                elif isinstance(event, EvidenceFound):  # shown at once, before the model writes
                    evidence_html = render_evidence(event)
                    history[-1] = {"role": "assistant",
                                   "content": html.escape(prompts_for(event.language).evidence_found)}
                    yield history, evidence_html, ""
                else:
                    draft += event
                    history[-1] = {"role": "assistant", "content": html.escape(draft)}
                    yield history, evidence_html, ""
        except ChatbotError as exc:
            history[-1] = {"role": "assistant", "content": html.escape(f"{REFUSED_PREFIX}{exc}")}
            yield history, f"<div class='refusal'>{html.escape(str(exc))}</div>", ""
            return
        history[-1] = {"role": "assistant", "content": render_answer(answer)}
        yield history, render_sources(answer), ""

    def documents() -> list[list]:
        return [[d.title, d.publisher or "", d.published or "", d.chunks] for d in bot.documents()]

    def article_choices():
        return gr.update(choices=[(f"{d.title} ({d.doc_id})", d.doc_id) for d in bot.documents()],
                         value=None)

    def upload(files, progress=gr.Progress()):
        if not files:
            return status_box("No file selected."), documents(), article_choices()
        target = Path(bot.settings.corpus_dir)
        limit = int(bot.settings.upload_max_mb * 1_000_000)
        saved, created, lines = [], [], []
        for f in files:
            src = Path(f if isinstance(f, str) else f.name)
            try:
                dst, new, note = save_upload(src, target, limit)
            except OSError as exc:
                dst, new, note = None, False, f"cannot be saved: {exc.strerror or exc}"
            if dst is None:
                lines.append(f"Skipped {src.name}: {note}.")
                continue
            saved.append(dst)
            if new:
                created.append(dst)
            if note:
                lines.append(f"{src.name}: {note}.")
        if saved:
            try:
                report = bot.ingest(*saved, progress=lambda done, total: progress((done, max(total, 1)),
                                                                                 unit="chunks"))
            except ChatbotError as exc:
                for dst in created:  # a file that failed ingestion does not stay in the corpus
                    dst.unlink(missing_ok=True)
                return status_box(f"Upload failed: {exc}"), documents(), article_choices()
            failed = {Path(s.path).resolve() for s in report.skipped}
            for dst in created:
                if dst.resolve() in failed:
                    dst.unlink(missing_ok=True)
            lines.insert(0, f"{report.files} file(s) ingested: {report.chunks_added} chunks added, "
                            f"{report.chunks_unchanged} unchanged.")
            lines += [f"Skipped {Path(s.path).name}: {s.reason}" for s in report.skipped]
        return status_box("\n".join(lines)), documents(), article_choices()

    def in_corpus(path: str) -> bool:
        corpus = Path(bot.settings.corpus_dir).resolve()
        return bool(path) and corpus in Path(path).resolve().parents

    def ask_remove(doc_id):
        doc = next((d for d in bot.documents() if d.doc_id == doc_id), None)
        if doc is None:
            return gr.update(visible=False), "", status_box("Choose an article to remove first.")
        fate = (f"Its file `{Path(doc.path).name}` is deleted from the corpus folder too."
                if in_corpus(doc.path) else f"Its file stays at `{doc.path}`.")
        text = (f"Remove **{html.escape(doc.title)}** ({html.escape(doc_id)}, {doc.chunks} chunks) "
                f"from the index? Answers will no longer use it. {html.escape(fate)}")
        return gr.update(visible=True), text, status_box("")

    def confirm_remove(doc_id):
        try:
            doc = next((d for d in bot.documents() if d.doc_id == doc_id), None)
            result = bot.remove(doc_id, delete_file=bool(doc and in_corpus(doc.path)))
        except ChatbotError as exc:
            return gr.update(visible=False), status_box(f"Not removed: {exc}"), documents(), article_choices()
        fate = "file deleted" if result.file_deleted else "file kept"
        message = f"Removed {result.doc_id}: {result.chunks_removed} chunks, {fate}."
        return gr.update(visible=False), status_box(message), documents(), article_choices()

    def pick_row(evt: gr.SelectData):
        docs = bot.documents()
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        return docs[row].doc_id if isinstance(row, int) and 0 <= row < len(docs) else None

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
                                     label="Articles", interactive=False, elem_id="articles")
                with gr.Row():
                    pick = gr.Dropdown(label="Article", choices=[], scale=3, elem_id="article-pick")
                    remove = gr.Button("Remove article…", variant="stop", scale=1, elem_id="remove-article")
                with gr.Group(visible=False, elem_id="remove-confirm") as confirm_box:
                    confirm_text = gr.Markdown()
                    with gr.Row():
                        remove_yes = gr.Button("Yes, remove it", variant="stop", elem_id="remove-yes")
                        remove_no = gr.Button("Cancel", elem_id="remove-cancel")
                # status boxes stay hidden until there is something to say
                removed = gr.Textbox(label="Remove", interactive=False, elem_id="remove-status", visible=False)
                files = gr.File(file_count="multiple", elem_id="upload",
                                label=f"Add articles (.md, .txt, .html, .pdf; up to {s.upload_max_mb:g} MB each)")
                status = gr.Textbox(label="Upload", interactive=False, elem_id="upload-status", visible=False)
        for trigger in (box.submit, send.click):
            trigger(respond, [box, chat, k], [chat, sources, box], concurrency_limit=8)
        clear.click(lambda: ([], ""), None, [chat, sources])
        files.upload(upload, files, [status, table, pick])
        app.load(article_choices, None, pick)
        table.select(pick_row, None, pick)
        remove.click(ask_remove, pick, [confirm_box, confirm_text, removed])
        remove_yes.click(confirm_remove, pick, [confirm_box, removed, table, pick])
        remove_no.click(lambda: gr.update(visible=False), None, confirm_box)
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
    watcher = start_watcher(bot) if bot.settings.watch_corpus else None
    try:
        report = bot.ingest()  # unchanged files cost nothing: nothing is re-embedded
    except ChatbotError as exc:
        sys.exit(f"error: {exc}")
    print(f"corpus: {report.files} files, {report.chunks_added} chunks added, "
          f"{report.chunks_unchanged} unchanged", file=sys.stderr)
    threading.Thread(target=load_model, args=(bot,), daemon=True).start()
    # SIGTERM stops the app like Ctrl-C: Gradio closes its server, then the watcher stops.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        build_app(bot).queue().launch(server_name=bot.settings.host, server_port=bot.settings.port, css=CSS,
                                      max_file_size=int(bot.settings.upload_max_mb * 1_000_000),
                                      auth=credentials,
                                      auth_message="ニュースQA: sign in to ask about the articles.")
    finally:
        if watcher is not None:
            watcher.stop()
            print("watch: stopped", file=sys.stderr, flush=True)


def start_watcher(bot: Chatbot) -> FolderWatcher:
    """Watch the corpus folder (started before the first ingest, so no file saved meanwhile is missed)."""
    corpus = Path(bot.settings.corpus_dir)
    corpus.mkdir(parents=True, exist_ok=True)
    watcher = FolderWatcher(bot, corpus, on_event=lambda e: print(f"watch: {e}", file=sys.stderr, flush=True)).start()
    print(f"watch: {watcher.folder}", file=sys.stderr, flush=True)
    return watcher


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
