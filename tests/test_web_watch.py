"""The web chat watches its corpus folder while it runs: ``app.py`` on 127.0.0.1 (the small local
model, which these tests never ask), a file dropped into the folder is ingested and becomes
searchable, a deleted one is removed, and the watcher stops cleanly with the app."""

import shutil
import time

import pytest

from chatbot import Chatbot, Settings
from conftest import CORPUS
from helpers import DATED_ARTICLE, App

pytestmark = pytest.mark.server



def wait_for_log(app: App, line: str, timeout: float = 400) -> None:
    deadline = time.time() + timeout
    while line not in app.log():
        assert time.time() < deadline and app.proc.poll() is None, f"no '{line}' in the log:\n{app.log()}"
        time.sleep(0.3)


def test_a_file_dropped_into_the_corpus_becomes_searchable(tmp_path, e5):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    data = tmp_path / "data"
    app = App(tmp_path, {"CHATBOT_DATA_DIR": str(data), "CHATBOT_CORPUS_DIR": str(corpus),
                         "CHATBOT_LLM_MODEL": "qwen2.5-coder-0.5b-instruct-q4", "CHATBOT_WATCH_SETTLE": "0.5"}).start()
    try:
        wait_for_log(app, f"watch: {corpus}")
        (corpus / "kawasemi.md").write_text(DATED_ARTICLE, encoding="utf-8")
        wait_for_log(app, "watch: added corpus/kawasemi.md (1 chunks)")
        (corpus / "madman-openai-aws-power-shift.md").unlink()
        wait_for_log(app, "watch: removed corpus/madman-openai-aws-power-shift.md")
    finally:
        app.stop()
    assert app.proc.returncode == 0 and "watch: stopped" in app.log()  # a clean stop on SIGTERM
    bot = Chatbot(Settings(data_dir=data, corpus_dir=corpus), embeddings=e5)
    assert "12億円" in bot.search("カワセミ・ロボティクスの調達額", k=1)[0].text
    assert {d.doc_id for d in bot.documents()} == {"corpus/openai-aws-38b-deal.md", "corpus/kawasemi.md"}
