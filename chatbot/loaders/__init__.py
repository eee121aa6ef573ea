"""Reading articles from disk, one module per format, chosen by the file's suffix.

- :mod:`.text`: Markdown and plain text; :mod:`.html`: saved web pages (trafilatura);
  :mod:`.pdf`: PDFs page by page (pypdf).
- :mod:`.discovery` expands folders into files and gives each its doc id; :mod:`.encodings`
  decodes UTF-8 and the Japanese encodings; :mod:`.frontmatter` reads YAML front matter.

A new format is one module with a ``load(RawFile) -> Document | Skipped`` function and one
entry in :data:`FORMATS`. A file that cannot be read as an article is never fatal: it becomes
a :class:`Skipped` entry with a human-readable reason, and every other file still loads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .discovery import doc_id_for, iter_files
from .document import Document, RawFile, Skipped, normalize_text
from .html import load_html
from .pdf import load_pdf
from .text import load_markdown, load_text

# Bump when the text extracted from an unchanged file can change, so ingest re-reads every file
# (unchanged chunk text keeps its embedding: only metadata is rewritten).
LOADER_VERSION = 2

MAX_FILE_BYTES = 5_000_000  # text and HTML: ~2.5M Japanese characters, far beyond any article
MAX_PDF_BYTES = 50_000_000  # PDFs carry images and fonts besides their text


@dataclass(frozen=True)
class Format:
    """One kind of article file: the suffixes it has, the largest file read, and its loader."""

    name: str
    suffixes: tuple[str, ...]
    load: Callable[[RawFile], Document | Skipped]
    max_bytes: int = MAX_FILE_BYTES


FORMATS: dict[str, Format] = {suffix: fmt for fmt in (
    Format("markdown", (".md", ".markdown"), load_markdown),
    Format("text", (".txt",), load_text),
    Format("html", (".html", ".htm"), load_html),
    Format("pdf", (".pdf",), load_pdf, MAX_PDF_BYTES),
) for suffix in fmt.suffixes}
SUPPORTED_SUFFIXES = tuple(FORMATS)

for _name in ("trafilatura", "htmldate", "courlan", "pypdf", "charset_normalizer"):
    logging.getLogger(_name).setLevel(logging.ERROR)  # their warnings are about the page, not for the user


def load_file(file: Path, root: Path) -> Document | Skipped:
    """Read one file into a :class:`Document`, or explain why it was skipped."""
    source = str(file)
    fmt = FORMATS.get(file.suffix.lower())
    if fmt is None:
        return Skipped(source, f"unsupported file type '{file.suffix or '(none)'}' "
                               f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
    try:
        resolved = file.resolve(strict=True)
        size = resolved.stat().st_size
        if not resolved.is_file():
            return Skipped(source, "not a regular file")
        if size > fmt.max_bytes:
            return Skipped(source, f"file too large ({size / 1e6:.1f} MB > {fmt.max_bytes / 1e6:.0f} MB); "
                                   "split it into articles")
        raw = resolved.read_bytes()
    except RuntimeError:
        return Skipped(source, "symlink loop")
    except OSError as exc:
        return Skipped(source, f"unreadable: {exc.strerror or exc}")
    return fmt.load(RawFile(file, resolved, doc_id_for(file, root), raw))


def load_documents(paths: list[str | Path], home: Path | None = None) -> tuple[list[Document], list[Skipped]]:
    """Load every supported file under ``paths``; return documents and skipped files."""
    files, skipped = iter_files(paths, home)
    docs: list[Document] = []
    for file, root in files:
        result = load_file(file, root)
        (docs if isinstance(result, Document) else skipped).append(result)
    return docs, skipped


__all__ = ["Document", "Skipped", "RawFile", "Format", "FORMATS", "SUPPORTED_SUFFIXES", "LOADER_VERSION",
           "load_file", "load_documents", "normalize_text"]
