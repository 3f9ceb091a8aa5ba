"""Scope lists shared by downtimes and alert group settings: services, roles, monitors."""

from __future__ import annotations

from typing import Any

from mackerel_sim.errors import bad_request
from mackerel_sim.naming import spaced_fullname, split_role_fullname
from mackerel_sim.state import Organization


def _strings(raw: Any, key: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise bad_request(f"{key} must be an array of strings")
    return raw


def services(org: Organization, raw: Any, key: str) -> list[str]:
    names = _strings(raw, key)
    for name in names:
        if name not in org.services:
            raise bad_request(f"service {name} in {key} does not exist")
    return names


def roles(org: Organization, raw: Any, key: str) -> list[str]:
    """Role full names, answered in Mackerel's "Svc: role" spelling."""
    result = []
    for fullname in _strings(raw, key):
        service, role = split_role_fullname(fullname)
        known = org.services.get(service)
        if known is None or role not in known.roles:
            raise bad_request(f"role {fullname} in {key} does not exist")
        result.append(spaced_fullname(service, role))
    return result


def monitors(org: Organization, raw: Any, key: str) -> list[str]:
    ids = _strings(raw, key)
    for monitor_id in ids:
        if monitor_id not in org.monitors:
            raise bad_request(f"monitor {monitor_id} in {key} does not exist")
    return ids
