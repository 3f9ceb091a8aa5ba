"""Host, service and role metadata: free JSON per namespace (mackerel-api.md §3.2)."""

from __future__ import annotations

import json
import re
from email.utils import formatdate
from typing import Any

from mackerel_sim.errors import ApiError, bad_request
from mackerel_sim.state import JSON, Organization, World

NAMESPACE = re.compile(r"^[-a-zA-Z0-9_]+$")
MAX_BYTES = 100 * 1024
MAX_NAMESPACES = 50


def service_key(org: Organization, service: str, role: str | None = None) -> tuple[str, ...]:
    """("service", name) or ("role", service, role); 404 if either is unknown."""
    known = org.service(service)
    if role is None:
        return ("service", service)
    if role not in known.roles:
        raise ApiError(404, "Role Not Found.")
    return ("role", service, role)


def _namespace(name: str, *, writing: bool) -> str:
    if not NAMESPACE.match(name):
        raise bad_request(f"invalid namespace: {name!r}")
    if writing and name.startswith("mackerel"):
        raise bad_request("namespaces starting with mackerel are reserved")
    return name


def get(org: Organization, owner: tuple[str, ...], namespace: str) -> tuple[Any, dict[str, str]]:
    """The stored JSON, verbatim, with its Last-Modified header."""
    entry = org.metadata.get(owner, {}).get(_namespace(namespace, writing=False))
    if entry is None:
        raise ApiError(404, "Metadata Not Found.")
    value, modified = entry
    return value, {"Last-Modified": formatdate(modified, usegmt=True)}


def put(
    world: World, org: Organization, owner: tuple[str, ...], namespace: str, value: Any
) -> None:
    namespace = _namespace(namespace, writing=True)
    if len(json.dumps(value).encode()) > MAX_BYTES:
        raise bad_request(f"metadata must be at most {MAX_BYTES} bytes")
    store = org.metadata.setdefault(owner, {})
    if namespace not in store and len(store) >= MAX_NAMESPACES:
        raise bad_request(f"at most {MAX_NAMESPACES} namespaces")
    store[namespace] = (value, world.now())


def delete(org: Organization, owner: tuple[str, ...], namespace: str) -> None:
    namespace = _namespace(namespace, writing=True)
    if org.metadata.get(owner, {}).pop(namespace, None) is None:
        raise ApiError(404, "Metadata Not Found.")


def namespaces(org: Organization, owner: tuple[str, ...]) -> list[JSON]:
    return [{"namespace": n} for n in sorted(org.metadata.get(owner, {}))]
