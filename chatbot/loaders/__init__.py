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

from ..config import Settings
from .discovery import doc_id_for, iter_files
from .document import Document, RawFile, Skipped, normalize_text
from .html import load_html
from .pdf import load_pdf
from .text import load_markdown, load_text

# Bump when the text extracted from an unchanged file can change, so ingest re-reads every file
# (unchanged chunk text keeps its embedding: only metadata is rewritten).
LOADER_VERSION = 3  # 3: a PDF without a metadata title is titled by its running header


@dataclass(frozen=True)
class Format:
    """One kind of article file: its suffixes, its loader, and the setting that caps its size."""

    name: str
    suffixes: tuple[str, ...]
    load: Callable[[RawFile], Document | Skipped]
    size_setting: str = "max_file_mb"  # a Settings field, in MB

    def max_bytes(self, settings: Settings) -> int:
        return int(getattr(settings, self.size_setting) * 1_000_000)


FORMATS: dict[str, Format] = {suffix: fmt for fmt in (
    Format("markdown", (".md", ".markdown"), load_markdown),
    Format("text", (".txt",), load_text),
    Format("html", (".html", ".htm"), load_html),
    Format("pdf", (".pdf",), load_pdf, "max_pdf_mb"),
) for suffix in fmt.suffixes}
SUPPORTED_SUFFIXES = tuple(FORMATS)

for _name in ("trafilatura", "htmldate", "courlan", "pypdf", "charset_normalizer"):
    logging.getLogger(_name).setLevel(logging.ERROR)  # their warnings are about the page, not for the user


def load_file(file: Path, root: Path, settings: Settings | None = None) -> Document | Skipped:
    """Read one file into a :class:`Document`, or explain why it was skipped."""
    source = str(file)
    fmt = FORMATS.get(file.suffix.lower())
    if fmt is None:
        return Skipped(source, f"unsupported file type '{file.suffix or '(none)'}' "
                               f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
    limit = fmt.max_bytes(settings or Settings())
    try:
        resolved = file.resolve(strict=True)
        size = resolved.stat().st_size
        if not resolved.is_file():
            return Skipped(source, "not a regular file")
        if size > limit:
            return Skipped(source, f"file too large ({size / 1e6:.1f} MB > {limit / 1e6:g} MB); "
                                   "split it into articles")
        raw = resolved.read_bytes()
    except RuntimeError:
        return Skipped(source, "symlink loop")
    except OSError as exc:
        return Skipped(source, f"unreadable: {exc.strerror or exc}")
    return fmt.load(RawFile(file, resolved, doc_id_for(file, root), raw))


def load_documents(paths: list[str | Path], home: Path | None = None,
                   settings: Settings | None = None) -> tuple[list[Document], list[Skipped]]:
    """Load every supported file under ``paths``; return documents and skipped files."""
    files, skipped = iter_files(paths, home)
    settings = settings or Settings()
    docs: list[Document] = []
    for file, root in files:
        result = load_file(file, root, settings)
        (docs if isinstance(result, Document) else skipped).append(result)
    return docs, skipped


__all__ = ["Document", "Skipped", "RawFile", "Format", "FORMATS", "SUPPORTED_SUFFIXES", "LOADER_VERSION",
           "load_file", "load_documents", "normalize_text"]
