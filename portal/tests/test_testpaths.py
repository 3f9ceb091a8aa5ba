"""Every test directory is collected: a package left out of testpaths is never run by CI."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_with_tests_is_in_testpaths() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    testpaths = set(config["tool"]["pytest"]["ini_options"]["testpaths"])
    with_tests = {
        path.parent.name
        for path in ROOT.glob("*/tests")
        if path.is_dir() and not path.parent.name.startswith(".")
    }
    if (ROOT / "tests").is_dir():
        with_tests.add("tests")
    assert with_tests <= testpaths, f"not collected: {sorted(with_tests - testpaths)}"
