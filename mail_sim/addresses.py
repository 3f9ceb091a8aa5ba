"""Address checks both providers make at send time (the only recipient errors they raise then)."""

from __future__ import annotations

import fnmatch
import re
from email.utils import getaddresses, quote

# Deliberately loose, like the providers: one @, a dotted domain, no spaces. Anything
# stricter would reject addresses the real API accepts and hide bugs in the wrong place.
_SPECIALS = re.compile(r'[()<>@,;:\\".\[\]]')
_ADDR_SPEC = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\".]+$")


def is_valid(addr_spec: str) -> bool:
    return bool(_ADDR_SPEC.match(addr_spec))


def split(values: list[str]) -> list[tuple[str, str]]:
    """(name, addr_spec) pairs of form values that may each hold a comma-separated list."""
    return [(name, addr) for name, addr in getaddresses(values) if name or addr]


def formatted(name: str | None, addr_spec: str) -> str:
    """`Name <addr>` without RFC 2047 encoding, so non-ASCII names read as sent."""
    if not name:
        return addr_spec
    if _SPECIALS.search(name):
        name = f'"{quote(name)}"'
    return f"{name} <{addr_spec}>"


def matches(addr_spec: str, pattern: str) -> bool:
    """Shell-style, case-insensitive match, e.g. `*@bounce.invalid`."""
    return fnmatch.fnmatchcase(addr_spec.lower(), pattern.lower())
