"""The web chat's article management in a real browser (Debian's Chromium driven by Playwright)
against one ``app.py`` on 127.0.0.1 with the real default local model: safe uploads, a PDF
answer whose source shows its page, and the remove button (with its confirmation) after which
the next answer no longer cites the removed article.

``CHATBOT_WEB_TEST_MODEL`` picks another model.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import CORPUS
from fixtures import news_pages as fx
from helpers import App

CHROMIUM = "/usr/bin/chromium"
MODEL = os.environ.get("CHATBOT_WEB_TEST_MODEL", "qwen2.5-coder-1.5b-instruct-q4_k_m")

pytestmark = [
    pytest.mark.browser, pytest.mark.llm,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium (make browser)"),
    pytest.mark.skipif(fx.font_path() is None, reason="needs fonts-ipafont-gothic (make browser)"),
]

JA_FILE = "toto-minato-battery.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One app for the module: the project's corpus plus a saved Shift_JIS news page and a PDF,
    uploads limited to 1 MB."""
    work = tmp_path_factory.mktemp("web-articles")
    corpus = work / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / JA_FILE).write_bytes(fx.ja_news_page())
    (corpus / "minato-2026q2-results.pdf").write_bytes(fx.report_pdf())
    app = App(work, {"CHATBOT_DATA_DIR": str(work / "data"), "CHATBOT_CORPUS_DIR": str(corpus),
                     "CHATBOT_LLM_MODEL": MODEL, "CHATBOT_UPLOAD_MAX_MB": "1"}).start()
    yield app, corpus, work
    app.stop()


@pytest.fixture(scope="module")
def page(site):
    from playwright.sync_api import sync_playwright

    app, _, _ = site
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                          "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(app.url)
        yield page
        browser.close()


def ask(page, question: str) -> str:
    """Ask in a fresh conversation; the text of the sources panel once the answer is checked."""
    from playwright.sync_api import expect

    page.get_by_role("button", name="Clear conversation").click()
    expect(page.locator("#sources .source, #sources .refusal")).to_have_count(0)
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#sources .source:not(.evidence), #sources .refusal").first).to_be_visible(timeout=600_000)
    return page.locator("#sources").inner_text()


def upload(page, *files: Path) -> str:
    page.locator("#upload input[type=file]").set_input_files([str(f) for f in files])
    page.wait_for_function(
        "() => (document.querySelector('#upload-status textarea')?.value || '').includes('ingested')",
        timeout=120_000)
    return page.locator("#upload-status textarea").input_value()


def test_uploads_never_overwrite_and_leave_no_failed_file(page, site, tmp_path):
    from playwright.sync_api import expect

    _, corpus, _ = site
    original = (corpus / "openai-aws-38b-deal.md").read_bytes()
    same_name = tmp_path / "openai-aws-38b-deal.md"
    same_name.write_text("---\ntitle: カワセミ・ロボティクスの資金調達\n---\n\n"
                         "物流ロボットを開発するカワセミ・ロボティクスは、シリーズBで12億円を調達した。\n", encoding="utf-8")
    scan = tmp_path / "scanned-notice.pdf"
    scan.write_bytes(fx.scanned_pdf())
    exe = tmp_path / "setup.exe"
    exe.write_bytes(b"MZ\x90\x00")
    status = upload(page, same_name, scan, exe)
    assert "saved as openai-aws-38b-deal-2.md (openai-aws-38b-deal.md exists)" in status
    assert "Skipped scanned-notice.pdf: no text layer" in status
    assert "Skipped setup.exe: unsupported file type" in status
    assert (corpus / "openai-aws-38b-deal.md").read_bytes() == original  # not overwritten
    assert sorted(p.name for p in corpus.iterdir()) == [
        "madman-openai-aws-power-shift.md", "minato-2026q2-results.pdf", "openai-aws-38b-deal-2.md",
        "openai-aws-38b-deal.md", JA_FILE]  # nothing of the failed files, no temporary copies
    expect(page.locator("#articles").get_by_text("カワセミ・ロボティクスの資金調達")).to_be_visible()

    big = tmp_path / "big.txt"
    big.write_text("あ" * 400_000, encoding="utf-8")  # 1.2 MB > the 1 MB limit of this app
    page.locator("#upload input[type=file]").set_input_files([str(big)])
    expect(page.get_by_text("exceed the maximum allowed size").first).to_be_visible(timeout=30_000)
    assert not (corpus / "big.txt").exists()


def test_side_panel_status_boxes_appear_only_with_a_message(page):
    from playwright.sync_api import expect

    page.reload()
    expect(page.locator("#articles")).to_be_visible()
    expect(page.locator("#remove-status")).to_be_hidden()  # nothing has happened: no empty boxes
    expect(page.locator("#upload-status")).to_be_hidden()
    page.locator("#remove-article").click()  # no article chosen
    expect(page.locator("#remove-status textarea")).to_have_value("Choose an article to remove first.",
                                                                   timeout=30_000)
    expect(page.locator("#upload-status")).to_be_hidden()


def test_answer_from_a_pdf_shows_the_page(page):
    from playwright.sync_api import expect

    ask(page, "ミナトセルSの量産はいつ、どこの工場で始まりますか？")
    source = page.locator("#sources .source:not(.evidence)").first
    expect(source).to_contain_text(fx.PDF_TITLE)
    expect(source).to_contain_text("p. 3")


def test_remove_button_asks_first_and_the_next_answer_no_longer_cites_the_article(page, site):
    from playwright.sync_api import expect

    _, corpus, _ = site
    question = "みなと電機が熊本県合志市に建設する全固体電池の新工場の投資額はいくらですか？"
    assert fx.JA_TITLE in ask(page, question)
    articles = page.locator("#articles")
    expect(articles.get_by_text(fx.JA_TITLE)).to_be_visible()

    def choose():
        page.locator("#article-pick input").click()
        page.get_by_role("option", name=fx.JA_TITLE).click()
        page.locator("#remove-article").click()
        expect(page.locator("#remove-yes")).to_be_visible()
        expect(page.locator("#remove-confirm").first).to_contain_text(f"Remove {fx.JA_TITLE}")
        expect(page.locator("#remove-confirm").first).to_contain_text(f"Its file {JA_FILE} is deleted")

    choose()
    page.locator("#remove-cancel").click()  # nothing happens without the confirmation
    expect(page.locator("#remove-yes")).to_be_hidden()
    expect(articles.get_by_text(fx.JA_TITLE)).to_be_visible()
    assert (corpus / JA_FILE).exists()

    choose()
    page.locator("#remove-yes").click()
    expect(page.locator("#remove-status textarea")).to_have_value(
        re.compile(rf"Removed corpus/{re.escape(JA_FILE)}: \d+ chunks, file deleted\."), timeout=30_000)
    expect(articles.get_by_text(fx.JA_TITLE)).to_have_count(0)
    expect(page.locator("#remove-yes")).to_be_hidden()
    assert not (corpus / JA_FILE).exists()  # it would come back at the next start otherwise

    assert fx.JA_TITLE not in ask(page, question)
