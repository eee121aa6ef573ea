"""The records and the Sources list that the API, the MCP server and the runnable show, from a
real answer (scripted model) over a real store holding an article with a full byline."""

from chatbot import Chatbot
from chatbot.views import answer_view, with_sources, without_sources
from conftest import ScriptedChatModel
from helpers import DATED_ARTICLE


def test_sources_list_shows_title_publisher_date_and_the_cited_sentence(settings, e5, tmp_path):
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "kawasemi.md").write_text(DATED_ARTICLE, encoding="utf-8")
    bot = Chatbot(settings, embeddings=e5, chat_model=ScriptedChatModel(replies=["はい", "12億円です[1]。"]))
    bot.ingest(tmp_path / "news")
    view = answer_view(bot.ask("カワセミ・ロボティクスはシリーズBでいくら調達しましたか？"))
    assert not view.refused and view.citations
    (cited,) = {c.quote for c in view.citations}
    assert cited == "物流ロボットを開発するカワセミ・ロボティクスは、シリーズBで12億円を調達したと発表した。"
    text = with_sources(view)
    assert text.startswith(view.answer + "\n\n出典:\n")
    assert f"- [1] カワセミ・ロボティクスの資金調達 — テスト通信, 2026-11-20: 「{cited}」" in text.splitlines()
    assert without_sources(text) == view.answer
    assert view.citations[0].passage[view.citations[0].start:view.citations[0].end] == cited
