"""docs/notification-templates.md documents every name a template can use."""

from __future__ import annotations

import re
from pathlib import Path

from notifications import previews, rendering
from notifications.template_library import SAFE_TAGS

DOC = Path(__file__).resolve().parents[2] / "docs" / "notification-templates.md"


def test_every_context_field_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    digest = previews.sample_digest("ja")
    for name in (*rendering.CASE_FIELDS, *digest):
        assert f"| `{name}` |" in text, name


def test_every_allowed_tag_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for tag in SAFE_TAGS:
        assert f"`{tag}`" in text, tag


def test_every_storm_and_flap_variable_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    env_example = (DOC.parents[1] / ".env.example").read_text(encoding="utf-8")
    names = re.findall(r"^(TAIRYO_(?:DIGEST|FLAP)_[A-Z_]+)=", env_example, flags=re.MULTILINE)
    assert len(names) == 5
    for name in names:
        assert f"`{name}`" in text, name
