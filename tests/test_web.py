"""The web chat in a real browser: Debian's Chromium driven by Playwright, against ``app.py``
running on 127.0.0.1 with the real default local model (the 0.5B one mostly copies a source's
title, which the citation check does not count as an answer, so it refuses these questions).

Set ``CHATBOT_SCREENSHOT_DIR=docs`` to keep the screenshot of the answered chat for the README;
``CHATBOT_WEB_TEST_MODEL`` picks another model.
"""

import os
import shutil
from pathlib import Path

import pytest

from helpers import App

CHROMIUM = "/usr/bin/chromium"
MODEL = os.environ.get("CHATBOT_WEB_TEST_MODEL", "qwen2.5-coder-1.5b-instruct-q4_k_m")

pytestmark = [
    pytest.mark.browser, pytest.mark.llm,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium (.ci/run installs it)"),
]

XSS_ARTICLE = ("---\ntitle: \"<script>window.__pwned=1</script>電力の記事\"\npublisher: テスト\n---\n\n"
               "<img src=x onerror=\"window.__pwned=2\">ナデラ氏は、AIの最大の課題は電力不足だと語った。\n")
UPLOADED = ("---\ntitle: カワセミ・ロボティクスの資金調達\npublisher: テスト通信\npublished: 2026-11-20\n---\n\n"
            "物流ロボットを開発するカワセミ・ロボティクスは、シリーズBで12億円を調達したと発表した。"
            "調達した資金は、倉庫向けピッキングロボットの量産に使う。\n")


@pytest.fixture
def app_url(tmp_path, corpus_copy):
    (corpus_copy / "xss.md").write_text(XSS_ARTICLE, encoding="utf-8")
    app = App(tmp_path, {"CHATBOT_DATA_DIR": str(tmp_path / "data"), "CHATBOT_CORPUS_DIR": str(corpus_copy),
                         "CHATBOT_LLM_MODEL": MODEL}).start()
    yield app.url
    app.stop()


@pytest.fixture
def page(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                          "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(app_url)
        yield page
        browser.close()


def ask(page, question: str) -> None:
    from playwright.sync_api import expect

    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#sources .source, #sources .refusal").first).to_be_visible(timeout=300_000)


def test_chat_answers_with_a_highlighted_source(page, tmp_path):
    from playwright.sync_api import expect

    ask(page, "なぜOpenAIはTrainiumではなくNVIDIAを選んだのですか？")
    bot_message = page.locator("#chat .message.bot, #chat [data-testid='bot']").last
    expect(bot_message).to_contain_text("[1]")
    source = page.locator("#sources .source").first
    expect(source).to_contain_text("[1]")
    expect(source.locator("mark")).to_be_visible()  # the cited sentence is highlighted
    shots = Path(os.environ.get("CHATBOT_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "chat.png"), full_page=True)

    page.get_by_role("button", name="Clear conversation").click()
    expect(page.locator("#sources .source")).to_have_count(0)


def test_uploaded_article_is_answered(page, tmp_path):
    from playwright.sync_api import expect

    article = tmp_path / "kawasemi.md"
    article.write_text(UPLOADED, encoding="utf-8")
    bad = tmp_path / "notes.pdf"
    bad.write_bytes(b"%PDF-1.4")
    page.locator("#upload input[type=file]").set_input_files([str(article), str(bad)])
    status = page.locator("#upload-status textarea")
    page.wait_for_function(
        "() => (document.querySelector('#upload-status textarea')?.value || '').includes('ingested')",
        timeout=120_000)
    assert "notes.pdf: unsupported file type" in status.input_value()
    expect(page.get_by_text("カワセミ・ロボティクスの資金調達").first).to_be_visible()  # the articles panel

    ask(page, "カワセミ・ロボティクスはシリーズBでいくら調達しましたか？")
    expect(page.locator("#sources .source").first).to_contain_text("カワセミ・ロボティクス")


def test_markup_from_articles_and_chat_is_shown_as_text(page):
    from playwright.sync_api import expect

    # An article title holding a <script> tag is listed as text.
    expect(page.get_by_text("<script>window.__pwned=1</script>電力の記事").first).to_be_visible()
    # A chat message holding markup is shown as text, in the same component as the model's output.
    ask(page, "<img src=x onerror=window.__pwned=3>ナデラ氏はAIの最大の課題は何だと語った？")
    expect(page.locator("#chat").get_by_text("<img src=x onerror=window.__pwned=3>", exact=False)).to_be_visible()
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None  # nothing from the page content ran
