"""Real-world articles through the index: a folder of the corpus articles plus saved news
pages and PDFs ingests with `chatbot ingest --json`, boilerplate never becomes a chunk, PDF
passages know their page, and `chatbot list` / `chatbot remove` / ``Chatbot.remove`` manage
what is in the index. Real Chroma store in a temp dir, real e5 embedder; no LLM."""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from chatbot import Chatbot
from chatbot.cli import build_parser, cmd_ask
from chatbot.loaders import normalize_text
from chatbot.errors import DocumentNotFoundError
from fixtures import news_pages as fx

BIN = Path(sys.executable).parent / "chatbot"
pytestmark = pytest.mark.skipif(fx.font_path() is None, reason="needs fonts-ipafont-gothic (make browser)")

BOILERPLATE = fx.JA_BOILERPLATE + fx.EN_BOILERPLATE + fx.EUC_BOILERPLATE
PDF_ID = "corpus/saved/minato-2026q2-results.pdf"


def cli(*args, data_dir, check=True):
    env = {**os.environ, "CHATBOT_DATA_DIR": str(data_dir)}
    proc = subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def articles(tmp_path_factory):
    """The project's two articles plus the fixture pages and PDFs, in one corpus folder."""
    import shutil

    from conftest import CORPUS

    corpus = tmp_path_factory.mktemp("articles") / "corpus"
    shutil.copytree(CORPUS, corpus)
    fx.write_all(corpus / "saved")
    return corpus


@pytest.fixture(scope="module")
def ingested(articles, tmp_path_factory):
    """`chatbot ingest --json` over the folder, as a user runs it; the data dir and its report."""
    data = tmp_path_factory.mktemp("data")
    report = json.loads(cli("ingest", str(articles), "--json", data_dir=data).stdout)
    return data, report


@pytest.fixture(scope="module")
def article_bot(ingested, e5):
    from chatbot import Settings

    return Chatbot(Settings(data_dir=ingested[0]), embeddings=e5)


def test_every_article_ingests_with_its_encoding_and_the_scan_is_skipped(ingested):
    _, report = ingested
    assert report["files"] == 8 and report["chunks_added"] > 20
    assert [(Path(s["path"]).name, "no text layer" in s["reason"]) for s in report["skipped"]] == \
        [("scanned-notice.pdf", True)]
    details = {Path(d["path"]).name: d for d in report["documents"]}
    assert {name: (d["format"], d.get("encoding"), d.get("encoding_source")) for name, d in details.items()} == {
        "openai-aws-38b-deal.md": ("markdown", "utf-8", "utf-8"),
        "madman-openai-aws-power-shift.md": ("markdown", "utf-8", "utf-8"),
        "toto-minato-battery.html": ("html", "cp932", "declared"),
        "harbor-ledger-northwind.html": ("html", "utf-8", "declared"),
        "sakura-library.html": ("html", "euc_jp", "declared"),
        "hibari-press-release.txt": ("text", "iso2022_jp", "iso-2022-jp escapes"),
        "aoba-chat.txt": ("text", "cp932", "detected"),
        "minato-2026q2-results.pdf": ("pdf", None, None),
    }
    assert details["minato-2026q2-results.pdf"]["pages"] == 3
    assert details["toto-minato-battery.html"]["extractor"] == "trafilatura"
    assert {d["status"] for d in report["documents"]} == {"added"}


def test_no_boilerplate_is_found_and_the_articles_are(article_bot):
    _, texts, metas = article_bot.store.all_texts()
    stored = normalize_text("\n".join(texts)).replace("\n", "")
    for junk in BOILERPLATE:
        hits = article_bot.search(junk, k=5)
        assert not any(normalize_text(junk) in normalize_text(r.text).replace("\n", "") for r in hits), junk
        assert normalize_text(junk) not in stored, junk
    for sentence in fx.JA_SENTENCES + [fx.EUC_SENTENCE, fx.ISO2022_SENTENCE, fx.SJIS_TEXT_SENTENCE]:
        assert normalize_text(sentence) in stored, sentence
    for sentence in fx.EN_SENTENCES:
        assert sentence in " ".join(texts), sentence
    by_title = {m.title: m for m in metas}
    ja = by_title[fx.JA_TITLE]
    assert (ja.author, ja.published, ja.url, ja.language) == \
        (fx.JA_AUTHOR, fx.JA_PUBLISHED, fx.JA_URL, "ja")


def test_search_cli_finds_the_article_not_the_menu(ingested):
    data, _ = ingested
    out = json.loads(cli("search", "有料会員登録はこちら", "--json", "-k", "5", data_dir=data).stdout)
    assert out["results"] and not any("有料会員登録" in r["text"] for r in out["results"])
    out = json.loads(cli("search", "みなと電機の新工場の投資額", "--json", "-k", "3", data_dir=data).stdout)
    assert out["results"][0]["title"] == fx.JA_TITLE


def test_search_says_which_pdf_page_a_result_is_on(ingested):
    data, _ = ingested
    out = json.loads(cli("search", "ミナトセルSの量産はいつどこで始まりますか", "--json", "-k", "5", data_dir=data).stdout)
    top = out["results"][0]
    assert top["doc_id"].endswith(".pdf") and fx.PDF_PAGE3_SENTENCE in top["text"]
    assert 3 in top["pages"] and top["page"] == top["pages"][0]
    assert top["page_end"] in (None, top["pages"][-1])
    html = next(r for r in out["results"] if not r["doc_id"].endswith(".pdf"))
    assert (html["page"], html["page_end"], html["pages"]) == (None, None, [])
    text = cli("search", "ミナトセルSの量産はいつどこで始まりますか", "-k", "1", data_dir=data).stdout
    assert ", p. 3) score=" in text or ", pp. 2–3) score=" in text


def test_pdf_passages_carry_their_page(article_bot):
    results = article_bot.search("ミナトセルSの量産はいつどこで始まりますか", k=3)
    top = results[0]
    assert top.doc_id == PDF_ID and fx.PDF_PAGE3_SENTENCE in top.text
    at = top.text.index(fx.PDF_PAGE3_SENTENCE)
    assert top.page_at(at) == 3  # the cited sentence's own page
    assert top.page_label in ("p. 3", "pp. 2–3")
    assert top.to_dict()["page"] == top.page and top.to_dict()["pages"] == top.pages and 3 in top.pages
    metas = [m for m in article_bot.store.all_metadata().values() if m.doc_id == PDF_ID]
    assert {m.page for m in metas} <= {1, 2, 3} and all(m.format == "pdf" for m in metas)
    for m in metas:
        if m.page_end:
            assert m.page_starts and all(m.start < start < m.end for _, start in m.page_starts)


def test_ask_prints_the_page_of_a_pdf_citation(article_bot, capsys):
    """`chatbot ask`'s citation lines show the page (the checked answer itself comes from the
    chain; here a stand-in answer cites the top passage, so no model is needed)."""
    top = article_bot.search("ミナトセルSの量産はどこで始まりますか", k=1)[0]
    citation = SimpleNamespace(n=1, title=top.title, doc_id=top.doc_id, chunk_id=top.chunk_id,
                               quote=fx.PDF_PAGE3_SENTENCE, page=top.page_at(top.text.index(fx.PDF_PAGE3_SENTENCE)))
    answer = SimpleNamespace(text="彦根工場で始めます[1]。", citations=[citation], sources=[top], refused=False,
                             language="ja")
    bot = SimpleNamespace(stream=lambda question, history: iter(["彦根", answer]))
    args = build_parser().parse_args(["ask", "ミナトセルSの量産はどこで始まりますか"])
    assert cmd_ask(args, bot) == 0
    assert f"[1] {fx.PDF_TITLE} ({PDF_ID}, p. 3)" in capsys.readouterr().out
    # An English answer cites the Japanese sentence: it is quoted in the marks of its own language.
    answer.language = "en"
    assert cmd_ask(build_parser().parse_args(["ask", "Where will mass production start?"]), bot) == 0
    assert f"    「{fx.PDF_PAGE3_SENTENCE}」" in capsys.readouterr().out


def test_list_and_remove_through_the_cli(articles, tmp_path):
    data = tmp_path / "data"
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "toto.html").write_bytes(fx.ja_news_page())
    (folder / "report.pdf").write_bytes(fx.report_pdf())
    cli("ingest", str(folder), data_dir=data)

    listed = json.loads(cli("list", "--json", data_dir=data).stdout)["documents"]
    rows = {d["doc_id"]: d for d in listed}
    assert set(rows) == {"news/toto.html", "news/report.pdf"}
    toto = rows["news/toto.html"]
    assert (toto["title"], toto["published"], toto["source"]) == (fx.JA_TITLE, fx.JA_PUBLISHED, str(folder / "toto.html"))
    assert fx.JA_PUBLISHER in toto["publisher"] and toto["chunks"] >= 1 and toto["ingested_at"].endswith("+00:00")
    assert rows["news/report.pdf"]["pages"] == 3 and rows["news/report.pdf"]["format"] == "pdf"
    text = cli("list", data_dir=data).stdout
    assert "news/toto.html" in text and fx.JA_TITLE in text and "2 articles" in text

    # by doc id: chunks go, the file stays
    out = json.loads(cli("remove", "news/toto.html", "--json", data_dir=data).stdout)
    assert out["doc_id"] == "news/toto.html" and out["chunks_removed"] == toto["chunks"]
    assert not out["file_deleted"] and (folder / "toto.html").exists()
    # by path, with the file
    out = cli("remove", str(folder / "report.pdf"), "--delete-file", data_dir=data).stdout
    assert "removed news/report.pdf" in out and "deleted" in out and not (folder / "report.pdf").exists()
    assert json.loads(cli("list", "--json", data_dir=data).stdout)["documents"] == []

    proc = cli("remove", "news/nope.html", data_dir=data, check=False)
    assert proc.returncode == 1 and "No ingested article" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_chatbot_remove_api_and_search_no_longer_finds_it(bot, tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "ledger.html").write_bytes(fx.en_news_page())
    (folder / "aoba.txt").write_bytes(fx.shift_jis_text())
    bot.ingest(folder)
    assert bot.search("Northwind robots Tacoma warehouse", k=1)[0].doc_id == "corpus/ledger.html"
    result = bot.remove("corpus/ledger.html")
    assert result.chunks_removed >= 1 and result.file_deleted is False
    assert all(r.doc_id != "corpus/ledger.html" for r in bot.search("Northwind robots Tacoma warehouse", k=5))
    assert [d.doc_id for d in bot.documents()] == ["corpus/aoba.txt"]
    with pytest.raises(DocumentNotFoundError):
        bot.remove("corpus/ledger.html")
    # re-ingesting the folder brings it back (the file stayed)
    assert bot.ingest(folder).chunks_added >= 1


def test_reingest_after_a_loader_change_rewrites_metadata_not_embeddings(bot, tmp_path, monkeypatch):
    import chatbot.ingest as ingest_mod

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "report.pdf").write_bytes(fx.report_pdf())
    first = bot.ingest(folder)
    monkeypatch.setattr(ingest_mod, "LOADER_VERSION", 99)
    again = bot.ingest(folder)
    assert again.chunks_added == 0 and again.chunks_unchanged == first.chunks_added
    assert again.documents[0]["status"] == "updated"
