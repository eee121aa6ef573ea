"""Which files an ingest reads: folders walked, hidden files and symlinked folders left out,
and each file's stable doc id."""

from __future__ import annotations

import os
from pathlib import Path

from .document import Skipped


def iter_files(paths: list[str | Path], home: Path | None = None) -> tuple[list[tuple[Path, Path]], list[Skipped]]:
    """Expand files and folders into ``(file, root)`` pairs; folders are walked recursively.

    A file or folder inside ``home`` (the corpus dir) gets ``home`` as its root, so a file's doc
    id is the same whether it, its folder or the whole corpus is ingested. Symlinked folders are not
    followed (no loops); hidden files are ignored.
    """
    found: list[tuple[Path, Path]] = []
    skipped: list[Skipped] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            root = p
            if home is not None and home.resolve() in p.resolve().parents:
                root = home.resolve()
                p = root / p.resolve().relative_to(root)
            for dirpath, dirnames, filenames in os.walk(p, followlinks=False):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    if not name.startswith("."):
                        found.append((Path(dirpath) / name, root))
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
