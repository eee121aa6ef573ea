"""A synthetic corpus of any size, one chunk per article, and realistic queries.

The source is JSQuAD's validation split (1,145 distinct paragraphs and their questions) when it
is at ``../shared/data/jsquad``; on a machine without it, the project's own articles (split into
short paragraphs) and eval questions. Past the source's size, articles reorder a short
paragraph's sentences and add one sentence of another paragraph, so every article is new text
(nothing is deduplicated away) of realistic Japanese news-like length.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from chatbot.chunking import chunk_text
from chatbot.loaders import Document, load_file
from eval.jsquad import DEFAULT_PATH, load_jsquad

ROOT = Path(__file__).resolve().parent.parent
MAX_CHARS = 200  # short enough that every article is exactly one chunk
_SENTENCE = re.compile(r"[^。]+。?")


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.findall(text) if s.strip()]


def source(path: Path = DEFAULT_PATH) -> tuple[str, list[tuple[str, str]], list[str]]:
    """``(name, paragraphs as (title, body), questions)``: JSQuAD if present, else the project's own."""
    if path.exists():
        paragraphs, qs = load_jsquad(path)
        return "JSQuAD validation", paragraphs, [q["question"] for q in qs]
    paragraphs = []
    for f in sorted((ROOT / "corpus").glob("*.md")):
        doc = load_file(f, ROOT / "corpus")
        if not isinstance(doc, Document):
            continue
        body = ""
        for sentence in _sentences(" ".join(doc.text.split())):
            if body and len(body) + len(sentence) > MAX_CHARS - 60:
                paragraphs.append((doc.title, body))
                body = ""
            body += sentence.strip()
        if body:
            paragraphs.append((doc.title, body))
    with (ROOT / "eval" / "questions.jsonl").open(encoding="utf-8") as f:
        questions = [json.loads(line)["question"] for line in f if line.strip()]
    return "corpus/ and eval/questions.jsonl (JSQuAD not found)", paragraphs, questions


def texts(n: int, seed: int = 0, path: Path = DEFAULT_PATH) -> list[tuple[str, str]]:
    """``n`` distinct ``(title, body)`` pairs, each at most :data:`MAX_CHARS` characters."""
    name, paragraphs, _ = source(path)
    short = [(t, b) for t, b in paragraphs if len(b) <= MAX_CHARS - 40]
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    i = 0
    while len(out) < n:
        if i > 50 * (n + len(short)):
            raise RuntimeError(f"only {len(out)} distinct one-chunk articles could be built from {name}; "
                               f"put JSQuAD at {path} for larger corpora")
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


def dev_questions(ids: list[str] | None = None, n: int | None = None) -> list[dict]:
    """Rows of the dev split (``eval/dev.jsonl``; never the test set): those with ``ids``, in that
    order, or the first ``n`` that stand alone (no follow-ups)."""
    with (ROOT / "eval" / "dev.jsonl").open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if ids is not None:
        by_id = {r["id"]: r for r in rows}
        return [by_id[i] for i in ids]
    return [r for r in rows if r["type"] != "follow_up"][:n]
