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
