"""YAML front matter (``---`` lines at the top of a Markdown, text or HTML file): the title,
publisher, author, date ... that override anything read from the file itself."""

from __future__ import annotations

import re

import yaml

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def split_front_matter(text: str) -> tuple[dict, str] | str:
    """``(front matter, the text after it)`` (``{}`` when there is none), or why it is malformed."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        loaded = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 2}" if where is not None else ""
        return f"malformed YAML front matter{line}: {getattr(exc, 'problem', exc)}"
    if loaded is not None and not isinstance(loaded, dict):
        return "malformed YAML front matter: expected 'key: value' lines"
    return {str(k): _plain(v) for k, v in (loaded or {}).items()}, text[match.end():]


def _plain(value):
    """Front-matter values as JSON-friendly scalars (YAML dates become ISO strings)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value)
