"""Downtimes, the scheduled maintenance windows that silence notifications (§8.1)."""

from __future__ import annotations

from typing import Any

from mackerel_sim import scopes
from mackerel_sim.errors import bad_request, not_found
from mackerel_sim.state import JSON, Downtime, Organization, World

RECURRENCE_TYPES = ("hourly", "daily", "weekly", "monthly", "yearly")
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
NAME_MAX = 250
MEMO_MAX = 2048
SCOPE_KINDS = (
    ("serviceScopes", "serviceExcludeScopes", scopes.services),
    ("roleScopes", "roleExcludeScopes", scopes.roles),
    ("monitorScopes", "monitorExcludeScopes", scopes.monitors),
)


def _integer(raw: JSON, key: str) -> int:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise bad_request(f"{key} must be an integer")
    return int(value)


def _optional_integer(raw: JSON, key: str) -> int | None:
    return None if raw.get(key) is None else _integer(raw, key)


def _recurrence(raw: Any, start: int) -> JSON:
    if not isinstance(raw, dict) or raw.get("type") not in RECURRENCE_TYPES:
        raise bad_request(f"recurrence.type must be one of {', '.join(RECURRENCE_TYPES)}")
    recurrence: JSON = {"type": raw["type"], "interval": _integer(raw, "interval")}
    if recurrence["interval"] < 1:
        raise bad_request("recurrence.interval must be 1 or more")
    weekdays = raw.get("weekdays")
    if weekdays is not None:
        if raw["type"] != "weekly":
            raise bad_request("recurrence.weekdays is only for weekly recurrences")
        if not isinstance(weekdays, list) or not all(d in WEEKDAYS for d in weekdays):
            raise bad_request("recurrence.weekdays must name days like Monday")
        recurrence["weekdays"] = weekdays
    until = _optional_integer(raw, "until")
    if until is not None:
        if until < start:
            raise bad_request("recurrence.until must not be before start")
        recurrence["until"] = until
    return recurrence


def normalize(org: Organization, raw: Any) -> JSON:
    if not isinstance(raw, dict):
        raise bad_request("invalid body")
    name = raw.get("name")
    if not isinstance(name, str) or not name or len(name) > NAME_MAX:
        raise bad_request(f"name is required and at most {NAME_MAX} characters")
    memo = raw.get("memo", "") or ""
    if not isinstance(memo, str) or len(memo) > MEMO_MAX:
        raise bad_request(f"memo must be at most {MEMO_MAX} characters")
    start = _integer(raw, "start")
    duration = _integer(raw, "duration")
    if duration <= 0:
        raise bad_request("duration must be positive (minutes)")
    fields: JSON = {"name": name, "memo": memo, "start": start, "duration": duration}
    if raw.get("recurrence") is not None:
        fields["recurrence"] = _recurrence(raw["recurrence"], start)
    for include_key, exclude_key, read in SCOPE_KINDS:
        include = read(org, raw.get(include_key), include_key)
        exclude = read(org, raw.get(exclude_key), exclude_key)
        if set(include) & set(exclude):
            raise bad_request(f"{include_key} and {exclude_key} overlap")
        if include:
            fields[include_key] = include
        if exclude:
            fields[exclude_key] = exclude
    return fields


def find(org: Organization, downtime_id: str) -> Downtime:
    downtime = org.downtimes.get(downtime_id)
    if downtime is None:
        raise not_found("Downtime")
    return downtime


def create(world: World, org: Organization, raw: Any) -> Downtime:
    downtime = Downtime(id=world.ids.new_id(), fields=normalize(org, raw))
    org.downtimes[downtime.id] = downtime
    return downtime


def update(org: Organization, downtime_id: str, raw: Any) -> Downtime:
    downtime = find(org, downtime_id)
    downtime.fields = normalize(org, raw)
    return downtime


def delete(org: Organization, downtime_id: str) -> Downtime:
    return org.downtimes.pop(find(org, downtime_id).id)
