"""CHATBOT_AUTH parsing and the start-up warning for a web chat open beyond loopback (the login
itself, in a real browser, is in test_web.py)."""

import os
import subprocess
import sys

import pytest

from chatbot import Settings
from chatbot.webauth import AuthConfigError, exposure_warning, is_loopback, load_credentials
from helpers import ROOT, free_port


def test_unset_auth_means_no_login(monkeypatch):
    monkeypatch.delenv("CHATBOT_AUTH", raising=False)
    assert Settings().auth is None and load_credentials(Settings().auth) is None
    assert load_credentials("  ") is None


def test_inline_user_and_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("CHATBOT_AUTH", "editor:s3cret:with:colons")
    settings = Settings()
    assert "s3cret" not in repr(settings)  # a secret: not shown when settings are printed
    assert load_credentials(settings.auth) == [("editor", "s3cret:with:colons")]


def test_a_file_of_logins(tmp_path):
    f = tmp_path / "logins"
    f.write_text("# who may read\neditor:one\n\n  desk : two  \n", encoding="utf-8")
    assert load_credentials(str(f)) == [("editor", "one"), ("desk", " two")]


@pytest.mark.parametrize("value, message", [
    ("no-colon-and-no-file", "neither `user:password` nor the path"),
    (":password", "not `user:password`"),
    ("user:", "not `user:password`"),
])
def test_unusable_inline_values_are_clear_errors(value, message):
    with pytest.raises(AuthConfigError, match=message):
        load_credentials(value)


def test_unusable_files_are_clear_errors_without_the_password(tmp_path):
    f = tmp_path / "logins"
    f.write_text("editor:hunter2\nbroken-line\n", encoding="utf-8")
    with pytest.raises(AuthConfigError, match="line 2 of") as err:
        load_credentials(str(f))
    assert "hunter2" not in str(err.value)
    f.write_text("a:1\na:2\n", encoding="utf-8")
    with pytest.raises(AuthConfigError, match="more than once"):
        load_credentials(str(f))
    f.write_text("# nothing\n\n", encoding="utf-8")
    with pytest.raises(AuthConfigError, match="no `user:password` line"):
        load_credentials(str(f))


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True), ("[::1]", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("chat.example.org", False),
])
def test_loopback_addresses(host, loopback):
    assert is_loopback(host) is loopback


def test_warning_only_for_an_open_chat_beyond_loopback():
    assert exposure_warning("127.0.0.1", 7860, None) is None
    assert exposure_warning("0.0.0.0", 7860, [("editor", "one")]) is None
    warning = exposure_warning("0.0.0.0", 7860, None)
    assert warning.startswith("warning:") and "0.0.0.0:7860" in warning and "CHATBOT_AUTH" in warning


def run_app(tmp_path, **env) -> subprocess.CompletedProcess:
    """``app.py`` with a Chroma server URL where nothing listens: it stops at the first ingest,
    after its start-up checks and before it loads a model or listens on anything."""
    full = {**os.environ, "CHATBOT_DATA_DIR": str(tmp_path / "data"),
            "CHATBOT_CHROMA_URL": f"http://127.0.0.1:{free_port()}", **env}
    return subprocess.run([sys.executable, str(ROOT / "app.py")], env=full, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)


def test_app_warns_at_start_when_open_beyond_loopback_and_stops_on_a_bad_auth(tmp_path):
    open_chat = run_app(tmp_path, CHATBOT_HOST="0.0.0.0", CHATBOT_AUTH="")
    assert "warning: the web chat listens on 0.0.0.0" in open_chat.stderr
    assert open_chat.returncode == 1 and "Cannot use the vector store" in open_chat.stderr  # (no server)

    with_login = run_app(tmp_path, CHATBOT_HOST="0.0.0.0", CHATBOT_AUTH="editor:one")
    assert "warning:" not in with_login.stderr

    bad = run_app(tmp_path, CHATBOT_AUTH="no-colon-and-no-file")
    assert bad.returncode == 1 and "error: CHATBOT_AUTH is neither" in bad.stderr
    assert "Traceback" not in bad.stderr
