"""``python -m bench.extractors``: which library extracts saved news pages and PDFs best.

HTML: the test fixture pages (tests/fixtures/news_pages/: a Japanese Shift_JIS page, an
English HTML5 page without ``</head>``, a small EUC-JP page), each also in a "div soup" variant
with every semantic tag (article, header, nav, aside, footer, main, section) renamed to ``div``
as on older sites. Per extractor: share of the article's sentences found (recall), boilerplate
strings leaked (menu, share bar, related links, ads, comments, footer), and time per page.

PDF: the generated three-page Japanese report, per parser: share of sentences found after
line joining, on the right page, running header/page numbers left over, and time.

Libraries not installed are reported as such (readability-lxml, pdfminer.six and pypdfium2
are not project dependencies; install them into the venv to re-run the comparison).
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fixtures import news_pages as fx  # noqa: E402

from chatbot.loaders import normalize_text  # noqa: E402

SEMANTIC = re.compile(r"<(/?)(article|header|nav|aside|footer|main|section)\b", re.I)


def _pages() -> list[tuple[str, str, list[str], list[str]]]:
    base = [
        ("ja_sjis", fx.ja_news_page().decode("cp932"), fx.JA_SENTENCES, fx.JA_BOILERPLATE),
        ("en_no_head_end", fx.en_news_page().decode("utf-8"), fx.EN_SENTENCES, fx.EN_BOILERPLATE),
        ("ja_euc", fx.euc_jp_page().decode("euc_jp"), [fx.EUC_SENTENCE], fx.EUC_BOILERPLATE),
    ]
    soup = [(f"{name}_divs", SEMANTIC.sub(r"<\1div", html), s, b) for name, html, s, b in base]
    return base + soup


def _trafilatura(precision: bool = False, recall: bool = False):
    import trafilatura

    def run(html: str) -> str:
        return trafilatura.extract(html, include_comments=False, include_tables=True, favor_precision=precision,
                                   favor_recall=recall, deduplicate=False) or ""
    return run


def _project(html: str) -> str:
    from chatbot.loaders.html import extract_html

    return extract_html(html).text


def _readability(html: str) -> str:
    import lxml.html
    from readability import Document

    return lxml.html.fromstring(Document(html).summary(html_partial=True)).text_content()


def _old_parser(html: str) -> str:
    from chatbot.loaders.html import fallback_html_text

    return fallback_html_text(html)[0]


HTML_EXTRACTORS = {
    "chatbot (trafilatura + fallback)": lambda: _project,
    "trafilatura": lambda: _trafilatura(),
    "trafilatura favor_precision": lambda: _trafilatura(precision=True),
    "trafilatura favor_recall": lambda: _trafilatura(recall=True),
    "readability-lxml": lambda: _readability,
    "fallback parser only": lambda: _old_parser,
}


def bench_html() -> list[dict]:
    rows = []
    pages = _pages()
    for name, make in HTML_EXTRACTORS.items():
        try:
            fn = make()
            fn("<html><body><p>warm up</p></body></html>")
        except ImportError as exc:
            rows.append({"extractor": name, "error": f"not installed ({exc.name})"})
            continue
        found = total = leaked = 0
        per_page = {}
        t0 = time.perf_counter()
        for page, html, sentences, boilerplate in pages:
            text = normalize_text(fn(html)).replace("\n", "")
            hits = sum(normalize_text(s) in text for s in sentences)
            leaks = [b for b in boilerplate if normalize_text(b) in text]
            found, total, leaked = found + hits, total + len(sentences), leaked + len(leaks)
            per_page[page] = {"recall": f"{hits}/{len(sentences)}", "leaked": leaks}
        ms = (time.perf_counter() - t0) * 1000 / len(pages)
        rows.append({"extractor": name, "recall": round(found / total, 3), "boilerplate_leaked": leaked,
                     "ms_per_page": round(ms, 1), "pages": per_page})
    return rows


def _pdf_pypdf(data: bytes) -> list[str]:
    import io

    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


def _pdf_pdfminer(data: bytes) -> list[str]:
    import io

    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    return ["\n".join(el.get_text() for el in page if isinstance(el, LTTextContainer))
            for page in extract_pages(io.BytesIO(data))]


def _pdf_pdfium(data: bytes) -> list[str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]


def _pdf_project(data: bytes) -> list[str]:
    import tempfile

    from chatbot.loaders.pdf import read_pdf

    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        return [text for _, text in read_pdf(Path(f.name)).pages]


PDF_PARSERS = {"chatbot (pypdf + line joining)": _pdf_project, "pypdf (raw)": _pdf_pypdf,
               "pdfminer.six (raw)": _pdf_pdfminer, "pypdfium2 (raw)": _pdf_pdfium}


def bench_pdf() -> list[dict]:
    data = fx.report_pdf()
    rows = []
    for name, fn in PDF_PARSERS.items():
        try:
            fn(data)
        except ImportError as exc:
            rows.append({"parser": name, "error": f"not installed ({exc.name})"})
            continue
        t0 = time.perf_counter()
        for _ in range(5):
            pages = fn(data)
        ms = (time.perf_counter() - t0) * 1000 / 5
        norm = [normalize_text(p) for p in pages]
        as_lines = sum(normalize_text(s) in norm[p - 1].split("\n") or normalize_text(s) in norm[p - 1]
                       for s, p in fx.PDF_SENTENCES)
        joined = sum(normalize_text(s) in norm[p - 1].replace("\n", "") for s, p in fx.PDF_SENTENCES)
        header = sum(fx.PDF_HEADER in p for p in norm)
        rows.append({"parser": name, "pages": len(pages), "sentences_intact": f"{as_lines}/{len(fx.PDF_SENTENCES)}",
                     "sentences_after_joining_lines": f"{joined}/{len(fx.PDF_SENTENCES)}",
                     "pages_with_running_header": header, "ms_per_document": round(ms, 1)})
    return rows


def main() -> int:
    result = {"html": bench_html(), "pdf": bench_pdf()}
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
