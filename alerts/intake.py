"""Parsing of Mackerel's webhook payloads (mackerel-api.md section 9): pure functions, no I/O.

Lenient in what Mackerel may add (unknown fields, newer documented fields, fractional numbers,
every documented ``trigger``), strict only about what Tairyo cannot do without. Anything it
cannot understand raises ``MalformedWebhook`` with a reason a person can act on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ALERT_STATUSES = ("ok", "warning", "critical", "unknown")
HOST_STATUSES = ("working", "standby", "maintenance", "poweroff")
HOST_EVENTS = ("hostStatus", "hostRegister", "hostRetire")
MONITOR_EVENTS = ("monitorCreate", "monitorUpdate", "monitorDelete")
# Older and newer spellings of the same triggers (mackerel-api.md 9.3): one name each here.
TRIGGER_ALIASES = {
    "monitoring": "monitor",
    "manual": "manual close",
    "monitorDelete": "delete monitor",
    "hostRetire": "retire host",
}
# Seconds since 1970 beyond which a number must be milliseconds (year 2286 in seconds).
_MAX_EPOCH_SECONDS = 10_000_000_000


class MalformedWebhook(ValueError):
    """The payload cannot be understood; the message says why."""


@dataclass(frozen=True, slots=True)
class WebhookRole:
    service: str
    role: str

    @property
    def fullname(self) -> str:
        return f"{self.service}: {self.role}"


@dataclass(frozen=True, slots=True)
class WebhookHost:
    id: str
    name: str
    status: str
    memo: str
    is_retired: bool
    roles: tuple[WebhookRole, ...]


@dataclass(frozen=True, slots=True)
class AlertDetail:
    id: str
    url: str
    status: str
    is_open: bool
    trigger: str
    opened_at: datetime
    closed_at: datetime | None
    status_changed_at: datetime | None
    monitor_name: str
    metric_label: str
    metric_value: float | None
    warning_threshold: float | None
    critical_threshold: float | None
    operator: str
    duration: int | None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    org_name: str
    monitor_type: str
    message: str
    monitor_memo: str
    alert: AlertDetail
    host: WebhookHost | None
    service_name: str
    user: str


@dataclass(frozen=True, slots=True)
class AlertGroupEvent:
    org_name: str
    id: str
    url: str
    status: str
    created_at: datetime
    closed_at: datetime | None
    setting_id: str
    setting_name: str
    setting_memo: str


@dataclass(frozen=True, slots=True)
class HostEvent:
    org_name: str
    event: str
    host: WebhookHost
    from_status: str
    user: str


@dataclass(frozen=True, slots=True)
class MonitorEvent:
    org_name: str
    event: str
    monitor: dict[str, Any]
    user: str

    @property
    def monitor_id(self) -> str:
        return str(self.monitor["id"])


@dataclass(frozen=True, slots=True)
class SampleEvent:
    message: str


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    event: str
    org_name: str
    keys: tuple[str, ...] = field(default=())


Event = AlertEvent | AlertGroupEvent | HostEvent | MonitorEvent | SampleEvent | UnknownEvent


# --- Reading typed fields ---------------------------------------------------------------------
def _obj(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise MalformedWebhook(f"{where} must be a JSON object")
    return data


def _str(data: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise MalformedWebhook(f"{where}.{key} must be a non-empty string")
    return value


def _opt_str(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedWebhook(f"{where}.{key} must be a string")
    return value


def _number(data: dict[str, Any], key: str, where: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedWebhook(f"{where}.{key} must be a number")
    return float(value)


def _bool(data: dict[str, Any], key: str, where: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise MalformedWebhook(f"{where}.{key} must be true or false")
    return value


def _time(data: dict[str, Any], key: str, where: str, *, required: bool) -> datetime | None:
    value = _number(data, key, where)
    if value is None:
        if required:
            raise MalformedWebhook(f"{where}.{key} must be a timestamp in epoch seconds")
        return None
    if value < 0 or value >= _MAX_EPOCH_SECONDS:
        raise MalformedWebhook(f"{where}.{key} is not a timestamp in epoch seconds: {value}")
    return datetime.fromtimestamp(value, tz=UTC)


def _user(payload: dict[str, Any]) -> str:
    user = payload.get("user")
    if isinstance(user, dict) and isinstance(user.get("screenName"), str):
        return str(user["screenName"])
    return ""


# --- Sub-objects ------------------------------------------------------------------------------
def _roles(items: Any, where: str) -> tuple[WebhookRole, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise MalformedWebhook(f"{where} must be a list")
    roles = []
    for index, item in enumerate(items):
        role = _obj(item, f"{where}[{index}]")
        service = _opt_str(role, "serviceName", f"{where}[{index}]")
        name = _opt_str(role, "roleName", f"{where}[{index}]")
        if not (service and name):
            # Older payloads may carry only the full name, "Service: role".
            service, _, name = _opt_str(role, "fullname", f"{where}[{index}]").partition(":")
        if service.strip() and name.strip():
            roles.append(WebhookRole(service.strip(), name.strip()))
    return tuple(roles)


def _host(data: Any, where: str = "host") -> WebhookHost:
    host = _obj(data, where)
    status = _opt_str(host, "status", where) or "working"
    if status not in HOST_STATUSES:
        raise MalformedWebhook(f"{where}.status must be one of {', '.join(HOST_STATUSES)}")
    return WebhookHost(
        id=_str(host, "id", where),
        name=_str(host, "name", where),
        status=status,
        memo=_opt_str(host, "memo", where),
        is_retired=bool(host.get("isRetired", False)),
        roles=_roles(host.get("roles"), f"{where}.roles"),
    )


def _alert(data: Any) -> AlertDetail:
    alert = _obj(data, "alert")
    status = _str(alert, "status", "alert").lower()
    if status not in ALERT_STATUSES:
        raise MalformedWebhook(f"alert.status must be one of {', '.join(ALERT_STATUSES)}")
    trigger = _opt_str(alert, "trigger", "alert") or "monitor"
    duration = _number(alert, "duration", "alert")
    opened_at = _time(alert, "openedAt", "alert", required=True)
    assert opened_at is not None  # required=True guarantees it  # noqa: S101
    return AlertDetail(
        id=_str(alert, "id", "alert"),
        url=_opt_str(alert, "url", "alert"),
        status=status,
        is_open=_bool(alert, "isOpen", "alert"),
        trigger=TRIGGER_ALIASES.get(trigger, trigger),
        opened_at=opened_at,
        closed_at=_time(alert, "closedAt", "alert", required=False),
        status_changed_at=_time(alert, "statusChangedAt", "alert", required=False),
        monitor_name=_opt_str(alert, "monitorName", "alert"),
        metric_label=_opt_str(alert, "metricLabel", "alert"),
        metric_value=_number(alert, "metricValue", "alert"),
        warning_threshold=_number(alert, "warningThreshold", "alert"),
        critical_threshold=_number(alert, "criticalThreshold", "alert"),
        operator=_opt_str(alert, "monitorOperator", "alert"),
        duration=int(duration) if duration is not None else None,
    )


# --- Events -----------------------------------------------------------------------------------
def _alert_event(payload: dict[str, Any], org_name: str) -> AlertEvent:
    host = _host(payload["host"]) if payload.get("host") is not None else None
    service_name = ""
    if payload.get("service") is not None:
        service_name = _str(_obj(payload["service"], "service"), "name", "service")
    return AlertEvent(
        org_name=org_name,
        monitor_type=_opt_str(payload, "type", "payload"),
        message=_opt_str(payload, "message", "payload"),
        monitor_memo=_opt_str(payload, "memo", "payload"),
        alert=_alert(payload.get("alert")),
        host=host,
        service_name=service_name,
        user=_user(payload),
    )


def _alert_group_event(payload: dict[str, Any], org_name: str) -> AlertGroupEvent:
    group = _obj(payload.get("alertGroup"), "alertGroup")
    setting = _obj(payload.get("alertGroupSetting") or {}, "alertGroupSetting")
    status = _str(group, "status", "alertGroup").lower()
    if status not in ALERT_STATUSES:
        raise MalformedWebhook(f"alertGroup.status must be one of {', '.join(ALERT_STATUSES)}")
    created_at = _time(group, "createdAt", "alertGroup", required=True)
    assert created_at is not None  # noqa: S101
    return AlertGroupEvent(
        org_name=org_name,
        id=_str(group, "id", "alertGroup"),
        url=_opt_str(group, "url", "alertGroup"),
        status=status,
        created_at=created_at,
        closed_at=_time(group, "closedAt", "alertGroup", required=False),
        setting_id=_opt_str(setting, "id", "alertGroupSetting"),
        setting_name=_opt_str(setting, "name", "alertGroupSetting"),
        setting_memo=_opt_str(setting, "memo", "alertGroupSetting"),
    )


def _monitor_event(payload: dict[str, Any], org_name: str, event: str) -> MonitorEvent:
    monitor = _obj(payload.get("monitor"), "monitor")
    _str(monitor, "id", "monitor")
    _str(monitor, "type", "monitor")
    _opt_str(monitor, "name", "monitor")
    return MonitorEvent(org_name=org_name, event=event, monitor=monitor, user=_user(payload))


def parse_payload(payload: Any) -> Event:
    """The typed event of a decoded webhook body."""
    body = _obj(payload, "the body")
    event = body.get("event")
    if not isinstance(event, str) or not event:
        raise MalformedWebhook("the body has no 'event' string")
    if event == "sample":
        return SampleEvent(message=_opt_str(body, "message", "payload"))
    org_name = _str(body, "orgName", "payload")
    if event == "alert":
        return _alert_event(body, org_name)
    if event == "alertGroup":
        return _alert_group_event(body, org_name)
    if event in HOST_EVENTS:
        from_status = _opt_str(body, "fromStatus", "payload")
        return HostEvent(org_name, event, _host(body.get("host")), from_status, _user(body))
    if event in MONITOR_EVENTS:
        return _monitor_event(body, org_name, event)
    return UnknownEvent(event=event, org_name=org_name, keys=tuple(sorted(body)))


def decode(body: bytes) -> Any:
    """JSON of a webhook body, or ``MalformedWebhook`` saying why it is not JSON."""
    try:
        text = body.decode("utf-8")
        if "\\u0000" in text:
            # Nothing Mackerel sends contains NUL, and PostgreSQL text cannot store it.
            raise MalformedWebhook("the body contains a NUL character (\\u0000)")
        return json.loads(text)
    except UnicodeDecodeError:
        raise MalformedWebhook("the body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise MalformedWebhook(f"the body is not JSON: {exc.msg} at position {exc.pos}") from None
    except RecursionError:
        raise MalformedWebhook("the body is nested too deeply") from None


def event_name(payload: Any) -> str:
    """The ``event`` of a payload, for records, even when the rest cannot be parsed."""
    if isinstance(payload, dict) and isinstance(payload.get("event"), str):
        return str(payload["event"])[:32]
    return ""
