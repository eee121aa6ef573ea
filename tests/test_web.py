"""The web page in a real browser: Debian's Chromium driven by Playwright, on 127.0.0.1."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url(tmp_path, corpus_copy):
    (corpus_copy / "xss.md").write_text(
        "# <script>window.__pwned=1</script>タイトル\n\n<img src=x onerror=\"window.__pwned=2\">"
        "電力の記事です。ナデラ氏は電力不足を語った。\n", encoding="utf-8")
    port = free_port()
    env = {**os.environ, "CHATBOT_DATA_DIR": str(tmp_path / "data"), "CHATBOT_CORPUS_DIR": str(corpus_copy),
           "CHATBOT_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    subprocess.run([str(Path(sys.executable).parent / "chatbot"), "ingest"], env=env, check=True,
                   capture_output=True, timeout=600)
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("app.py did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.mark.browser
@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium (.ci/run installs it)")
def test_search_shows_passages_as_text(app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page()
        page.goto(app_url)
        box = page.get_by_label("Question")
        box.fill("なぜOpenAIはTrainiumではなくNVIDIAを選んだのか")
        box.press("Enter")
        expect(page.locator(".hit").first).to_be_visible(timeout=60_000)
        expect(page.locator(".hit", has_text="CUDA").first).to_be_visible()
        page.screenshot(path=str(tmp_path / "search.png"))

        box.fill("ナデラ氏の電力の記事")
        box.press("Enter")
        expect(page.locator(".hit", has_text="<script>").first).to_be_visible(timeout=60_000)
        assert page.evaluate("window.__pwned") is None  # markup in articles is shown, never run
        browser.close()
