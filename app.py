"""Web UI (Gradio): search the ingested articles, list them, upload new ones.

A thin layer over :class:`chatbot.Chatbot`. Start with ``python app.py`` (or ``make run``);
host and port are the settings CHATBOT_HOST / CHATBOT_PORT. Answers with citations come with the
chat (issue #3/#4); until then this page is the search view over the same index.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import gradio as gr

from chatbot import Chatbot, ChatbotError
from chatbot.documents import SUPPORTED_SUFFIXES


def render_results(results) -> str:
    """Results as HTML in which every piece of article text is escaped."""
    if not results:
        return "<p>No passages found.</p>"
    parts = []
    for r in results:
        parts.append(
            f"<div class='hit'><b>[{r.rank}] {html.escape(r.title)}</b> "
            f"<small>{html.escape(r.source)} · score {r.score:.4f}</small>"
            f"<p style='white-space:pre-wrap'>{html.escape(r.text)}</p></div>")
    return "\n".join(parts)


def build_app(bot: Chatbot) -> gr.Blocks:
    def search(query: str, k: int) -> str:
        try:
            return render_results(bot.search(query, k=int(k)))
        except ChatbotError as exc:
            return f"<p class='error'>{html.escape(str(exc))}</p>"

    def documents() -> list[list]:
        return [[d["title"], d["source"], d["chunks"]] for d in bot.documents()]

    def upload(files, progress=gr.Progress()):
        if not files:
            return "No file selected.", documents()
        target = Path(bot.settings.corpus_dir)
        target.mkdir(parents=True, exist_ok=True)
        saved = []
        for f in files:
            src = Path(f if isinstance(f, str) else f.name)
            if src.suffix.lower() not in SUPPORTED_SUFFIXES:
                return f"{src.name}: unsupported file type (use .md, .txt or .html).", documents()
            dst = target / src.name
            shutil.copyfile(src, dst)
            saved.append(dst)
        report = bot.ingest(*saved, progress=lambda done, total: progress((done, max(total, 1)), unit="chunks"))
        lines = [f"{report.files} file(s): {report.chunks_added} chunks added, {report.chunks_unchanged} unchanged."]
        lines += [f"Skipped {Path(s.path).name}: {s.reason}" for s in report.skipped]
        return "\n".join(lines), documents()

    with gr.Blocks(title="News QA") as app:
        gr.Markdown("## News QA — search the ingested articles")
        with gr.Row():
            with gr.Column(scale=3):
                query = gr.Textbox(label="Question", placeholder="なぜOpenAIはTrainiumではなくNVIDIAを選んだのか")
                k = gr.Slider(1, 20, value=bot.settings.top_k, step=1, label="top-k")
                results = gr.HTML()
                gr.Examples(["なぜOpenAIはTrainiumではなくNVIDIAを選んだのか",
                             "Why did OpenAI sign a cloud deal with AWS?"], inputs=query)
            with gr.Column(scale=2):
                table = gr.Dataframe(headers=["title", "source", "chunks"], value=documents, label="Articles")
                files = gr.File(file_count="multiple", label="Add articles (.md, .txt, .html)")
                status = gr.Textbox(label="Upload", interactive=False)
        query.submit(search, [query, k], results)
        files.upload(upload, files, [status, table])
    return app


if __name__ == "__main__":
    bot = Chatbot()
    build_app(bot).queue().launch(server_name=bot.settings.host, server_port=bot.settings.port)
