"""The settings reference (docs/configuration.md) lists every setting and no removed one."""

import re
from pathlib import Path

from chatbot.config import Settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_every_setting_is_documented_and_no_other():
    documented = set(re.findall(r"^\| `CHATBOT_([A-Z0-9_]+)` \|", DOC.read_text(encoding="utf-8"), re.M))
    assert documented == {name.upper() for name in Settings.model_fields}
