"""The Japanese catalogue is complete and its compiled form is current."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "ja" / "LC_MESSAGES" / "django.po"


def test_every_message_has_a_japanese_translation() -> None:
    text = PO.read_text(encoding="utf-8")
    untranslated = re.findall(r'\nmsgid "((?:[^"\\]|\\.)+)"\nmsgstr ""\n\n', text + "\n")
    assert not untranslated, f"translate in {PO}: {untranslated}"
    assert "#, fuzzy" not in text, "fuzzy entries are not shown to users: review them"


def test_compiled_catalogue_matches_the_source(tmp_path: Path) -> None:
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(PO)], check=True)
    assert compiled.read_bytes() == PO.with_suffix(".mo").read_bytes(), "run `make messages`"
