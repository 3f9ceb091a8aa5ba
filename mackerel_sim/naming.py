"""Mackerel's naming rules (mackerel-api.md §1.6), raising 400 like the real API."""

from __future__ import annotations

import re

from mackerel_sim.errors import bad_request

# [A-Za-z0-9_-], 2–63 characters, not starting with "-" or "_".
SERVICE_ROLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,62}$")
METRIC_NAME = re.compile(r"^[a-zA-Z0-9._-]+$")
CHECK_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
HOST_NAME_MAX = 255


def check_service_name(name: object) -> str:
    if not isinstance(name, str) or not SERVICE_ROLE_NAME.match(name):
        raise bad_request(f"invalid service name: {name!r}")
    return name


def check_role_name(name: object) -> str:
    if not isinstance(name, str) or not SERVICE_ROLE_NAME.match(name):
        raise bad_request(f"invalid role name: {name!r}")
    return name


def check_host_name(name: object) -> str:
    # Mackerel documents no host-name grammar; refuse what no hostname can be.
    if not isinstance(name, str) or not name.strip() or len(name) > HOST_NAME_MAX:
        raise bad_request("name is required")
    if any(ch.isspace() for ch in name):
        raise bad_request(f"invalid host name: {name!r}")
    return name


def check_metric_name(name: object) -> str:
    if not isinstance(name, str) or not METRIC_NAME.match(name):
        raise bad_request(f"invalid metric name: {name!r}")
    return name


def check_check_name(name: object) -> str:
    if not isinstance(name, str) or not CHECK_NAME.match(name):
        raise bad_request(f"invalid check monitor name: {name!r}")
    return name


def split_role_fullname(text: object) -> tuple[str, str]:
    """`"Svc:role"` or `"Svc: role"` → ("Svc", "role"); both spellings are accepted (§1.6)."""
    if not isinstance(text, str) or text.count(":") != 1:
        raise bad_request(f"invalid role fullname: {text!r}")
    service, role = (part.strip() for part in text.split(":"))
    return check_service_name(service), check_role_name(role)


def spaced_fullname(service: str, role: str) -> str:
    return f"{service}: {role}"
