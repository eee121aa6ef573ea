"""A synthetic corpus of any size from JSQuAD paragraphs, one chunk per article.

JSQuAD's validation split has 1,145 distinct paragraphs; larger corpora reorder a short
paragraph's sentences and add one sentence of another paragraph, so every article is new
text (nothing is deduplicated away) of realistic Japanese news-like length.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from chatbot.chunking import chunk_text
from eval.jsquad import DEFAULT_PATH, load_jsquad

MAX_CHARS = 200  # short enough that every article is exactly one chunk
_SENTENCE = re.compile(r"[^。]+。?")


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.findall(text) if s.strip()]


def texts(n: int, seed: int = 0, path: Path = DEFAULT_PATH) -> list[tuple[str, str]]:
    """``n`` distinct ``(title, body)`` pairs, each at most :data:`MAX_CHARS` characters."""
    paragraphs, _ = load_jsquad(path)
    short = [(t, b) for t, b in paragraphs if len(b) <= MAX_CHARS - 40]
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    i = 0
    while len(out) < n:
        title, body = short[i % len(short)]
        if i >= len(short):  # a variant: shuffled sentences plus one from elsewhere
            parts = _sentences(body)
            rng.shuffle(parts)
            extra = [s for s in _sentences(rng.choice(short)[1]) if len(s) <= MAX_CHARS - len(body)]
            body = "".join(parts + extra[:1])
        i += 1
        if body not in seen and len(chunk_text("x", body, 320, 1)) == 1:
            seen.add(body)
            out.append((title, body))
    return out


def write(n: int, folder: Path, seed: int = 0) -> Path:
    """Write ``n`` one-chunk Markdown articles under ``folder`` (idempotent)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, (title, body) in enumerate(texts(n, seed)):
        f = folder / f"{i:05d}.md"
        text = f"# {title}\n\n{body}\n"
        if not f.exists() or f.read_text(encoding="utf-8") != text:
            f.write_text(text, encoding="utf-8")
    return folder
