"""Compare the simulator's JSON against fixtures written by hand from mackerel-api.md.

In a fixture, these strings stand for any value of a kind:
`<id>` an 11-character base58 ID, `<epoch-seconds>`, `<epoch-ms>`, `<string>`, `<number>`,
`<integer>`, `<bool>`, `<any>`. Objects must have exactly the fixture's keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
BASE58_ID = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{11}$")
# Anything after 2001-09-09 and before 2286 in seconds; the same range in milliseconds.
SECONDS = range(10**9, 10**10)
MILLISECONDS = range(10**12, 10**13)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _wildcard(expected: str, actual: Any) -> bool | None:
    checks: dict[str, Callable[[], bool]] = {
        "<id>": lambda: isinstance(actual, str) and bool(BASE58_ID.match(actual)),
        "<epoch-seconds>": lambda: isinstance(actual, int) and actual in SECONDS,
        "<epoch-ms>": lambda: isinstance(actual, int) and actual in MILLISECONDS,
        "<string>": lambda: isinstance(actual, str),
        "<number>": lambda: isinstance(actual, int | float) and not isinstance(actual, bool),
        "<integer>": lambda: isinstance(actual, int) and not isinstance(actual, bool),
        "<bool>": lambda: isinstance(actual, bool),
        "<any>": lambda: True,
    }
    check = checks.get(expected)
    return None if check is None else check()


def mismatches(actual: Any, expected: Any, path: str = "$") -> list[str]:
    """Every difference between `actual` and the fixture, as readable lines."""
    if isinstance(expected, str):
        verdict = _wildcard(expected, actual)
        if verdict is not None:
            return [] if verdict else [f"{path}: {actual!r} is not {expected}"]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        problems = [f"{path}: missing key {k!r}" for k in expected if k not in actual]
        problems += [f"{path}: unexpected key {k!r}" for k in actual if k not in expected]
        for key in expected.keys() & actual.keys():
            problems += mismatches(actual[key], expected[key], f"{path}.{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {len(expected)} items, got {actual!r}"]
        problems = []
        for n, (a, e) in enumerate(zip(actual, expected, strict=True)):
            problems += mismatches(a, e, f"{path}[{n}]")
        return problems
    if type(actual) is bool or type(expected) is bool:
        return [] if actual is expected else [f"{path}: {actual!r} != {expected!r}"]
    return [] if actual == expected else [f"{path}: {actual!r} != {expected!r}"]


def assert_matches(actual: Any, expected: Any) -> None:
    problems = mismatches(actual, expected)
    assert not problems, "\n".join(problems) + f"\nactual: {json.dumps(actual, ensure_ascii=False)}"
