"""Markdown (``.md``, ``.markdown``) and plain text (``.txt``) articles.

The title comes from the front matter, else the first Markdown heading, else a plain-text
file's headline line (a short first line standing alone above the body), else the file name.
Markdown headings become plain lines.
"""

from __future__ import annotations

import re

from ..rules import MAX_TITLE_LINE_CHARS
from .document import Document, RawFile, Skipped, normalize_text
from .encodings import decode_file
from .frontmatter import split_front_matter

_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def load_markdown(f: RawFile) -> Document | Skipped:
    return _load(f, "markdown")


def load_text(f: RawFile) -> Document | Skipped:
    return _load(f, "text")


def _load(f: RawFile, fmt: str) -> Document | Skipped:
    decoded = decode_file(f.raw)
    if isinstance(decoded, str):
        return f.skip(decoded)
    text, encoding = decoded
    front = split_front_matter(text)
    if isinstance(front, str):
        return f.skip(front)
    meta, text = front
    first_heading = _MD_HEADING.search(text) if fmt == "markdown" else None
    if first_heading:
        text = _MD_HEADING.sub(r"\2", text)  # headings become plain lines; offsets refer to this text
    text = normalize_text(text)
    if not text:
        return f.skip("empty (no article text)")
    title = meta.get("title") or (first_heading.group(2) if first_heading else None)
    if not title and fmt == "text":
        title = _headline(text)
    return f.document(text, normalize_text(str(title)) if title else f.file.stem, meta, {"format": fmt, **encoding})


def _headline(text: str) -> str | None:
    """A plain-text file's first line, when it stands alone above the body like a headline."""
    first, sep, rest = text.partition("\n\n")
    if sep and rest.strip() and "\n" not in first and len(first) <= MAX_TITLE_LINE_CHARS and not re.search(r"[。.]$", first):
        return first
    return None
