"""Requests, responses and a tiny regex router shared by the Mackerel API and the admin API."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import unquote

from mackerel_sim.errors import bad_request
from mackerel_sim.state import Organization


class Headers(Protocol):
    """Case-insensitive header lookup, as `http.client.HTTPMessage` offers."""

    def get(self, name: str, default: None = None) -> str | None: ...


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


@dataclass
class Request:
    """An incoming request with its path parameters and, once authenticated, its organization."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Headers
    body: bytes
    params: list[str] = field(default_factory=list)
    org: Organization | None = None
    can_write: bool = False

    def json(self, *, empty: Any = None) -> Any:
        """The body as JSON; `empty` stands in for a missing body; 400 for anything invalid."""
        if not self.body.strip():
            return empty
        try:
            # NaN and Infinity are not JSON, whatever Python's parser allows.
            return json.loads(self.body, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError):
            raise bad_request("invalid JSON") from None

    def one(self, key: str) -> str | None:
        values = self.query.get(key)
        return values[0] if values else None

    @property
    def organization(self) -> Organization:
        if self.org is None:
            raise RuntimeError("this route needs an authenticated organization")
        return self.org


@dataclass
class Response:
    """A JSON response."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()


Context = TypeVar("Context")
Handler = Callable[[Context, Request], Response]


@dataclass
class Route(Generic[Context]):
    """One method and path pattern; `write` routes need a read-write key."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler[Context]
    write: bool


class Router(Generic[Context]):
    """Matches method and path; path groups arrive URL-decoded in `request.params`."""

    def __init__(self) -> None:
        self.routes: list[Route[Context]] = []

    def add(
        self, method: str, path: str, handler: Handler[Context], *, write: bool = False
    ) -> None:
        pattern = re.compile("^" + path.replace("{}", "([^/]+)") + "$")
        self.routes.append(Route(method, pattern, handler, write))

    def match(self, method: str, path: str) -> tuple[Route[Context], list[str]] | None:
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method == method:
                return route, [unquote(g) for g in found.groups()]
        return None
