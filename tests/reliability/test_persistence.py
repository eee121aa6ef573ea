"""Stop and restart the app: the index is still there and nothing is re-embedded."""

import re

import pytest

from helpers import App


@pytest.mark.server
def test_restart_keeps_the_index_and_embeds_nothing(tmp_path, corpus_copy):
    env = {"CHATBOT_DATA_DIR": str(tmp_path / "data"), "CHATBOT_CORPUS_DIR": str(corpus_copy),
           "CHATBOT_LLM_MODEL": "qwen2.5-coder-0.5b-instruct-q4", "CHATBOT_TOP_K": "7"}
    first = App(tmp_path, env).start()
    first.stop()
    added = int(re.search(r"corpus: 2 files, (\d+) chunks added, 0 unchanged", first.log()).group(1))
    assert added > 0

    second = App(tmp_path, env).start()
    try:
        assert f"corpus: 2 files, 0 chunks added, {added} unchanged" in second.log()
    finally:
        second.stop()
