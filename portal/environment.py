"""Strict reading of Tairyo's settings from the environment.

django-environ parses URLs (databases, caches) well, but its booleans treat any unknown word as
false, so ``DJANGO_DEBUG=flase`` would silently switch production mode on. ``StrictEnv`` refuses
such values and names the variable in the error, so a misconfigured deployment stops at start-up
instead of running in a mode nobody chose.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class StrictEnv:
    """Typed accessors over ``os.environ``; errors name the variable (``ImproperlyConfigured``)."""

    def __init__(self) -> None:
        self._environ = environ.Env()

    def is_set(self, name: str) -> bool:
        return bool(os.environ.get(name, "").strip())

    def string(self, name: str, default: str | None = None) -> str:
        value = os.environ.get(name, "").strip()
        if value:
            return value
        if default is None:
            raise ImproperlyConfigured(f"{name} must be set (see .env.example)")
        return default

    def secret(self, name: str, default: str | None = None) -> str:
        """A secret from ``NAME`` or from the file named by ``NAME_FILE`` (Docker secrets)."""
        path = os.environ.get(f"{name}_FILE", "").strip()
        if path:
            try:
                return Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {exc}") from exc
        return self.string(name, default)

    def boolean(self, name: str, default: bool) -> bool:
        value = os.environ.get(name, "").strip().lower()
        if not value:
            return default
        if value in TRUE_WORDS:
            return True
        if value in FALSE_WORDS:
            return False
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a boolean; use one of "
            f"{', '.join(sorted(TRUE_WORDS | FALSE_WORDS))}"
        )

    def integer(self, name: str, default: int, minimum: int | None = None) -> int:
        value = os.environ.get(name, "").strip()
        if not value:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}")
        return number

    def csv_list(self, name: str, default: list[str] | None = None) -> list[str]:
        value = os.environ.get(name, "")
        items = [item.strip() for item in value.split(",") if item.strip()]
        if items:
            return items
        if default is None:
            raise ImproperlyConfigured(f"{name} must be set to a comma-separated list")
        return default

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = os.environ.get(name, "").strip().lower() or default
        if value not in choices:
            raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(choices)}")
        return value

    def database(self, name: str, default: str | None = None) -> dict[str, Any]:
        url = self.string(name, default)
        try:
            config: dict[str, Any] = self._environ.db_url_config(url)
        except Exception as exc:  # django-environ raises several types for a malformed URL
            raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from exc
        if not config.get("ENGINE"):
            raise ImproperlyConfigured(f"{name}: unsupported database scheme in {url!r}")
        return config

    def url(self, name: str, default: str | None = None, schemes: tuple[str, ...] = ()) -> str:
        value = self.string(name, default)
        scheme, sep, rest = value.partition("://")
        if not sep or not rest or (schemes and scheme not in schemes):
            expected = " or ".join(f"{s}://" for s in schemes) or "a URL"
            raise ImproperlyConfigured(f"{name}={value!r} is not {expected}")
        return value.rstrip("/") if scheme.startswith("http") else value


def read_env_file(path: Path) -> None:
    """Load ``KEY=value`` lines from ``path`` without overriding the real environment."""
    if path.is_file():
        environ.Env.read_env(str(path), overwrite=False)
