"""Real-world articles as files: saved news pages, Japanese encodings, PDFs (no index needed).

The pages and PDFs are built by ``tests/fixtures/news_pages/`` from the structure of real
news sites; the PDF tests need Debian's IPA Gothic font (installed by ``make browser``, which
``make test`` runs).
"""

import codecs
import io

import pytest

from chatbot.loaders import Document, Skipped, load_documents, load_file, normalize_text
from chatbot.loaders.encodings import decode_bytes
from chatbot.loaders.html import extract_html, fallback_html_text
from fixtures import news_pages as fx

needs_font = pytest.mark.skipif(fx.font_path() is None, reason="needs fonts-ipafont-gothic (make browser)")


def load(tmp_path, name, data):
    folder = tmp_path / "pages"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    return load_file(folder / name, folder)


def flat(text):
    return normalize_text(text).replace("\n", "")


def test_japanese_shift_jis_news_page_keeps_the_article_and_drops_the_chrome(tmp_path):
    doc = load(tmp_path, "toto.html", fx.ja_news_page())
    assert isinstance(doc, Document), doc
    for sentence in fx.JA_SENTENCES:
        assert normalize_text(sentence) in flat(doc.text)
    for junk in fx.JA_BOILERPLATE:
        assert normalize_text(junk) not in flat(doc.text), junk
    assert "\n\n" in doc.text  # paragraphs kept
    assert doc.title == fx.JA_TITLE  # og:title, not the <title> with the site's suffix
    assert doc.metadata["author"] == fx.JA_AUTHOR
    assert doc.metadata["published"] == fx.JA_PUBLISHED
    assert doc.metadata["url"] == fx.JA_URL
    assert doc.metadata["language"] == "ja"
    assert fx.JA_PUBLISHER in doc.metadata["publisher"]
    # declared Shift_JIS, decoded as CP932: the footer's ㈱ is a CP932-only character
    assert doc.details == {"format": "html", "encoding": "cp932", "encoding_source": "declared",
                           "declared_encoding": "shift_jis", "extractor": "trafilatura"}


def test_english_page_without_head_end_tag_is_read(tmp_path):
    data = fx.en_news_page()
    assert b"</head>" not in data and b"<body" not in data
    doc = load(tmp_path, "ledger.html", data)
    assert isinstance(doc, Document), doc
    for sentence in fx.EN_SENTENCES:
        assert sentence in flat(doc.text).replace("\n", " ")
    for junk in fx.EN_BOILERPLATE:
        assert junk not in doc.text, junk
    assert doc.title == fx.EN_TITLE
    assert (doc.metadata["author"], doc.metadata["publisher"]) == (fx.EN_AUTHOR, fx.EN_PUBLISHER)
    assert doc.metadata["published"] == fx.EN_PUBLISHED and doc.metadata["language"] == "en"
    assert doc.details["encoding"] == "utf-8"


def test_fallback_parser_survives_a_missing_head_end_tag_and_drops_page_chrome():
    """The parser used when trafilatura finds nothing: it used to lose the whole body of a page
    without </head>, and kept navigation and footers."""
    text, title = fallback_html_text(fx.en_news_page().decode("utf-8"))
    for sentence in fx.EN_SENTENCES:
        assert sentence in text.replace("\n", " ")
    for junk in ("Subscribe for $1 a week", "Harbor Ledger Media LLC. All rights reserved.",
                 "Port of Seattle reports record container volume", "We use cookies"):
        assert junk not in text, junk
    assert title == f"{fx.EN_TITLE} | {fx.EN_PUBLISHER}"


def test_page_that_trafilatura_cannot_read_goes_to_the_fallback(monkeypatch):
    import trafilatura

    def broken(*args, **kwargs):
        raise RuntimeError("extractor failed")

    monkeypatch.setattr(trafilatura, "bare_extraction", broken)
    article = extract_html(fx.en_news_page().decode("utf-8"))
    assert article.extractor == "fallback"
    assert fx.EN_SENTENCES[0] in article.text.replace("\n", " ")


def test_page_with_no_article_is_skipped_with_a_reason(tmp_path):
    result = load(tmp_path, "login.html", fx.login_wall_page())
    assert isinstance(result, Skipped)
    assert "no article text found" in result.reason


def test_front_matter_beats_the_page_metadata(tmp_path):
    page = ("---\ntitle: 編集部がつけた題\npublisher: 手入力の発行元\n---\n" + fx.en_news_page().decode()).encode()
    doc = load(tmp_path, "fm.html", page)
    assert doc.title == "編集部がつけた題" and doc.metadata["publisher"] == "手入力の発行元"
    assert doc.metadata["author"] == fx.EN_AUTHOR  # what the front matter does not say comes from the page


@pytest.mark.parametrize("name, data, encoding, source, sentence", [
    ("sakura.html", fx.euc_jp_page(), "euc_jp", "declared", fx.EUC_SENTENCE),
    ("hibari.txt", fx.iso2022_jp_text(), "iso2022_jp", "iso-2022-jp escapes", fx.ISO2022_SENTENCE),
    ("aoba.txt", fx.shift_jis_text(), "cp932", "detected", fx.SJIS_TEXT_SENTENCE),
    ("euc.txt", "日本語のお知らせです。来月から営業時間が変わります。".encode("euc_jp"), "euc_jp", "detected",
     "来月から営業時間が変わります。"),
    ("cp932.txt", "①株式会社㈱の記事です。ｶﾀｶﾅも少し。".encode("cp932"), "cp932", "detected", "の記事です。"),
    ("bom.txt", codecs.BOM_UTF8 + "BOM付きの記事です。".encode(), "utf-8", "bom", "BOM付きの記事です。"),
    ("utf16.txt", "UTF-16の記事です。".encode("utf-16"), "utf-16", "bom", "UTF-16の記事です。"),
])
def test_japanese_encodings_are_decoded_and_recorded(tmp_path, name, data, encoding, source, sentence):
    doc = load(tmp_path, name, data)
    assert isinstance(doc, Document), doc
    assert normalize_text(sentence) in doc.text
    assert (doc.details["encoding"], doc.details["encoding_source"]) == (encoding, source)


def test_plain_text_title_is_its_headline_line(tmp_path):
    assert load(tmp_path, "hibari.txt", fx.iso2022_jp_text()).title == fx.ISO2022_TITLE


@pytest.mark.parametrize("data", [
    "Café au lait, crème brûlée.".encode("latin-1"),  # Western European, undeclared
    bytes(range(0x80, 0x100)) * 8,  # no text in any encoding
    b"\xff\xfe\xfa not utf-8",
])
def test_undecodable_files_are_skipped_with_a_reason(tmp_path, data):
    result = load(tmp_path, "x.txt", data)
    assert isinstance(result, Skipped)
    assert "not UTF-8 and not a Japanese encoding" in result.reason and "offset" in result.reason


def test_declared_encoding_with_a_stray_bad_byte_is_kept():
    body = ("<html><head><meta charset='shift_jis'></head><body><p>" + "記事の本文です。" * 200 + "</p></body></html>")
    raw = body.encode("cp932").replace("本文".encode("cp932"), b"\x81\xff", 1)  # one broken character
    decoded = decode_bytes(raw, "shift_jis")
    assert decoded.encoding == "cp932" and decoded.replaced == 1


def test_western_page_that_declares_its_encoding_is_read(tmp_path):
    page = "<html><head><meta charset=iso-8859-1><title>Caf\xe9</title></head><body><p>Le caf\xe9 est tr\xe8s bon.</p>"
    doc = load(tmp_path, "fr.html", page.encode("latin-1"))
    assert "Le café est très bon." in doc.text and doc.details["encoding"] == "cp1252"


@needs_font
def test_pdf_text_by_page_with_lines_joined_and_running_header_removed(tmp_path):
    doc = load(tmp_path, "report.pdf", fx.report_pdf())
    assert isinstance(doc, Document), doc
    assert doc.title == fx.PDF_TITLE and doc.metadata["language"] == "ja"
    assert doc.details == {"format": "pdf", "extractor": "pypdf", "pages": 3, "pages_with_text": 3}
    assert [n for n, _, _ in doc.pages] == [1, 2, 3]
    for sentence, page in fx.PDF_SENTENCES:
        at = doc.text.find(normalize_text(sentence))
        assert at >= 0, sentence  # wrapped lines were joined back into whole sentences
        assert doc.page_at(at) == page
    assert fx.PDF_HEADER not in doc.text  # the running header of every page
    assert "- 2 -" not in doc.text  # page numbers
    assert "2. セグメント別の状況\n\n" in doc.text  # a heading stays its own paragraph


@needs_font
def test_pdf_without_a_metadata_title_is_titled_by_its_running_header(tmp_path):
    doc = load(tmp_path, "report.pdf", fx.report_pdf(with_title=False))
    assert isinstance(doc, Document), doc
    assert doc.title == fx.PDF_HEADER  # not the first body line (「2026年度 第2四半期 決算説明資料」)
    assert fx.PDF_HEADER not in doc.text  # still dropped from every page


def test_a_page_number_is_never_a_pdf_title(tmp_path):
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    pages = [["Harbour district figures", "Cargo rose by a tenth this quarter.", "Rents held steady."],
             ["Ferry traffic fell in the storms.", "The new quay opens in spring.", "Staff numbers grew."]]
    for n, lines in enumerate(pages, start=1):
        c.drawString(72, 800, f"- {n} -")
        for i, line in enumerate(lines):
            c.drawString(72, 700 - 40 * i, line)
        c.showPage()
    c.save()
    doc = load(tmp_path, "figures.pdf", buf.getvalue())
    assert isinstance(doc, Document), doc
    assert doc.title == "Harbour district figures"  # the first line, not the repeated page number


@needs_font
def test_scanned_pdf_without_text_layer_is_skipped(tmp_path):
    result = load(tmp_path, "scan.pdf", fx.scanned_pdf())
    assert isinstance(result, Skipped)
    assert "no text layer" in result.reason and "OCR" in result.reason


@needs_font
def test_password_protected_pdf_is_skipped(tmp_path):
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt="secret")
    c.drawString(72, 720, "Confidential quarterly numbers.")
    c.save()
    result = load(tmp_path, "locked.pdf", buf.getvalue())
    assert isinstance(result, Skipped) and ("password" in result.reason or "encryption" in result.reason)


def test_broken_pdf_is_skipped(tmp_path):
    assert "no %PDF- header" in load(tmp_path, "a.pdf", b"hello").reason
    assert "not a readable PDF" in load(tmp_path, "b.pdf", b"%PDF-1.4\n%%EOF").reason


@needs_font
def test_fixture_folder_loads_every_article_and_skips_only_the_scan(tmp_path):
    fx.write_all(tmp_path / "articles")
    docs, skipped = load_documents([tmp_path / "articles"])
    assert len(docs) == 6
    assert [s.path.rsplit("/", 1)[-1] for s in skipped] == ["scanned-notice.pdf"]
