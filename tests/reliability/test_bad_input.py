"""Bad input through the CLI, as a user meets it: each case gets a clear message and nothing is lost."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatbot import Chatbot, ChatbotError
from chatbot.bot import check_question
from chatbot.text import is_question
from conftest import CORPUS

BIN = Path(sys.executable).parent / "chatbot"


def cli(*args, data_dir):
    env = {**os.environ, "CHATBOT_DATA_DIR": str(data_dir)}
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=900)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """A data dir with the project's corpus ingested once through the CLI, for the checks below
    that only read it (a user asking a bad question has articles ingested)."""
    data = tmp_path_factory.mktemp("bad-input") / "data"
    proc = cli("ingest", str(CORPUS), data_dir=data)
    assert proc.returncode == 0, proc.stderr
    return data


def test_a_corpus_of_bad_files_ingests_the_good_ones_and_lists_every_skip(tmp_path, corpus_copy):
    d = corpus_copy
    (d / "binary.md").write_bytes(bytes(range(256)) * 64)
    (d / "empty.txt").write_text("", encoding="utf-8")
    (d / "latin1.txt").write_bytes("Café au lait, crème brûlée.".encode("latin-1"))
    with open(d / "huge.txt", "w", encoding="utf-8") as f:  # 20 MB
        for _ in range(20 * 1024):
            f.write("あ" * 341 + "\n")
    (d / "bad-yaml.md").write_text("---\ntitle: [unclosed\npublisher: x\n---\n本文です。\n", encoding="utf-8")
    os.symlink(d / "loop.md", d / "loop.md")  # a symlink pointing at itself
    os.symlink(d, d / "again")  # a folder loop
    proc = cli("ingest", str(d), "--json", data_dir=tmp_path / "data")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["files"] == 2 and report["chunks_added"] > 0  # the two real articles
    reasons = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert set(reasons) == {"binary.md", "empty.txt", "latin1.txt", "huge.txt", "bad-yaml.md", "loop.md"}
    assert "binary" in reasons["binary.md"] and "empty" in reasons["empty.txt"]
    assert "UTF-8" in reasons["latin1.txt"] and "too large" in reasons["huge.txt"]
    assert "front matter" in reasons["bad-yaml.md"] and "loop" in reasons["loop.md"]


@pytest.mark.parametrize("question, message", [
    ("", "question is empty"),
    (" \t\n ", "question is empty"),
    ("\x07\x1b\x08", "question is empty"),  # control characters only
    ("あ" * 30_000, "too long (30,000 characters"),  # (argv holds at most 128 KB per argument)
])
def test_unusable_questions_get_one_clear_line(ingested, question, message):
    proc = cli("ask", question, data_dir=ingested)
    assert proc.returncode == 1 and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_a_100000_character_question_gets_a_message_not_a_crash(scripted_bot):
    with pytest.raises(ChatbotError, match="too long .100,000 characters; the limit is 2,000"):
        scripted_bot().ask("長い質問です。" * 14_285 + "あ" * 5)


def test_control_characters_and_emoji_are_fine(scripted_bot):
    question = "🤔 なぜOpenAIは\x00Trainiumではなく\x1bNVIDIAを選んだの？🚀"
    probe: Chatbot = scripted_bot()
    found = probe.chain.find(probe.chain.condense(check_question(question)))
    copy = next(s for s in found.evidence.ranked if s.text.endswith("。") and not is_question(s.text))
    bot: Chatbot = scripted_bot("はい", copy.text)  # answerable, and a statement copied from the evidence
    answer = bot.ask(question)
    assert not answer.refused and answer.citations
    assert "\x00" not in bot.chat_model.prompts[0][1].content and "🚀" in bot.chat_model.prompts[0][1].content


def test_missing_history_file_is_a_clear_error(tmp_path, ingested):
    proc = cli("ask", "それはいつ？", "--history", str(tmp_path / "nope.json"), data_dir=ingested)
    assert proc.returncode == 1 and "Cannot read the history file" in proc.stderr
