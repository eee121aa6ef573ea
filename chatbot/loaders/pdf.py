"""PDFs, read page by page with pypdf.

Lines wrapped by the layout are joined back into paragraphs, running headers and page numbers
are dropped, and each page's span in the text is kept so that chunks (and citations) know
their page.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..rules import MAX_TITLE_LINE_CHARS, PDF_MAX_UNREADABLE, PDF_MIN_TEXT_CHARS, RUNNING_LINE_SHARE
from .document import Document, RawFile, Skipped, normalize_text

_PAGE_NUMBER = re.compile(r"^[\W_]*(?:p\.?|page|ページ)?\s*\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?[\W_]*$", re.I)


def _width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def _is_cjk(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def _join_lines(lines: list[str]) -> str:
    """Join layout-wrapped lines back into paragraphs: a line about as wide as the page's widest
    continues on the next one (Japanese without a space, other text with one, a hyphenated
    word mended); a shorter line (a heading, a paragraph's last line) ends its paragraph."""
    widths = [_width(line) for line in lines]
    full = sorted(widths)[int(len(widths) * 0.9)] if widths else 0
    paragraphs: list[str] = []
    current = ""
    for line, width in zip(lines, widths):
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        if not current:
            current = line
        elif _is_cjk(current[-1]) or _is_cjk(line[0]):
            current += line
        elif current.endswith("-") and len(current) > 1 and current[-2].isalpha() and line[0].islower():
            current = current[:-1] + line
        else:
            current += " " + line
        if width < 0.8 * full:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return "\n\n".join(paragraphs)


@dataclass
class PdfText:
    """A PDF's text layer, page by page."""

    pages: list[tuple[int, str]]  # (page number, text) of every page
    running_header: str | None = None  # the line repeated at the top of the pages, often the title


def _drop_running_lines(pages: list[list[str]]) -> tuple[list[list[str]], str | None]:
    """Remove page numbers and the headers/footers repeated at the top or bottom of most pages;
    also return the first page's top line when it is such a running header."""
    def key(line: str) -> str:
        return re.sub(r"\d+", "#", line.strip())

    edge_counts: dict[str, int] = {}
    for lines in pages:
        for k in {key(line) for line in lines[:2] + lines[-2:] if line.strip()}:
            edge_counts[k] = edge_counts.get(k, 0) + 1
    repeated = {k for k, n in edge_counts.items() if n >= 2 and n >= RUNNING_LINE_SHARE * len(pages)}

    def running(line: str) -> bool:
        return key(line) in repeated or bool(_PAGE_NUMBER.match(line.strip()))

    out = []
    for lines in pages:
        edge = set(range(min(2, len(lines)))) | set(range(max(0, len(lines) - 2), len(lines)))
        out.append([line for i, line in enumerate(lines) if not (i in edge and running(line))])
    top = next((line for line in pages[0] if line.strip()), "") if pages else ""
    header = top if key(top) in repeated and not _PAGE_NUMBER.match(top.strip()) else None
    return out, header


def read_pdf(path: Path) -> PdfText:
    """The text of each page: lines joined into paragraphs, running headers/footers and page
    numbers removed, each page normalized."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        reader.decrypt("")  # most "encrypted" PDFs only restrict printing; a real password fails below
    raw_pages = []
    for page in reader.pages:
        text = normalize_text(page.extract_text() or "")
        raw_pages.append([line.strip() for line in text.split("\n")])
    pages, header = _drop_running_lines(raw_pages)
    return PdfText([(n, normalize_text(_join_lines(lines))) for n, lines in enumerate(pages, start=1)], header)


def _pdf_info(path: Path) -> dict:
    from pypdf import PdfReader

    try:
        info = PdfReader(str(path)).metadata or {}
    except Exception:  # noqa: BLE001
        return {}
    out = {}
    title = str(info.get("/Title") or "").strip()
    if title and not re.search(r"\.(docx?|pptx?|xlsx?|pdf|indd)$|^untitled$|^microsoft (word|powerpoint)", title, re.I):
        out["title"] = title
    author = str(info.get("/Author") or "").strip()
    if author:
        out["author"] = author
    return out


def load_pdf(f: RawFile) -> Document | Skipped:
    """A PDF's text layer, page by page, with its title and author."""
    if not f.raw.lstrip()[:5] == b"%PDF-":
        return f.skip("not a PDF (no %PDF- header)")
    try:
        pdf = read_pdf(f.resolved)
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds for broken files
        name = type(exc).__name__
        if "password" in str(exc).lower() or name in ("FileNotDecryptedError", "WrongPasswordError"):
            return f.skip("encrypted PDF: it needs a password")
        if name == "DependencyError":
            return f.skip(f"PDF uses an encryption that needs an extra package: {exc}")
        return f.skip(f"not a readable PDF ({name}: {str(exc)[:120]})")
    n_pages = len(pdf.pages)
    parts: list[str] = []
    spans: list[tuple[int, int, int]] = []
    offset = 0
    for number, text in pdf.pages:
        if not text:
            continue
        if parts:
            offset += 2  # the "\n\n" between pages
        spans.append((number, offset, offset + len(text)))
        parts.append(text)
        offset += len(text)
    text = "\n\n".join(parts)
    if len(re.sub(r"\s", "", text)) < PDF_MIN_TEXT_CHARS:
        return f.skip(f"no text layer: a scanned or image-only PDF ({n_pages} page(s)); "
                      "OCR is not supported, export the text instead")
    unreadable = sum(ch == "\ufffd" or unicodedata.category(ch) in ("Co", "Cn") for ch in text)
    if unreadable > PDF_MAX_UNREADABLE * len(re.sub(r"\s", "", text)):
        return f.skip("the PDF's text layer is unreadable (fonts without a Unicode mapping); export the text instead")
    info = _pdf_info(f.resolved)
    meta = {k: v for k, v in info.items() if k != "title"}
    if re.search(r"[\u3040-\u30ff]", text):
        meta["language"] = "ja"
    # No title in the metadata: the running header when there is one (it is dropped from the text,
    # and it names the document more often than the first body line does), else the first line.
    header = pdf.running_header if pdf.running_header and len(pdf.running_header) <= MAX_TITLE_LINE_CHARS else None
    first_line = parts[0].split("\n", 1)[0]
    title = (info.get("title") or header or (first_line if len(first_line) <= MAX_TITLE_LINE_CHARS else None)
             or f.file.stem)
    return f.document(text, normalize_text(title), meta,
                      {"format": "pdf", "extractor": "pypdf", "pages": n_pages, "pages_with_text": len(spans)}, spans)
