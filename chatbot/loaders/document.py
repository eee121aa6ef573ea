"""The values every loader produces: a :class:`Document` or a :class:`Skipped` file, from a
:class:`RawFile`; and the text normalization all formats share."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path


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


@dataclass
class RawFile:
    """A file a loader reads: the path as given, its resolved path, its doc id and its bytes."""

    file: Path
    resolved: Path
    doc_id: str
    raw: bytes

    def skip(self, reason: str) -> Skipped:
        return Skipped(str(self.file), reason)

    def document(self, text: str, title: str, metadata: dict, details: dict,
                 pages: list[tuple[int, int, int]] | None = None) -> Document:
        """The :class:`Document` of this file (``text`` already normalized)."""
        return Document(doc_id=self.doc_id, title=title, source=str(self.file), path=str(self.resolved), text=text,
                        metadata=metadata, content_hash=hashlib.sha256(self.raw).hexdigest(), pages=pages or [],
                        details=details)


def normalize_text(text: str) -> str:
    """NFKC, LF line ends, no trailing spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
