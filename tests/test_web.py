"""The web chat in a real browser: Debian's Chromium driven by Playwright, against ``app.py``
running on 127.0.0.1 with the real default local model (the 0.5B one mostly copies a source's
title, which the citation check does not count as an answer, so it refuses these questions).

One ``app.py`` serves the whole module (the ``web_app`` fixture: the 1.5B model loads once), behind
the optional login (CHATBOT_AUTH, here a file of ``user:password`` lines). Each test gets its own
logged-in browser context from the ``page`` fixture, so chats and cookies are its own; the
articles are shared, so a test that adds one adds it for the tests after it. The screenshot
test comes first and sees the project's corpus only.

Set ``CHATBOT_SCREENSHOT_DIR=docs`` to keep the screenshot of the answered chat for the README;
``CHATBOT_WEB_TEST_MODEL`` picks another model.
"""

import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import CORPUS
from helpers import App

CHROMIUM = "/usr/bin/chromium"
MODEL = os.environ.get("CHATBOT_WEB_TEST_MODEL", "qwen2.5-coder-1.5b-instruct-q4_k_m")
LOGIN = ("editor", "pa:ss-in-a-test")  # a password may hold ":"

pytestmark = [
    pytest.mark.browser, pytest.mark.llm,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium (.ci/run installs it)"),
]

XSS_ARTICLE = ("---\ntitle: \"<script>window.__pwned=1</script>電力の記事\"\npublisher: テスト\n---\n\n"
               "<img src=x onerror=\"window.__pwned=2\">ナデラ氏は、AIの最大の課題は電力不足だと語った。\n")
UPLOADED = ("---\ntitle: カワセミ・ロボティクスの資金調達\npublisher: テスト通信\npublished: 2026-11-20\n---\n\n"
            "物流ロボットを開発するカワセミ・ロボティクスは、シリーズBで12億円を調達したと発表した。"
            "調達した資金は、倉庫向けピッキングロボットの量産に使う。\n")


@pytest.fixture(scope="module")
def web_app(tmp_path_factory):
    """``app.py`` for the whole module: a copy of the project's corpus, the login from a file."""
    root = tmp_path_factory.mktemp("web")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    logins = root / "logins"
    logins.write_text(f"# who may use the chat\n{LOGIN[0]}:{LOGIN[1]}\n", encoding="utf-8")
    app = App(root, {"CHATBOT_DATA_DIR": str(root / "data"), "CHATBOT_CORPUS_DIR": str(corpus),
                     "CHATBOT_LLM_MODEL": MODEL, "CHATBOT_AUTH": str(logins)}).start()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                          "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


def new_page(browser, url: str):
    """A fresh browser context (its own cookies: not logged in) on the app's address."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100}, locale="en-US")
    page = context.new_page()
    page.goto(url)
    return page


def log_in(page, user: str, password: str) -> None:
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()


@pytest.fixture
def page(browser, web_app):
    """A logged-in page of its own on the module's app (tests that need the chat use this)."""
    from playwright.sync_api import expect

    page = new_page(browser, web_app.url)
    log_in(page, *LOGIN)
    expect(page.locator("#question textarea")).to_be_visible(timeout=60_000)
    yield page
    page.context.close()


def ask(page, question: str) -> None:
    from playwright.sync_api import expect

    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    # The final sources (citations or a refusal), not the evidence shown while the model writes.
    expect(page.locator("#sources .source:not(.evidence), #sources .refusal").first).to_be_visible(timeout=300_000)


def upload(page, *files: Path) -> str:
    """Add files through the upload box; the upload status once it reports the ingest."""
    page.locator("#upload input[type=file]").set_input_files([str(f) for f in files])
    page.wait_for_function(
        "() => (document.querySelector('#upload-status textarea')?.value || '').includes('ingested')",
        timeout=120_000)
    return page.locator("#upload-status textarea").input_value()


def test_chat_answers_with_a_highlighted_source(page, tmp_path):
    from playwright.sync_api import expect

    ask(page, "OpenAIとAWSの契約の規模はどのくらいですか？")
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


WATCH_EVIDENCE = """() => {
  // Not yet an answer: empty, the placeholder, Gradio's pending text, or the "sources found" label.
  const label = (t) => t === '' || t === '…' || t.startsWith('Loading') || t.startsWith('根拠が見つかりました')
    || t.startsWith('Sources found');
  window.__events = [];
  new MutationObserver(() => {
    const now = performance.now();
    if (!window.__evidenceAt && document.querySelector('#evidence')) window.__evidenceAt = now;
    const bots = document.querySelectorAll("#chat .message.bot, #chat [data-testid='bot']");
    const text = bots.length ? bots[bots.length - 1].innerText.trim() : '';
    if (!window.__answerAt && bots.length && !label(text)) { window.__answerAt = now; window.__firstText = text; }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def test_evidence_is_shown_before_the_first_answer_token(page):
    from playwright.sync_api import expect

    page.evaluate(WATCH_EVIDENCE)
    box = page.locator("#question textarea")
    box.fill("OpenAIとAWSの契約の規模はどのくらいですか？")
    box.press("Enter")
    expect(page.locator("#evidence")).to_be_visible(timeout=120_000)
    expect(page.locator("#evidence")).to_contain_text("[1]")  # numbered evidence sentences
    expect(page.locator("#sources .source:not(.evidence), #sources .refusal").first).to_be_visible(timeout=300_000)
    evidence_at, answer_at = page.evaluate("[window.__evidenceAt, window.__answerAt]")
    assert evidence_at is not None and answer_at is not None, page.evaluate("window.__firstText")
    assert evidence_at < answer_at, page.evaluate("window.__firstText")  # evidence before the first answer word


def test_login_is_required_and_a_wrong_password_is_refused(browser, web_app):
    from playwright.sync_api import expect

    # Without the session cookie the app's API answers nothing.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(web_app.url + "config", timeout=30)
    assert refused.value.code == 401
    form = urllib.parse.urlencode({"username": LOGIN[0], "password": "wrong"}).encode()
    with pytest.raises(urllib.error.HTTPError) as wrong:
        urllib.request.urlopen(web_app.url + "login", data=form, timeout=30)
    assert wrong.value.code == 400

    page = new_page(browser, web_app.url)
    try:
        log_in(page, LOGIN[0], "wrong")
        expect(page.get_by_text("Incorrect Credentials")).to_be_visible(timeout=30_000)
        expect(page.locator("#question")).to_have_count(0)  # still the login form, no chat
        log_in(page, "someone-else", LOGIN[1])
        expect(page.get_by_text("Incorrect Credentials")).to_be_visible(timeout=30_000)
        expect(page.locator("#question")).to_have_count(0)

        log_in(page, *LOGIN)
        expect(page.locator("#question textarea")).to_be_visible(timeout=60_000)
        cookies = {c["name"] for c in page.context.cookies()}
        assert any(name.startswith("access-token") for name in cookies)
    finally:
        page.context.close()


def test_uploaded_article_is_answered(page, tmp_path):
    from playwright.sync_api import expect

    article = tmp_path / "kawasemi.md"
    article.write_text(UPLOADED, encoding="utf-8")
    bad = tmp_path / "notes.exe"
    bad.write_bytes(b"MZ\x90\x00")
    status = upload(page, article, bad)
    assert "notes.exe: unsupported file type" in status
    expect(page.get_by_text("カワセミ・ロボティクスの資金調達").first).to_be_visible()  # the articles panel

    ask(page, "カワセミ・ロボティクスはシリーズBでいくら調達しましたか？")
    expect(page.locator("#sources .source").first).to_contain_text("カワセミ・ロボティクス")


def test_markup_from_articles_and_chat_is_shown_as_text(page, tmp_path):
    from playwright.sync_api import expect

    xss = tmp_path / "xss.md"
    xss.write_text(XSS_ARTICLE, encoding="utf-8")
    upload(page, xss)
    # An article title holding a <script> tag is listed as text.
    expect(page.get_by_text("<script>window.__pwned=1</script>電力の記事").first).to_be_visible()
    # A chat message holding markup is shown as text, in the same component as the model's output.
    ask(page, "<img src=x onerror=window.__pwned=3>ナデラ氏はAIの最大の課題は何だと語った？")
    expect(page.locator("#chat").get_by_text("<img src=x onerror=window.__pwned=3>", exact=False)).to_be_visible()
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None  # nothing from the page content ran


def test_english_answer_is_in_english_with_the_original_one_click_away(page):
    """An English question over Japanese articles: the quote is shown translated, and the original
    Japanese sentence sits under it in a collapsed <details> that one click opens."""
    from playwright.sync_api import expect

    from chatbot.text import language_of

    ask(page, "Why did OpenAI sign a cloud deal with AWS?")  # a web chat example
    bot_message = page.locator("#chat .message.bot, #chat [data-testid='bot']").last
    expect(bot_message).to_contain_text("From the article (translated)")
    lead = bot_message.inner_text().strip().partition("\n")[0]
    assert language_of(lead) == "en", lead
    original = bot_message.locator("details.original").first
    expect(original).to_be_attached()
    assert original.evaluate("d => !d.open")  # collapsed: the English reader sees English first
    original.locator("summary").click()
    assert original.evaluate("d => d.open")
    text = original.inner_text()
    assert "Original sentence" in text and language_of(text.partition("」")[0].split("「")[-1]) == "ja", text
