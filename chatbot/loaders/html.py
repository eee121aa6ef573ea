"""Saved web pages (``.html``, ``.htm``).

trafilatura keeps the article body (paragraphs, headings, tables) and drops menus, share bars,
related links, ads, comments and footers, and reads the page's title, author, site name, date
and canonical URL (meta tags, Open Graph, JSON-LD). A page trafilatura cannot read falls back
to a plain parser that drops ``<nav>``, ``<header>``, ``<footer>``, ``<aside>`` and forms.
YAML front matter overrides what is read from the page.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from .document import Document, RawFile, Skipped, normalize_text
from .encodings import declared_charset, decode_file
from .frontmatter import split_front_matter

_SENTENCE_END = re.compile(r"[。！？!?]|[.．](?:\s|$)")


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


def load_html(f: RawFile) -> Document | Skipped:
    """A saved web page: its article text, title and metadata."""
    decoded = decode_file(f.raw, declared_charset(f.raw))
    if isinstance(decoded, str):
        return f.skip(decoded)
    text, encoding = decoded
    details = {"format": "html", **encoding}
    front = split_front_matter(text)
    if isinstance(front, str):
        return f.skip(front)
    meta, text = front
    article = extract_html(text)
    details["extractor"] = article.extractor
    if not article.text.strip():
        return f.skip("no article text found: the page holds only navigation, menus, links or form labels "
                      "(a login or index page?)")
    meta = {**article.metadata, **{k: v for k, v in meta.items() if v not in (None, "")}}
    text = normalize_text(article.text)
    if not text:
        return f.skip("empty (no article text)")
    title = meta.get("title") or article.title
    return f.document(text, normalize_text(str(title)) if title else f.file.stem, meta, details)
