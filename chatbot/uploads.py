"""Adding an uploaded file to the corpus folder safely (the web chat's "add articles")."""

from __future__ import annotations

import hashlib
import os
import secrets
import unicodedata
from pathlib import Path

from .loaders import SUPPORTED_SUFFIXES, Skipped, load_file


def safe_name(name: str) -> str:
    """A plain file name for an upload: no folders, no control characters, not hidden."""
    name = unicodedata.normalize("NFC", Path(name.replace("\\", "/")).name)
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '/\\:*?"<>|').strip().lstrip(".")
    return name or "upload.txt"


def save_upload(src: Path, corpus: Path, max_bytes: int) -> tuple[Path | None, bool, str]:
    """Put one uploaded file into the corpus folder safely: ``(path, created, note)``, or
    ``(None, False, reason)`` when it is refused.

    Refused: an unsupported type, a file over ``max_bytes`` (checked before anything is written),
    a file that does not read as an article (checked on a hidden temporary copy, removed again).
    An existing file is never overwritten and a symlink is never written through: the file gets
    a numbered name (``a-2.html``) unless the corpus already holds the same bytes under its name.
    """
    name = safe_name(src.name)
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return None, False, f"unsupported file type (use {', '.join(SUPPORTED_SUFFIXES)})"
    size = src.stat().st_size
    if size > max_bytes:
        return None, False, f"too large ({size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:g} MB)"
    corpus.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    tmp = corpus / f".upload-{secrets.token_hex(6)}{suffix}"  # hidden: ingest never picks it up
    digest = hashlib.sha256()
    try:
        with os.fdopen(os.open(tmp, flags, 0o644), "wb") as out, open(src, "rb") as f:
            written = 0
            while block := f.read(1 << 20):
                written += len(block)
                if written > max_bytes:
                    raise ValueError(f"too large (over the limit of {max_bytes / 1e6:g} MB)")
                digest.update(block)
                out.write(block)
        checked = load_file(tmp, corpus)
        if isinstance(checked, Skipped):
            return None, False, checked.reason
        stem, n = Path(name).stem, 1
        while True:
            dst = corpus / (name if n == 1 else f"{stem}-{n}{suffix}")
            if dst.is_file() and not dst.is_symlink() and _sha256(dst) == digest.hexdigest():
                return dst, False, "already in the corpus"
            try:
                os.link(tmp, dst)  # fails if dst exists in any form, a symlink included
            except FileExistsError:
                n += 1
                continue
            return dst, True, "" if n == 1 else f"saved as {dst.name} ({name} exists)"
    except ValueError as exc:
        return None, False, str(exc)
    finally:
        tmp.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()
