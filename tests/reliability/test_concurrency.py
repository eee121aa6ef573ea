"""Four conversations at once against the running web app on 127.0.0.1 (Gradio's own client):
none fails, none sees another's history; the one local model is shared behind its lock."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import App

pytestmark = [pytest.mark.llm, pytest.mark.server]

CONVERSATIONS = [
    ("OpenAIとAWSの契約の規模はどのくらいですか？", "その契約は何年間ですか？"),
    ("ナデラCEOはAIの課題について何と言っていますか？", "それは誰との対談ですか？"),
    ("Why did OpenAI choose NVIDIA over Trainium?", "Which GPUs does AWS provide?"),
    ("ソフトバンクはOpenAIにいくら出資しましたか？", "それはいつですか？"),
]


@pytest.fixture
def app(tmp_path, corpus_copy):
    app = App(tmp_path, {"CHATBOT_DATA_DIR": str(tmp_path / "data"), "CHATBOT_CORPUS_DIR": str(corpus_copy),
                         "CHATBOT_LLM_MODEL": "qwen2.5-coder-0.5b-instruct-q4"}).start()
    yield app
    app.stop()


def converse(url: str, turns: tuple[str, str]) -> list[dict]:
    from gradio_client import Client

    client = Client(url, verbose=False)
    history: list = []
    for question in turns:
        history, sources, box = client.predict(question, history, 5, api_name="/respond")
        assert box == ""
    return history


def text(content) -> str:
    """Message text (Gradio's client returns a list of parts)."""
    return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)


def test_four_simultaneous_conversations_stay_apart(app):
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda turns: converse(app.url, turns), CONVERSATIONS))
    for turns, history in zip(CONVERSATIONS, results):
        users = [text(m["content"]) for m in history if m["role"] == "user"]
        assert users == list(turns)  # exactly this conversation's questions, in order
        answers = [text(m["content"]) for m in history if m["role"] == "assistant"]
        assert len(answers) == 2 and all(a and a != "…" for a in answers)
    assert "Traceback" not in app.log()
