"""Loading articles from disk: Markdown, plain text, saved web pages and PDFs.

* Text and HTML files are decoded as UTF-8 or one of the Japanese encodings (Shift_JIS/CP932,
  EUC-JP, ISO-2022-JP): a byte-order mark or the page's own ``<meta charset>`` first, then
  UTF-8, then charset-normalizer choosing among the Japanese encodings. The encoding used is
  kept in :attr:`Document.details`.
* Saved web pages go through trafilatura, which keeps the article body (paragraphs, headings,
  tables) and drops menus, share bars, related links, ads, comments and footers, and reads the
  page's title, author, site name, date and canonical URL (meta tags, Open Graph, JSON-LD).
  A page trafilatura cannot read falls back to a plain parser that drops ``<nav>``, ``<header>``,
  ``<footer>``, ``<aside>`` and forms.
* PDFs are read page by page with pypdf; lines wrapped by the layout are joined back into
  paragraphs, running headers and page numbers are dropped, and each page's span in the text
  is kept so that chunks (and citations) know their page.
* YAML front matter (Markdown/text/HTML) overrides anything read from the file itself.

A file that cannot be read as an article is never fatal: it becomes a :class:`Skipped`
entry with a human-readable reason, and every other file still loads.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import os
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import yaml

TEXT_SUFFIXES = (".md", ".markdown", ".txt")
HTML_SUFFIXES = (".html", ".htm")
PDF_SUFFIXES = (".pdf",)
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + PDF_SUFFIXES
MAX_FILE_BYTES = 5_000_000  # text and HTML: ~2.5M Japanese characters, far beyond any article
MAX_PDF_BYTES = 50_000_000  # PDFs carry images and fonts besides their text
# Bump when the text extracted from an unchanged file can change, so ingest re-reads every file
# (unchanged chunk text keeps its embedding: only metadata is rewritten).
LOADER_VERSION = 2

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_SENTENCE_END = re.compile(r"[。！？!?]|[.．](?:\s|$)")

for _name in ("trafilatura", "htmldate", "courlan", "pypdf", "charset_normalizer"):
    logging.getLogger(_name).setLevel(logging.ERROR)  # their warnings are about the page, not for the user


@dataclass
class Document:
    """One article, its text normalized (the text that chunk offsets refer to)."""

    doc_id: str
    title: str
    source: str  # path as given by the user, for display
    path: str  # absolute path, used to detect deleted files
    text: str
    metadata: dict = field(default_factory=dict)  # publisher, author, published, language, url, ...
    content_hash: str = ""
    # PDF only: (page number, start, end) of each page's text in ``text``
    pages: list[tuple[int, int, int]] = field(default_factory=list)
    # how the file was read: format, encoding, encoding_source, extractor, pages
    details: dict = field(default_factory=dict)

    def page_at(self, offset: int) -> int | None:
        """The page holding character ``offset`` of the text (PDFs), else None."""
        for number, start, end in self.pages:
            if offset < end:  # an offset between two pages belongs to the next one
                return number
        return self.pages[-1][0] if self.pages else None


@dataclass
class Skipped:
    """A file that was not ingested, and why."""

    path: str
    reason: str


def normalize_text(text: str) -> str:
    """NFKC, LF line ends, no trailing spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def iter_files(paths: list[str | Path], home: Path | None = None) -> tuple[list[tuple[Path, Path]], list[Skipped]]:
    """Expand files and folders into ``(file, root)`` pairs; folders are walked recursively.

    A file or folder inside ``home`` (the corpus dir) gets ``home`` as its root, so a file's doc
    id is the same whether it, its folder or the whole corpus is ingested. Symlinked folders are not
    followed (no loops); hidden files are ignored.
    """
    found: list[tuple[Path, Path]] = []
    skipped: list[Skipped] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            root = p
            if home is not None and home.resolve() in p.resolve().parents:
                root = home.resolve()
                p = root / p.resolve().relative_to(root)
            for dirpath, dirnames, filenames in os.walk(p, followlinks=False):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    if not name.startswith("."):
                        found.append((Path(dirpath) / name, root))
        elif p.exists() or p.is_symlink():
            root = p.parent
            if home is not None and home.resolve() in p.parent.resolve().parents:
                root = home.resolve()
                p = root / p.parent.resolve().relative_to(root) / p.name
            found.append((p, root))
        else:
            skipped.append(Skipped(str(p), "no such file or folder"))
    return found, skipped


def doc_id_for(file: Path, root: Path) -> str:
    """Stable id from the path: the ingest root's name plus the path below it (``corpus/a.md``)."""
    root_name = root.resolve().name
    rel = file.relative_to(root).as_posix()
    return f"{root_name}/{rel}" if root_name else rel


# ------------------------------------------------------------------------------------------------
# Encodings
# ------------------------------------------------------------------------------------------------

# Declared names -> Python codecs to try, most likely first. Shift_JIS pages use CP932's extra
# characters (①, ㈱, ...) freely, so CP932 (what browsers decode "Shift_JIS" as) comes first.
_CODEC_FAMILIES = {
    "cp932": ("cp932", "shift_jis_2004"),
    "euc_jp": ("euc_jp", "euc_jis_2004"),
    "iso2022_jp": ("iso2022_jp", "iso2022_jp_2", "iso2022_jp_2004", "iso2022_jp_ext"),
    "utf-8": ("utf-8",),
    "cp1252": ("cp1252", "latin-1"),
}
_ALIASES = {
    **dict.fromkeys(("shift_jis", "shift-jis", "sjis", "x-sjis", "s-jis", "ms_kanji", "ms-kanji", "csshiftjis",
                     "windows-31j", "cp932", "ms932", "x-ms-cp932", "shift_jisx0213", "shift_jis_2004"), "cp932"),
    **dict.fromkeys(("euc-jp", "eucjp", "euc_jp", "x-euc-jp", "cseucpkdfmtjapanese", "ujis", "euc-jis-2004"),
                    "euc_jp"),
    **dict.fromkeys(("iso-2022-jp", "iso2022jp", "iso2022_jp", "csiso2022jp", "jis", "iso-2022-jp-2"), "iso2022_jp"),
    **dict.fromkeys(("utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8"), "utf-8"),
    # WHATWG: pages labelled latin-1 or ASCII are decoded as windows-1252
    **dict.fromkeys(("iso-8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "windows-1252", "cp1252"),
                    "cp1252"),
}
_JAPANESE_CODECS = ["cp932", "euc_jp", "iso2022_jp"]  # what charset-normalizer may choose from
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""\A\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_ISO2022_ESCAPES = (b"\x1b$B", b"\x1b$@", b"\x1b(J", b"\x1b(I", b"\x1b$(D", b"\x1b$(Q")


@dataclass
class Decoded:
    text: str
    encoding: str  # the Python codec used, e.g. "utf-8", "cp932", "euc_jp", "iso2022_jp"
    source: str  # how it was chosen: "bom", "declared", "utf-8", "iso-2022-jp escapes", "detected"
    declared: str | None = None  # the label the file declared, if any
    replaced: int = 0  # undecodable bytes replaced (only ever for a declared encoding)


def declared_charset(raw: bytes) -> str | None:
    """The charset an HTML page declares in its first 4 KB (``<meta charset>``, http-equiv, XML)."""
    head = raw[:4096]
    m = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    return m.group(1).decode("ascii", "replace").strip().lower() if m else None


def _codecs_for(label: str) -> tuple[str, ...]:
    family = _ALIASES.get(label.lower())
    if family:
        return _CODEC_FAMILIES[family]
    try:
        return (codecs.lookup(label).name,)
    except LookupError:
        return ()


def _looks_japanese(text: str) -> bool:
    """Text decoded with a Japanese codec is Japanese: kana among its non-ASCII characters,
    few half-width katakana (what EUC-JP or Latin-1 bytes turn into when read as Shift_JIS),
    no private-use or unassigned characters."""
    wide = [ch for ch in text if ord(ch) > 0x7F]
    if not wide:
        return True
    kana = sum("\u3040" <= ch <= "\u30ff" for ch in wide)
    halfwidth = sum("\uff61" <= ch <= "\uff9f" for ch in wide)
    odd = sum(unicodedata.category(ch) in ("Co", "Cn", "Cs") for ch in wide)
    return odd == 0 and halfwidth <= 0.2 * len(wide) and (kana > 0 or len(wide) < 20)


def decode_bytes(raw: bytes, declared: str | None = None) -> Decoded | str:
    """Decode a file's bytes; returns the text or the reason it cannot be decoded."""
    if raw.startswith(codecs.BOM_UTF8):
        return Decoded(raw[3:].decode("utf-8", "replace"), "utf-8", "bom", declared)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
            if all(unicodedata.category(ch) not in ("Co", "Cn", "Cs") for ch in text):
                return Decoded(text, "utf-16", "bom", declared)
        except UnicodeDecodeError:
            pass
    if declared:
        for codec in _codecs_for(declared):
            try:
                return Decoded(raw.decode(codec), codec, "declared", declared)
            except (UnicodeDecodeError, LookupError):
                continue
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        first_error = exc
    else:
        if b"\x1b" in raw and any(e in raw for e in _ISO2022_ESCAPES):
            for codec in _CODEC_FAMILIES["iso2022_jp"]:
                try:
                    return Decoded(raw.decode(codec), codec, "iso-2022-jp escapes", declared)
                except UnicodeDecodeError:
                    continue
        return Decoded(text, "utf-8", "utf-8", declared)

    from charset_normalizer import from_bytes

    best = from_bytes(raw, cp_isolation=_JAPANESE_CODECS).best()
    if best is not None:
        codec = codecs.lookup(best.encoding).name
        family = _CODEC_FAMILIES.get(_ALIASES.get(codec, ""), (codec,))
        for c in dict.fromkeys((codec, *family)):
            try:
                text = raw.decode(c)
            except UnicodeDecodeError:
                continue
            if _looks_japanese(text):
                return Decoded(text, c, "detected", declared)
    if declared and _codecs_for(declared):
        # A page that declares its encoding but holds a few broken bytes (common after edits):
        # keep it if at most 1 in 1,000 characters is lost.
        codec = _codecs_for(declared)[0]
        text = raw.decode(codec, "replace")
        bad = text.count("\ufffd")
        if bad <= max(1, len(text) // 1000):
            return Decoded(text, codec, "declared", declared, replaced=bad)
    where = f"byte 0x{raw[first_error.start]:02x} at offset {first_error.start}"
    said = f"; it declares '{declared}' but does not decode as that" if declared else ""
    return (f"not UTF-8 and not a Japanese encoding (Shift_JIS/CP932, EUC-JP, ISO-2022-JP): {where}{said}; "
            "save it as UTF-8")


# ------------------------------------------------------------------------------------------------
# HTML
# ------------------------------------------------------------------------------------------------


@dataclass
class HtmlArticle:
    text: str  # paragraphs separated by blank lines (not yet normalized)
    title: str | None
    metadata: dict
    extractor: str  # "trafilatura" or "fallback"


def _article_like(text: str) -> bool:
    """At least one line that reads as a sentence (menus, buttons and form labels do not)."""
    return any(len(line.strip()) >= 4 and _SENTENCE_END.search(line) for line in text.split("\n"))


_LANG = re.compile(r"""<html\b[^>]*?\blang\s*=\s*["']?([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?""", re.I)
_JSONLD = re.compile(r"""<script[^>]+application/ld\+json[^>]*>(.*?)</script>""", re.I | re.S)


def _page_language(html: str) -> str | None:
    m = _LANG.search(html[:5000])
    if m:
        return m.group(1).lower()
    for block in _JSONLD.findall(html):
        m = re.search(r'"inLanguage"\s*:\s*"([A-Za-z]{2,3})', block)
        if m:
            return m.group(1).lower()
    return None


def _jsonld_publisher(html: str) -> str | None:
    """``publisher.name`` of the page's NewsArticle/Article JSON-LD, if any."""
    for block in _JSONLD.findall(html):
        try:
            data = json.loads(block)
        except ValueError:
            continue
        for item in data if isinstance(data, list) else data.get("@graph", [data]) if isinstance(data, dict) else []:
            pub = item.get("publisher") if isinstance(item, dict) else None
            if isinstance(pub, dict) and isinstance(pub.get("name"), str) and pub["name"].strip():
                return pub["name"].strip()
    return None


def extract_html(html: str) -> HtmlArticle:
    """The article of a saved web page: trafilatura first, the plain fallback parser second."""
    meta: dict = {}
    title = None
    text = ""
    try:
        import trafilatura

        doc = trafilatura.bare_extraction(
            html, with_metadata=True, include_comments=False, include_tables=True, include_images=False,
            deduplicate=False, date_extraction_params={"extensive_search": False, "original_date": True})
    except Exception:  # noqa: BLE001 - a page that breaks the extractor still gets the fallback
        doc = None
    if doc is not None:
        text = "\n\n".join(line.strip() for line in (doc.text or "").split("\n") if line.strip())
        title = doc.title
        meta = {"author": doc.author, "publisher": doc.sitename or _jsonld_publisher(html),
                "published": doc.date, "url": doc.url}
        meta = {k: v.strip() for k, v in meta.items() if isinstance(v, str) and v.strip()}
    language = _page_language(html)
    if language:
        meta["language"] = language
    if text and _article_like(text):
        return HtmlArticle(text, title, meta, "trafilatura")
    fallback, fallback_title = fallback_html_text(html)
    return HtmlArticle(fallback if _article_like(fallback) else "", title or fallback_title, meta, "fallback")


_CHROME_CLASS = re.compile(
    r"(?:^|[-_\s])(?:cookie|consent|share|sns|social|related|recommend|ranking|breadcrumbs?|comments?|"
    r"newsletter|banner|ads?|advert\w*|promo|paywall|subscribe|signup|most-read)(?:$|[-_\s])", re.I)


class _TextExtractor(HTMLParser):
    """Visible text outside page chrome: scripts, styles, navigation, header, footer, asides,
    forms, dialogs and elements whose class or id names chrome (cookie banners, share bars,
    related links, ads, comments) are dropped. ``<head>`` is not a container here: HTML5 lets a
    page omit ``</head>`` (and ``<body>``), so only the elements inside it that hold no visible
    text are."""

    _SKIP = {"script", "style", "noscript", "template", "svg", "title", "nav", "header", "footer", "aside",
             "form", "button", "select", "iframe", "dialog", "figure"}
    _VOID = {"meta", "link", "br", "hr", "img", "input", "base", "col", "embed", "source", "track", "wbr", "area"}
    _BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section",
              "article", "blockquote", "pre", "hr", "table", "ul", "ol", "dd", "dt", "figcaption", "main"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: str | None = None
        self.h1: str | None = None
        self._stack: list[list] = []  # skipped elements: [tag, how many of that tag are open inside]
        self._capture: str | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self._VOID:
            if tag in self._BLOCK:
                self.parts.append("\n\n")
            return
        if self._stack and tag == self._stack[-1][0]:
            self._stack[-1][1] += 1
        elif tag in self._SKIP or any(k in ("class", "id") and v and _CHROME_CLASS.search(v) for k, v in attrs):
            self._stack.append([tag, 1])
        if tag in ("title", "h1") and self._capture is None:
            self._capture, self._buf = tag, []
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if self._stack and tag == self._stack[-1][0]:
            self._stack[-1][1] -= 1
            if not self._stack[-1][1]:
                self._stack.pop()
        if tag == self._capture:
            text = " ".join("".join(self._buf).split())
            if tag == "title" and not self.title:
                self.title = text or None
            elif tag == "h1" and not self.h1:
                self.h1 = text or None
            self._capture = None
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if self._capture:
            self._buf.append(data)
        if not self._stack:
            self.parts.append(data)


def fallback_html_text(html: str) -> tuple[str, str | None]:
    """Visible text of an HTML page outside its chrome (paragraphs kept), and its title."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    text = "\n".join(" ".join(line.split()) for line in text.split("\n"))
    return text, parser.title or parser.h1


def html_to_text(html: str) -> tuple[str, str | None]:
    """Article text (paragraphs kept) and title of an HTML page."""
    article = extract_html(html)
    return article.text, article.title


# ------------------------------------------------------------------------------------------------
# PDF
# ------------------------------------------------------------------------------------------------

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


def _drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Remove page numbers and the headers/footers repeated at the top or bottom of most pages."""
    def key(line: str) -> str:
        return re.sub(r"\d+", "#", line.strip())

    edge_counts: dict[str, int] = {}
    for lines in pages:
        for k in {key(line) for line in lines[:2] + lines[-2:] if line.strip()}:
            edge_counts[k] = edge_counts.get(k, 0) + 1
    repeated = {k for k, n in edge_counts.items() if n >= 2 and n >= 0.5 * len(pages)}
    out = []
    for lines in pages:
        edge = set(range(min(2, len(lines)))) | set(range(max(0, len(lines) - 2), len(lines)))
        out.append([line for i, line in enumerate(lines)
                    if not (i in edge and (key(line) in repeated or _PAGE_NUMBER.match(line.strip())))])
    return out


def read_pdf(path: Path) -> list[tuple[int, str]]:
    """``(page number, text)`` for each page with text: lines joined into paragraphs,
    running headers/footers and page numbers removed, each page normalized."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        reader.decrypt("")  # most "encrypted" PDFs only restrict printing; a real password fails below
    raw_pages = []
    for page in reader.pages:
        text = normalize_text(page.extract_text() or "")
        raw_pages.append([line.strip() for line in text.split("\n")])
    pages = _drop_running_lines(raw_pages)
    return [(n, normalize_text(_join_lines(lines))) for n, lines in enumerate(pages, start=1)]


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


def load_pdf(file: Path, resolved: Path, root: Path, raw: bytes) -> Document | Skipped:
    source = str(file)
    try:
        pages = read_pdf(resolved)
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds for broken files
        name = type(exc).__name__
        if "password" in str(exc).lower() or name in ("FileNotDecryptedError", "WrongPasswordError"):
            return Skipped(source, "encrypted PDF: it needs a password")
        if name == "DependencyError":
            return Skipped(source, f"PDF uses an encryption that needs an extra package: {exc}")
        return Skipped(source, f"not a readable PDF ({name}: {str(exc)[:120]})")
    n_pages = len(pages)
    parts: list[str] = []
    spans: list[tuple[int, int, int]] = []
    offset = 0
    for number, text in pages:
        if not text:
            continue
        if parts:
            offset += 2  # the "\n\n" between pages
        spans.append((number, offset, offset + len(text)))
        parts.append(text)
        offset += len(text)
    text = "\n\n".join(parts)
    if len(re.sub(r"\s", "", text)) < 20:
        return Skipped(source, f"no text layer: a scanned or image-only PDF ({n_pages} page(s)); "
                               "OCR is not supported, export the text instead")
    unreadable = sum(ch == "\ufffd" or unicodedata.category(ch) in ("Co", "Cn") for ch in text)
    if unreadable > 0.3 * len(re.sub(r"\s", "", text)):
        return Skipped(source, "the PDF's text layer is unreadable (fonts without a Unicode mapping); "
                               "export the text instead")
    info = _pdf_info(resolved)
    meta = {k: v for k, v in info.items() if k != "title"}
    if re.search(r"[\u3040-\u30ff]", text):
        meta["language"] = "ja"
    first_line = parts[0].split("\n", 1)[0]
    title = info.get("title") or (first_line if len(first_line) <= 80 else None) or file.stem
    return Document(
        doc_id=doc_id_for(file, root), title=normalize_text(title), source=source, path=str(resolved),
        text=text, metadata=meta, content_hash=hashlib.sha256(raw).hexdigest(), pages=spans,
        details={"format": "pdf", "extractor": "pypdf", "pages": n_pages, "pages_with_text": len(spans)})


# ------------------------------------------------------------------------------------------------
# Any file
# ------------------------------------------------------------------------------------------------


def load_file(file: Path, root: Path) -> Document | Skipped:
    """Read one file into a :class:`Document`, or explain why it was skipped."""
    source = str(file)
    suffix = file.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return Skipped(source, f"unsupported file type '{file.suffix or '(none)'}' "
                               f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
    limit = MAX_PDF_BYTES if suffix in PDF_SUFFIXES else MAX_FILE_BYTES
    try:
        resolved = file.resolve(strict=True)
        size = resolved.stat().st_size
        if not resolved.is_file():
            return Skipped(source, "not a regular file")
        if size > limit:
            return Skipped(source, f"file too large ({size / 1e6:.1f} MB > {limit / 1e6:.0f} MB); "
                                   "split it into articles")
        raw = resolved.read_bytes()
    except RuntimeError:
        return Skipped(source, "symlink loop")
    except OSError as exc:
        return Skipped(source, f"unreadable: {exc.strerror or exc}")
    if suffix in PDF_SUFFIXES:
        if not raw.lstrip()[:5] == b"%PDF-":
            return Skipped(source, "not a PDF (no %PDF- header)")
        return load_pdf(file, resolved, root, raw)
    if b"\x00" in raw[:8192] and not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Skipped(source, "binary file (contains NUL bytes)")
    is_html = suffix in HTML_SUFFIXES
    decoded = decode_bytes(raw, declared_charset(raw) if is_html else None)
    if isinstance(decoded, str):
        return Skipped(source, decoded)
    text = decoded.text
    details = {"format": "html" if is_html else "markdown" if suffix in (".md", ".markdown") else "text",
               "encoding": decoded.encoding, "encoding_source": decoded.source}
    if decoded.declared:
        details["declared_encoding"] = decoded.declared
    if decoded.replaced:
        details["replaced_bytes"] = decoded.replaced

    meta: dict = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            where = getattr(exc, "problem_mark", None)
            line = f" at line {where.line + 2}" if where is not None else ""
            return Skipped(source, f"malformed YAML front matter{line}: {getattr(exc, 'problem', exc)}")
        if loaded is not None and not isinstance(loaded, dict):
            return Skipped(source, "malformed YAML front matter: expected 'key: value' lines")
        meta = {str(k): _plain(v) for k, v in (loaded or {}).items()}
        text = text[match.end():]

    page_title = None
    if is_html:
        article = extract_html(text)
        details["extractor"] = article.extractor
        if not article.text.strip():
            return Skipped(source, "no article text found: the page holds only navigation, menus, links or "
                                   "form labels (a login or index page?)")
        text, page_title = article.text, article.title
        meta = {**article.metadata, **{k: v for k, v in meta.items() if v not in (None, "")}}
    first_heading = _MD_HEADING.search(text) if suffix in (".md", ".markdown") else None
    if first_heading:
        text = _MD_HEADING.sub(r"\2", text)  # headings become plain lines; offsets refer to this text
    text = normalize_text(text)
    if not text:
        return Skipped(source, "empty (no article text)")

    title = meta.get("title") or page_title or (first_heading.group(2) if first_heading else None)
    if not title and suffix == ".txt":
        title = _text_title(text)
    title = normalize_text(str(title)) if title else file.stem
    return Document(
        doc_id=doc_id_for(file, root),
        title=title,
        source=source,
        path=str(resolved),
        text=text,
        metadata=meta,
        content_hash=hashlib.sha256(raw).hexdigest(),
        details=details,
    )


def _text_title(text: str) -> str | None:
    """A plain-text file's first line, when it stands alone above the body like a headline."""
    first, sep, rest = text.partition("\n\n")
    if sep and rest.strip() and "\n" not in first and len(first) <= 80 and not re.search(r"[。.]$", first):
        return first
    return None


def load_documents(paths: list[str | Path], home: Path | None = None) -> tuple[list[Document], list[Skipped]]:
    """Load every supported file under ``paths``; return documents and skipped files."""
    files, skipped = iter_files(paths, home)
    docs: list[Document] = []
    for file, root in files:
        result = load_file(file, root)
        (docs if isinstance(result, Document) else skipped).append(result)
    return docs, skipped


def _plain(value):
    """Front-matter values as JSON-friendly scalars (YAML dates become ISO strings)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value)
