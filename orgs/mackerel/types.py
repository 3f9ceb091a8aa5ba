"""Typed results of the Mackerel API, and the few typed inputs the client sends.

Parsing is defensive in one direction only: unknown fields are ignored and missing optional fields
become None (Mackerel adds fields at any time and omits unset ones), but a missing *required* field,
or a field of the wrong JSON type, raises ``ValueError``; the client turns that into
``UnexpectedResponseError`` naming the organization and endpoint, instead of storing a half-parsed
object.

Conventions: every Mackerel timestamp is epoch **seconds** in the REST API (mackerel-api.md §0), and
becomes an aware UTC datetime here. Alert and monitored statuses are lowercased (``"critical"``),
as Tairyo stores them and as Mackerel's webhooks send them; the REST API sends them uppercase.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

HOST_STATUSES = ("working", "standby", "maintenance", "poweroff")
ALERT_STATUSES = ("ok", "warning", "critical", "unknown")

# --------------------------------------------------------------------------------------------
# Reading JSON values. Each helper names the field in its error so a contract break is findable.


def as_object(value: object, what: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} is not a JSON object")
    return value


def _get_str(data: Mapping[str, object], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ValueError(f"field {key!r} is missing or not a string")
    return value


def _get_opt_str(data: Mapping[str, object], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"field {key!r} is not a string")
    return value


def _get_bool(data: Mapping[str, object], key: str, default: bool) -> bool:
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ValueError(f"field {key!r} is not a boolean")
    return value


def _get_opt_number(data: Mapping[str, object], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    # bool is an int subclass; true/false where a number belongs is a contract break.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"field {key!r} is not a number")
    return float(value)


def _get_opt_int(data: Mapping[str, object], key: str) -> int | None:
    number = _get_opt_number(data, key)
    if number is None:
        return None
    if not number.is_integer():
        raise ValueError(f"field {key!r} is not an integer")
    return int(number)


def epoch_to_datetime(value: float) -> datetime:
    if not math.isfinite(value):
        raise ValueError("timestamp is not finite")
    return datetime.fromtimestamp(value, tz=UTC)


def _get_time(data: Mapping[str, object], key: str) -> datetime:
    number = _get_opt_number(data, key)
    if number is None:
        raise ValueError(f"field {key!r} is missing")
    return epoch_to_datetime(number)


def _get_opt_time(data: Mapping[str, object], key: str) -> datetime | None:
    number = _get_opt_number(data, key)
    return None if number is None else epoch_to_datetime(number)


def _get_str_list(data: Mapping[str, object], key: str) -> list[str]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"field {key!r} is not a list of strings")
    return list(value)


def _get_opt_dict(data: Mapping[str, object], key: str) -> dict[str, Any] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"field {key!r} is not an object")
    return dict(value)


def _get_list(data: Mapping[str, object], key: str) -> list[object]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"field {key!r} is not a list")
    return value


def datetime_to_epoch(value: datetime) -> int:
    """Whole epoch seconds, the unit of every Mackerel API timestamp."""
    if value.tzinfo is None or value.utcoffset() is None:
        # A naive datetime would be read in the worker's local zone: refuse rather than guess.
        raise ValueError("Mackerel timestamps must be timezone-aware datetimes")
    return math.floor(value.timestamp())


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class Organization:
    """The organization an API key belongs to (``GET /api/v0/org``)."""

    name: str
    display_name: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, object]) -> Organization:
        return cls(name=_get_str(data, "name"), display_name=_get_opt_str(data, "displayName"))


@dataclass(frozen=True, slots=True)
class Interface:
    """A network interface of a host, as the agent reported it."""

    name: str
    ip_address: str | None
    ipv4_addresses: list[str]
    ipv6_addresses: list[str]
    mac_address: str | None

    @property
    def ip_addresses(self) -> list[str]:
        """Every address of the interface; the plural lists win, the singular field is legacy."""
        addresses = [*self.ipv4_addresses, *self.ipv6_addresses]
        if self.ip_address and self.ip_address not in addresses:
            addresses.insert(0, self.ip_address)
        return addresses

    @classmethod
    def from_api(cls, data: Mapping[str, object]) -> Interface:
        return cls(
            name=_get_opt_str(data, "name") or "",
            ip_address=_get_opt_str(data, "ipAddress"),
            ipv4_addresses=_get_str_list(data, "ipv4Addresses"),
            ipv6_addresses=_get_str_list(data, "ipv6Addresses"),
            mac_address=_get_opt_str(data, "macAddress"),
        )


@dataclass(frozen=True, slots=True)
class Host:
    """A Mackerel host. ``roles`` maps a service name to its role names on this host.

    Frozen means the attributes cannot be rebound; the lists and dicts inside are plain values
    copied out of the response, so mutating them changes nothing in Mackerel.
    """

    id: str
    name: str
    display_name: str | None
    custom_identifier: str | None
    status: str
    memo: str
    roles: dict[str, list[str]]
    interfaces: list[Interface]
    is_retired: bool
    created_at: datetime
    retired_at: datetime | None = None
    size: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def role_fullnames(self) -> list[str]:
        """``"Service:role"`` names, the form Mackerel accepts in ``roleFullnames``."""
        return [
            f"{service}:{role}"
            for service, roles in sorted(self.roles.items())
            for role in sorted(roles)
        ]

    @property
    def ip_addresses(self) -> list[str]:
        return [address for interface in self.interfaces for address in interface.ip_addresses]

    @classmethod
    def from_api(cls, data: Mapping[str, object]) -> Host:
        raw_roles = _get_opt_dict(data, "roles") or {}
        roles: dict[str, list[str]] = {}
        for service in raw_roles:
            roles[service] = _get_str_list(raw_roles, service)
        return cls(
            id=_get_str(data, "id"),
            name=_get_str(data, "name"),
            display_name=_get_opt_str(data, "displayName") or None,
            custom_identifier=_get_opt_str(data, "customIdentifier") or None,
            status=_get_str(data, "status"),
            memo=_get_opt_str(data, "memo") or "",
            roles=roles,
            interfaces=[
                Interface.from_api(as_object(item, "interface"))
                for item in _get_list(data, "interfaces")
            ],
            is_retired=_get_bool(data, "isRetired", default=False),
            created_at=_get_time(data, "createdAt"),
            retired_at=_get_opt_time(data, "retiredAt"),
            size=_get_opt_str(data, "size"),
            meta=_get_opt_dict(data, "meta") or {},
        )


@dataclass(frozen=True, slots=True)
class Service:
    """A Mackerel service and the names of its roles."""

    name: str
    memo: str
    roles: list[str]

    @classmethod
    def from_api(cls, data: Mapping[str, object]) -> Service:
        return cls(
            name=_get_str(data, "name"),
            memo=_get_opt_str(data, "memo") or "",
            roles=_get_str_list(data, "roles"),
        )


@dataclass(frozen=True, slots=True)
class Role:
    """A role of a service. Mackerel's role object has no service field; we add the one we asked."""

    service: str
    name: str
    memo: str

    @property
    def fullname(self) -> str:
        return f"{self.service}:{self.name}"

    @classmethod
    def from_api(cls, data: Mapping[str, object], *, service: str) -> Role:
        return cls(
            service=service, name=_get_str(data, "name"), memo=_get_opt_str(data, "memo") or ""
        )


@dataclass(frozen=True, slots=True)
class Monitor:
    """A monitor. Types differ in their fields, so ``definition`` keeps the whole JSON object."""

    id: str
    type: str
    name: str
    memo: str
    is_mute: bool
    notification_interval: int | None
    definition: dict[str, Any]

    def as_request_body(self) -> dict[str, Any]:
        """The definition without ``id``: what ``PUT /monitors/<id>`` expects as a full body."""
        return {key: value for key, value in self.definition.items() if key != "id"}

    @classmethod
    def from_api(cls, data: Mapping[str, object]) -> Monitor:
        return cls(
            id=_get_str(data, "id"),
            type=_get_str(data, "type"),
            name=_get_opt_str(data, "name") or "",
            memo=_get_opt_str(data, "memo") or "",
            is_mute=_get_bool(data, "isMute", default=False),
            notification_interval=_get_opt_int(data, "notificationInterval"),
            definition=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert. ``status`` is lowercase; closed alerts are ``"ok"`` with ``closed_at`` set."""

    id: str
    status: str
    monitor_id: str | None
    type: str
    host_id: str | None
    value: float | None
    message: str | None
    reason: str | None
    opened_at: datetime
    closed_at: datetime | None
    memo: str | None = None
    series: dict[str, Any] | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None and self.status != "ok"

    @classmethod
    def from_api(cls, data: Mapping[str, object]) -> Alert:
        return cls(
            id=_get_str(data, "id"),
            status=_get_str(data, "status").lower(),
            monitor_id=_get_opt_str(data, "monitorId"),
            type=_get_str(data, "type"),
            host_id=_get_opt_str(data, "hostId"),
            value=_get_opt_number(data, "value"),
            message=_get_opt_str(data, "message"),
            reason=_get_opt_str(data, "reason"),
            opened_at=_get_time(data, "openedAt"),
            closed_at=_get_opt_time(data, "closedAt"),
            memo=_get_opt_str(data, "memo"),
            series=_get_opt_dict(data, "series"),
        )


@dataclass(frozen=True, slots=True)
class AlertPage:
    """One page of ``GET /alerts``, newest first; ``next_id`` is None on the last page."""

    alerts: list[Alert]
    next_id: str | None


@dataclass(frozen=True, slots=True)
class AlertLog:
    """One entry of an alert's history (``GET /alerts/<id>/logs``)."""

    id: str
    created_at: datetime
    status: str
    trigger: str | None
    monitor_id: str | None
    target_value: float | None
    status_detail: dict[str, Any] | None

    @classmethod
    def from_api(cls, data: Mapping[str, object]) -> AlertLog:
        return cls(
            id=_get_str(data, "id"),
            created_at=_get_time(data, "createdAt"),
            status=_get_str(data, "status").lower(),
            trigger=_get_opt_str(data, "trigger"),
            monitor_id=_get_opt_str(data, "monitorId"),
            target_value=_get_opt_number(data, "targetValue"),
            status_detail=_get_opt_dict(data, "statusDetail"),
        )


@dataclass(frozen=True, slots=True)
class AlertLogPage:
    """One page of an alert's logs; ``next_id`` is None on the last page."""

    logs: list[AlertLog]
    next_id: str | None


@dataclass(frozen=True, slots=True)
class MonitoredStatus:
    """The current status of one monitor on a host (``GET /hosts/<id>/monitored-statuses``)."""

    monitor_id: str
    status: str
    detail: dict[str, Any] | None

    @classmethod
    def from_api(cls, data: Mapping[str, object]) -> MonitoredStatus:
        return cls(
            monitor_id=_get_str(data, "monitorId"),
            status=_get_str(data, "status").lower(),
            detail=_get_opt_dict(data, "detail"),
        )


@dataclass(frozen=True, slots=True)
class DowntimeRecurrence:
    """How a downtime repeats. ``weekdays`` (``"Monday"``...) only for ``type="weekly"``."""

    type: str
    interval: int
    weekdays: list[str] = field(default_factory=list)
    until: datetime | None = None

    def to_api(self) -> dict[str, object]:
        body: dict[str, object] = {"type": self.type, "interval": self.interval}
        if self.weekdays:
            body["weekdays"] = list(self.weekdays)
        if self.until is not None:
            body["until"] = datetime_to_epoch(self.until)
        return body

    @classmethod
    def from_api(cls, data: Mapping[str, object]) -> DowntimeRecurrence:
        return cls(
            type=_get_str(data, "type"),
            interval=_get_opt_int(data, "interval") or 1,
            weekdays=_get_str_list(data, "weekdays"),
            until=_get_opt_time(data, "until"),
        )


@dataclass(frozen=True, slots=True)
class Downtime:
    """A scheduled downtime. Mackerel counts ``duration`` in minutes; here it is a timedelta."""

    id: str
    name: str
    memo: str
    start: datetime
    duration: timedelta
    recurrence: DowntimeRecurrence | None = None
    service_scopes: list[str] = field(default_factory=list)
    service_exclude_scopes: list[str] = field(default_factory=list)
    role_scopes: list[str] = field(default_factory=list)
    role_exclude_scopes: list[str] = field(default_factory=list)
    monitor_scopes: list[str] = field(default_factory=list)
    monitor_exclude_scopes: list[str] = field(default_factory=list)

    @property
    def end(self) -> datetime:
        """End of the first occurrence."""
        return self.start + self.duration

    def as_spec(self) -> DowntimeSpec:
        """The fields to send back to ``update_downtime`` (a full replacement)."""
        return DowntimeSpec(
            name=self.name,
            start=self.start,
            duration=self.duration,
            memo=self.memo,
            recurrence=self.recurrence,
            service_scopes=list(self.service_scopes),
            service_exclude_scopes=list(self.service_exclude_scopes),
            role_scopes=list(self.role_scopes),
            role_exclude_scopes=list(self.role_exclude_scopes),
            monitor_scopes=list(self.monitor_scopes),
            monitor_exclude_scopes=list(self.monitor_exclude_scopes),
        )

    @classmethod
    def from_api(cls, data: Mapping[str, object]) -> Downtime:
        minutes = _get_opt_number(data, "duration")
        if minutes is None:
            raise ValueError("field 'duration' is missing")
        recurrence = _get_opt_dict(data, "recurrence")
        return cls(
            id=_get_str(data, "id"),
            name=_get_str(data, "name"),
            memo=_get_opt_str(data, "memo") or "",
            start=_get_time(data, "start"),
            duration=timedelta(minutes=minutes),
            recurrence=None if recurrence is None else DowntimeRecurrence.from_api(recurrence),
            service_scopes=_get_str_list(data, "serviceScopes"),
            service_exclude_scopes=_get_str_list(data, "serviceExcludeScopes"),
            role_scopes=_get_str_list(data, "roleScopes"),
            role_exclude_scopes=_get_str_list(data, "roleExcludeScopes"),
            monitor_scopes=_get_str_list(data, "monitorScopes"),
            monitor_exclude_scopes=_get_str_list(data, "monitorExcludeScopes"),
        )


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One stored metric value."""

    time: datetime
    value: float

    @classmethod
    def from_api(cls, data: Mapping[str, object]) -> MetricPoint:
        value = _get_opt_number(data, "value")
        if value is None:
            raise ValueError("field 'value' is missing")
        return cls(time=_get_time(data, "time"), value=value)


# --------------------------------------------------------------------------------------------
# Inputs


def _finite(value: float, what: str) -> float:
    # JSON has no NaN/Infinity: json.dumps would emit invalid JSON that Mackerel rejects whole.
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number")
    return value


@dataclass(frozen=True, slots=True)
class HostMetricValue:
    """A value to post to ``POST /api/v0/tsdb``."""

    host_id: str
    name: str
    time: datetime
    value: float

    def to_api(self) -> dict[str, object]:
        return {
            "hostId": self.host_id,
            "name": self.name,
            "time": datetime_to_epoch(self.time),
            "value": _finite(self.value, f"value of {self.name}"),
        }


@dataclass(frozen=True, slots=True)
class ServiceMetricValue:
    """A value to post to ``POST /api/v0/services/<service>/tsdb``."""

    name: str
    time: datetime
    value: float

    def to_api(self) -> dict[str, object]:
        return {
            "name": self.name,
            "time": datetime_to_epoch(self.time),
            "value": _finite(self.value, f"value of {self.name}"),
        }


@dataclass(frozen=True, slots=True)
class DowntimeSpec:
    """A downtime to create or the full replacement of one (``PUT`` resets what is omitted)."""

    name: str
    start: datetime
    duration: timedelta
    memo: str = ""
    recurrence: DowntimeRecurrence | None = None
    service_scopes: list[str] = field(default_factory=list)
    service_exclude_scopes: list[str] = field(default_factory=list)
    role_scopes: list[str] = field(default_factory=list)
    role_exclude_scopes: list[str] = field(default_factory=list)
    monitor_scopes: list[str] = field(default_factory=list)
    monitor_exclude_scopes: list[str] = field(default_factory=list)

    def to_api(self) -> dict[str, object]:
        minutes = self.duration / timedelta(minutes=1)
        # Mackerel counts downtime durations in whole minutes.
        if minutes < 1 or not minutes.is_integer():
            raise ValueError("a downtime's duration must be a positive whole number of minutes")
        body: dict[str, object] = {
            "name": self.name,
            "memo": self.memo,
            "start": datetime_to_epoch(self.start),
            "duration": int(minutes),
        }
        if self.recurrence is not None:
            body["recurrence"] = self.recurrence.to_api()
        scopes = {
            "serviceScopes": self.service_scopes,
            "serviceExcludeScopes": self.service_exclude_scopes,
            "roleScopes": self.role_scopes,
            "roleExcludeScopes": self.role_exclude_scopes,
            "monitorScopes": self.monitor_scopes,
            "monitorExcludeScopes": self.monitor_exclude_scopes,
        }
        body.update({key: list(value) for key, value in scopes.items() if value})
        return body


@dataclass(frozen=True, slots=True)
class CheckReport:
    """A check-monitoring result for a host (``POST /api/v0/monitoring/checks/report``).

    ``status`` is ok/warning/critical/unknown in either case; it is sent uppercase.
    """

    host_id: str
    name: str
    status: str
    message: str
    occurred_at: datetime
    notification_interval: int | None = None
    max_check_attempts: int | None = None

    def to_api(self) -> dict[str, object]:
        status = self.status.lower()
        if status not in ALERT_STATUSES:
            raise ValueError(f"check status must be one of {ALERT_STATUSES}, not {self.status!r}")
        body: dict[str, object] = {
            "source": {"type": "host", "hostId": self.host_id},
            "name": self.name,
            "status": status.upper(),
            "message": self.message,
            "occurredAt": datetime_to_epoch(self.occurred_at),
        }
        if self.notification_interval is not None:
            body["notificationInterval"] = self.notification_interval
        if self.max_check_attempts is not None:
            body["maxCheckAttempts"] = self.max_check_attempts
        return body
