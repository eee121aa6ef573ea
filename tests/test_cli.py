"""The console script, run as a real subprocess the way a user runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatbot.loaders import load_documents

BIN = Path(sys.executable).parent / "chatbot"


def run(*args, data_dir, check=True):
    env = {**os.environ, "CHATBOT_DATA_DIR": str(data_dir)}
    proc = subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_ingest_and_search_json(tmp_path, corpus_copy):
    (corpus_copy / "bad.txt").write_bytes(b"\xff\xfe\xfa not utf-8")
    first = json.loads(run("ingest", str(corpus_copy), "--json", data_dir=tmp_path / "d").stdout)
    assert set(first) == {"files", "chunks_added", "chunks_unchanged", "chunks_removed", "skipped", "documents"}
    assert first["files"] == 2 and first["chunks_added"] > 0
    # The CLI reports each skipped file with the loader's own reason for it.
    expected = [{"path": s.path, "reason": s.reason} for s in load_documents([corpus_copy])[1]]
    assert first["skipped"] == expected and [s["path"] for s in expected] == [str(corpus_copy / "bad.txt")]
    assert "UTF-8" in first["skipped"][0]["reason"]

    again = json.loads(run("ingest", str(corpus_copy), "--json", data_dir=tmp_path / "d").stdout)
    assert again["chunks_added"] == 0 and again["chunks_unchanged"] == first["chunks_added"]

    out = json.loads(run("search", "なぜOpenAIはTrainiumではなくNVIDIAを選んだのか", "--json", "-k", "3",
                         data_dir=tmp_path / "d").stdout)
    results = out["results"]
    assert [r["rank"] for r in results] == [1, 2, 3]
    assert set(results[0]) == {"rank", "doc_id", "title", "source", "chunk_id", "text", "score",
                               "page", "page_end", "pages"}
    assert (results[0]["page"], results[0]["page_end"], results[0]["pages"]) == (None, None, [])  # not a PDF
    assert any("CUDA" in r["text"] for r in results)


@pytest.mark.parametrize("args, message", [
    (("search", "OpenAI"), "Ingest articles first"),
    (("search", "   "), "question is empty"),
])
def test_errors_are_one_line_and_exit_nonzero(tmp_path, args, message):
    proc = run(*args, data_dir=tmp_path / "empty", check=False)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unknown_model_is_a_clear_error(tmp_path):
    proc = run("models", "no-such-model", data_dir=tmp_path, check=False)
    assert proc.returncode == 1 and "Unknown packaged model" in proc.stderr
