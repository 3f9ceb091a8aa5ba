"""Every variable Tairyo reads is documented in .env.example and README.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ = re.compile(r"""(?:env|StrictEnv\(\))\.\w+\(\s*["']([A-Z][A-Z0-9_]+)["']""")
COMPOSE = re.compile(r"\$\{([A-Z][A-Z0-9_]+)")


def _variables_read() -> set[str]:
    names = set(READ.findall((ROOT / "portal" / "settings.py").read_text()))
    names |= set(COMPOSE.findall((ROOT / "docker-compose.yml").read_text()))
    return names


def _documented_in_env_example() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_every_variable_is_in_env_example() -> None:
    missing = _variables_read() - _documented_in_env_example()
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_every_variable_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = {name for name in _variables_read() if f"`{name}`" not in readme}
    assert not missing, f"add to README.md's table: {sorted(missing)}"


def test_every_variable_in_env_example_is_read_somewhere() -> None:
    stale = _documented_in_env_example() - _variables_read() - {"HTTPS_PROXY", "NO_PROXY"}
    assert not stale, f"not read by settings.py or docker-compose.yml: {sorted(stale)}"
