"""Loading articles from disk: Markdown, plain text and HTML, with optional YAML front matter.

A file that cannot be read as an article is never fatal: it becomes a :class:`Skipped`
entry with a human-readable reason, and every other file still loads.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import yaml

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm")
MAX_FILE_BYTES = 5_000_000  # ~2.5M Japanese characters: far beyond any article

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


@dataclass
class Document:
    """One article, its text normalized (the text that chunk offsets refer to)."""

    doc_id: str
    title: str
    source: str  # path as given by the user, for display
    path: str  # absolute path, used to detect deleted files
    text: str
    metadata: dict = field(default_factory=dict)  # front matter: publisher, author, published, ...
    content_hash: str = ""


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

    A single file inside ``home`` (the corpus dir) gets ``home`` as its root, so its doc id is
    the same whether the file or the whole folder is ingested. Symlinked folders are not
    followed (no loops); hidden files are ignored.
    """
    found: list[tuple[Path, Path]] = []
    skipped: list[Skipped] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for dirpath, dirnames, filenames in os.walk(p, followlinks=False):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    if not name.startswith("."):
                        found.append((Path(dirpath) / name, p))
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


def load_file(file: Path, root: Path) -> Document | Skipped:
    """Read one file into a :class:`Document`, or explain why it was skipped."""
    source = str(file)
    if file.suffix.lower() not in SUPPORTED_SUFFIXES:
        return Skipped(source, f"unsupported file type '{file.suffix or '(none)'}' "
                               f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
    try:
        resolved = file.resolve(strict=True)
        size = resolved.stat().st_size
        if not resolved.is_file():
            return Skipped(source, "not a regular file")
        if size > MAX_FILE_BYTES:
            return Skipped(source, f"file too large ({size / 1e6:.1f} MB > {MAX_FILE_BYTES / 1e6:.0f} MB); "
                                   "split it into articles")
        raw = resolved.read_bytes()
    except RuntimeError:
        return Skipped(source, "symlink loop")
    except OSError as exc:
        return Skipped(source, f"unreadable: {exc.strerror or exc}")
    if b"\x00" in raw[:8192]:
        return Skipped(source, "binary file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Skipped(source, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})")

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

    html_title = None
    if file.suffix.lower() in (".html", ".htm"):
        text, html_title = html_to_text(text)
    first_heading = _MD_HEADING.search(text) if file.suffix.lower() in (".md", ".markdown") else None
    if first_heading:
        text = _MD_HEADING.sub(r"\2", text)  # headings become plain lines; offsets refer to this text
    text = normalize_text(text)
    if not text:
        return Skipped(source, "empty (no article text)")

    title = meta.get("title") or html_title or (first_heading.group(2) if first_heading else None)
    title = normalize_text(str(title)) if title else file.stem
    return Document(
        doc_id=doc_id_for(file, root),
        title=title,
        source=source,
        path=str(resolved),
        text=text,
        metadata=meta,
        content_hash=hashlib.sha256(raw).hexdigest(),
    )


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


class _TextExtractor(HTMLParser):
    _SKIP = {"script", "style", "noscript", "template", "svg", "head"}
    _BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section",
              "article", "blockquote", "pre", "hr", "table", "ul", "ol", "dd", "dt", "figcaption"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: str | None = None
        self.h1: str | None = None
        self._skip_depth = 0
        self._capture: str | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self._skip_depth += 1
        if tag in ("title", "h1") and self._capture is None:
            self._capture, self._buf = tag, []
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in self._SKIP and self._skip_depth:
            self._skip_depth -= 1
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
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str | None]:
    """Visible text of an HTML page (paragraphs kept) and its title."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    text = "\n".join(" ".join(line.split()) for line in text.split("\n"))
    return text, parser.title or parser.h1
