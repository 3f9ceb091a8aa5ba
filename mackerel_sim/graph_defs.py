"""Graph definitions for custom host metrics, as mackerel-agent posts them (§5.4)."""

from __future__ import annotations

import re
from typing import Any

from mackerel_sim.errors import bad_request
from mackerel_sim.state import JSON, Organization

GRAPH_NAME = re.compile(r"^custom(\.([-a-zA-Z0-9_]+|[*#]))+$")
UNITS = (
    "float",
    "integer",
    "percentage",
    "seconds",
    "milliseconds",
    "bytes",
    "bytes/sec",
    "bits/sec",
    "iops",
)


def _definition(raw: Any) -> JSON:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise bad_request("name is required")
    name = raw["name"]
    if not GRAPH_NAME.match(name) or name.count("#") > 1:
        raise bad_request(f"invalid graph name: {name!r}")
    if raw.get("unit") is not None and raw["unit"] not in UNITS:
        raise bad_request(f"unit must be one of {', '.join(UNITS)}")
    metrics = raw.get("metrics")
    if not isinstance(metrics, list) or not all(
        isinstance(m, dict) and isinstance(m.get("name"), str) for m in metrics
    ):
        raise bad_request("metrics must be an array of {name, displayName?, isStacked}")
    return raw


def create(org: Organization, body: Any) -> None:
    if not isinstance(body, list):
        raise bad_request("the body must be an array of graph definitions")
    definitions = [_definition(raw) for raw in body]
    for definition in definitions:
        org.graph_defs[definition["name"]] = definition


def delete(org: Organization, body: Any) -> None:
    """DELETE with a body `{"name"}`; 400 when no such definition exists (§5.4)."""
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or org.graph_defs.pop(name, None) is None:
        raise bad_request("graph definition not found")
