"""The web chat's optional login (``CHATBOT_AUTH``) and the start-up warning for an open one.

``CHATBOT_AUTH`` is either ``user:password`` or the path of a file with one ``user:password``
per line (blank lines and lines starting with ``#`` are ignored; the password is everything
after the first ``:``). The pairs go to Gradio's ``launch(auth=...)``, which shows a login page
and refuses every page and API call without the session cookie it sets.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import SecretStr

from .errors import ChatbotError


class AuthConfigError(ChatbotError):
    """CHATBOT_AUTH cannot be used (the message never repeats a password)."""


def load_credentials(value: str | SecretStr | None) -> list[tuple[str, str]] | None:
    """``[(user, password), ...]`` from CHATBOT_AUTH, or ``None`` when it is unset."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    value = (value or "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if path.is_file():
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise AuthConfigError(f"Cannot read the CHATBOT_AUTH file {path}: {exc}") from None
        pairs = [_pair(line, f"line {i} of {path}") for i, line in enumerate(lines, 1)
                 if line.strip() and not line.strip().startswith("#")]
        if not pairs:
            raise AuthConfigError(f"The CHATBOT_AUTH file {path} holds no `user:password` line.")
    elif ":" in value:
        pairs = [_pair(value, "CHATBOT_AUTH")]
    else:
        raise AuthConfigError("CHATBOT_AUTH is neither `user:password` nor the path of an existing file.")
    users = [user for user, _ in pairs]
    if len(set(users)) != len(users):
        raise AuthConfigError("CHATBOT_AUTH names a user more than once.")
    return pairs


def _pair(line: str, where: str) -> tuple[str, str]:
    user, sep, password = line.strip().partition(":")
    if not sep or not user.strip() or not password:
        raise AuthConfigError(f"{where} is not `user:password` (both non-empty).")
    return user.strip(), password


def is_loopback(host: str) -> bool:
    """True if the address only accepts connections from this machine."""
    host = host.strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


def exposure_warning(host: str, port: int, credentials: list[tuple[str, str]] | None) -> str | None:
    """The warning printed at start-up when the chat listens beyond loopback without a login."""
    if credentials or is_loopback(host):
        return None
    return (f"warning: the web chat listens on {host}:{port} without a login: anyone who can reach it "
            "can read the articles, add new ones and use the model. Set CHATBOT_AUTH=user:password "
            "(or the path of a file of such lines), or CHATBOT_HOST=127.0.0.1.")
