"""Monitors of every type: validation, create, update (full replacement) and delete (§6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from mackerel_sim import alerting, evaluation, webhooks
from mackerel_sim.errors import bad_request, not_found
from mackerel_sim.naming import spaced_fullname, split_role_fullname
from mackerel_sim.state import JSON, Monitor, Organization, World

MONITOR_TYPES = (
    "host",
    "connectivity",
    "service",
    "external",
    "expression",
    "anomalyDetection",
    "query",
)
COMPARATIVE_METRICS = ("cpu%", "memory%", "disk%", "swap%", "container-cpu%", "container-memory%")
SENSITIVITIES = ("insensitive", "normal", "sensitive")
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE")
MEMO_MAX = 2048
ONE_WEEK_MINUTES = 7 * 24 * 60


class Body:
    """Typed reads from a monitor body, each failing with Mackerel's 400."""

    def __init__(self, raw: JSON) -> None:
        self.raw = raw

    def has(self, key: str) -> bool:
        return self.raw.get(key) is not None

    def string(self, key: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                raise bad_request(f"{key} is required")
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            raise bad_request(f"{key} must be a non-empty string")
        return value

    def number(self, key: str) -> float | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad_request(f"{key} must be a number")
        return value

    def integer(self, key: str, low: int, high: int, default: int | None = None) -> int | None:
        value = self.raw.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise bad_request(f"{key} must be an integer")
        if not low <= value <= high:
            raise bad_request(f"{key} must be between {low} and {high}")
        return int(value)

    def boolean(self, key: str, default: bool | None = None) -> bool | None:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise bad_request(f"{key} must be a boolean")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return default
        if value not in choices:
            raise bad_request(f"{key} must be one of {', '.join(choices)}")
        return str(value)


def _scopes(org: Organization, body: Body, key: str, *, roles_only: bool = False) -> list[str]:
    """Scopes name existing services or roles; roles come back as "Svc: role" like Mackerel's."""
    raw = body.raw.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise bad_request(f"{key} must be an array of strings")
    scopes = []
    for scope in raw:
        if ":" in scope:
            service, role = split_role_fullname(scope)
            known = org.services.get(service)
            if known is None or role not in known.roles:
                raise bad_request(f"role {scope} in {key} does not exist")
            scopes.append(spaced_fullname(service, role))
        elif roles_only:
            raise bad_request(f"{scope} in {key} is not a role full name")
        elif scope.strip() not in org.services:
            raise bad_request(f"service {scope} in {key} does not exist")
        else:
            scopes.append(scope.strip())
    return scopes


def _thresholds(body: Body, fields: JSON, *, comparative: bool = False) -> None:
    fields["operator"] = body.choice("operator", (">", "<"))
    if fields["operator"] is None:
        raise bad_request("operator is required")
    for key in ("warning", "critical"):
        value = body.number(key)
        if value is not None and comparative and not 0 <= value <= 100:
            raise bad_request(f"{key} of a comparative metric must be between 0 and 100")
        if value is not None:
            fields[key] = value


def _service(org: Organization, body: Body, *, required: bool) -> str | None:
    name = body.string("service", required=required)
    if name is not None and name not in org.services:
        raise bad_request(f"service {name} does not exist")
    return name


def _host_fields(org: Organization, body: Body, fields: JSON, old: JSON, now: float) -> None:
    metric = body.string("metric", required=True)
    fields["metric"] = metric
    _thresholds(body, fields, comparative=metric in COMPARATIVE_METRICS)
    fields["duration"] = body.integer("duration", 1, 10, default=1)
    fields["maxCheckAttempts"] = body.integer("maxCheckAttempts", 1, 10, default=1)
    fields["scopes"] = _scopes(org, body, "scopes")
    fields["excludeScopes"] = _scopes(org, body, "excludeScopes")


def _connectivity_fields(
    org: Organization, body: Body, fields: JSON, old: JSON, now: float
) -> None:
    # Omitted on update, alertStatusOnGone keeps its value (§6.1).
    default = old.get("alertStatusOnGone", "CRITICAL")
    fields["alertStatusOnGone"] = body.choice("alertStatusOnGone", ("CRITICAL", "WARNING"), default)
    fields["scopes"] = _scopes(org, body, "scopes")
    fields["excludeScopes"] = _scopes(org, body, "excludeScopes")


def _missing_duration(body: Body, key: str) -> int | None:
    value = body.integer(key, 10, ONE_WEEK_MINUTES)
    if value is not None and value % 10:
        raise bad_request(f"{key} must be a multiple of 10")
    return value


def _service_fields(org: Organization, body: Body, fields: JSON, old: JSON, now: float) -> None:
    fields["service"] = _service(org, body, required=True)
    fields["metric"] = body.string("metric", required=True)
    _thresholds(body, fields)
    fields["duration"] = body.integer("duration", 1, 10, default=1)
    fields["maxCheckAttempts"] = body.integer("maxCheckAttempts", 1, 10, default=1)
    for key in ("missingDurationWarning", "missingDurationCritical"):
        value = _missing_duration(body, key)
        if value is not None:
            fields[key] = value


def _headers(body: Body, previous: JSON) -> list[JSON] | None:
    raw = body.raw.get("headers")
    if raw is None:
        return previous.get("headers")  # omitted on update: unchanged (§6.1)
    if not isinstance(raw, list) or not all(
        isinstance(h, dict) and isinstance(h.get("name"), str) and isinstance(h.get("value"), str)
        for h in raw
    ):
        raise bad_request("headers must be an array of {name, value}")
    return [{"name": h["name"], "value": h["value"]} for h in raw]


def _external_options(body: Body) -> JSON:
    """The optional fields of an external monitor, answered only when given."""
    readers: dict[str, Callable[[str], object]] = {
        "responseTimeWarning": body.number,
        "responseTimeCritical": body.number,
        "responseTimeDuration": lambda k: body.integer(k, 1, 10),
        "containsString": body.string,
        "certificationExpirationWarning": lambda k: body.integer(k, 0, 100_000),
        "certificationExpirationCritical": lambda k: body.integer(k, 0, 100_000),
        "skipCertificateVerification": body.boolean,
        "followRedirect": body.boolean,
        "expectedStatusCode": lambda k: body.integer(k, 100, 599),
        "requestBody": body.string,
        "dualstack": lambda k: body.choice(k, ("ipv4", "ipv6", "auto")),
    }
    return {key: read(key) for key, read in readers.items() if body.has(key)}


def _external_fields(org: Organization, body: Body, fields: JSON, old: JSON, now: float) -> None:
    url = body.string("url", required=True) or ""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise bad_request("url must be an http or https URL")
    fields["url"] = url
    fields["method"] = body.choice("method", HTTP_METHODS, "GET")
    service = _service(org, body, required=False)
    if service is not None:
        fields["service"] = service
    options = _external_options(body)
    if service is None and ("responseTimeWarning" in options or "responseTimeCritical" in options):
        # Response time is graphed as a service metric, so it needs a service (§6.2).
        raise bad_request("response time thresholds need a service")
    fields.update(options)
    fields["maxCheckAttempts"] = body.integer("maxCheckAttempts", 1, 10, default=1)
    headers = _headers(body, old)
    if headers is not None:
        fields["headers"] = headers


def _check_expression(text: str) -> None:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            break
    if depth != 0:
        raise bad_request("invalid expression")


def _expression_fields(org: Organization, body: Body, fields: JSON, old: JSON, now: float) -> None:
    expression = body.string("expression", required=True) or ""
    _check_expression(expression)
    fields["expression"] = expression
    _thresholds(body, fields)
    if body.has("evaluateBackwardMinutes"):
        fields["evaluateBackwardMinutes"] = body.integer("evaluateBackwardMinutes", 2, 10)


def _anomaly_fields(org: Organization, body: Body, fields: JSON, old: JSON, now: float) -> None:
    fields["scopes"] = _scopes(org, body, "scopes", roles_only=True)
    if not fields["scopes"]:
        raise bad_request("scopes is required")
    for key in ("warningSensitivity", "criticalSensitivity"):
        value = body.choice(key, SENSITIVITIES)
        if value is not None:
            fields[key] = value
    if "warningSensitivity" not in fields and "criticalSensitivity" not in fields:
        raise bad_request("warningSensitivity or criticalSensitivity is required")
    fields["maxCheckAttempts"] = body.integer("maxCheckAttempts", 1, 10, default=3)
    if body.has("trainingPeriodFrom"):
        start = body.integer("trainingPeriodFrom", 0, int(now))
        fields["trainingPeriodFrom"] = start


def _query_fields(org: Organization, body: Body, fields: JSON, old: JSON, now: float) -> None:
    query = body.string("query", required=True) or ""
    _check_expression(query)
    fields["query"] = query
    fields["legend"] = body.string("legend", default="")
    _thresholds(body, fields)
    if body.has("evaluateBackwardMinutes"):
        fields["evaluateBackwardMinutes"] = body.integer("evaluateBackwardMinutes", 0, 10)


TYPE_FIELDS: dict[str, Callable[[Organization, Body, JSON, JSON, float], None]] = {
    "host": _host_fields,
    "connectivity": _connectivity_fields,
    "service": _service_fields,
    "external": _external_fields,
    "expression": _expression_fields,
    "anomalyDetection": _anomaly_fields,
    "query": _query_fields,
}


def normalize(
    org: Organization, raw: Any, *, now: float, previous: Monitor | None = None
) -> tuple[str, JSON]:
    """Validate a monitor body and return (type, fields) in the shape the API answers with."""
    if not isinstance(raw, dict):
        raise bad_request("invalid body")
    body = Body(raw)
    kind = body.choice("type", MONITOR_TYPES)
    if kind is None:
        raise bad_request("type is required")
    if previous is not None and previous.type != kind:
        raise bad_request("the type of a monitor cannot be changed")
    old = previous.fields if previous else {}
    name = body.string("name", required=kind != "connectivity", default="connectivity")
    memo = body.string("memo", default="") or ""
    if len(memo) > MEMO_MAX:
        raise bad_request(f"memo must be at most {MEMO_MAX} characters")
    # An empty memo is left out, as in captured monitor webhooks (§9.7).
    fields: JSON = {"name": name, **({"memo": memo} if memo else {})}
    TYPE_FIELDS[kind](org, body, fields, old, now)
    interval = body.integer("notificationInterval", 0, 10**7)
    if interval:
        if interval < 10:
            raise bad_request("notificationInterval must be 10 or more")
        fields["notificationInterval"] = interval
    fields["isMute"] = body.boolean("isMute", default=False)
    return kind, fields


def _refresh_all_connectivity(world: World, org: Organization) -> None:
    for host in list(org.hosts.values()):
        evaluation.refresh_connectivity(world, org, host)


def create(world: World, org: Organization, body: Any, *, user: str | None = None) -> Monitor:
    kind, fields = normalize(org, body, now=world.now())
    monitor = Monitor(id=world.ids.new_id(), type=kind, fields=fields)
    org.monitors[monitor.id] = monitor
    world.emit(org, "monitor", webhooks.monitor_payload(org, "monitorCreate", monitor, user=user))
    if kind == "connectivity":
        _refresh_all_connectivity(world, org)
    return monitor


def managed(org: Organization, monitor_id: str) -> Monitor:
    """Monitors the /monitors endpoints manage; check monitors are not among them (§6.1)."""
    monitor = org.monitors.get(monitor_id)
    if monitor is None or monitor.type == "check":
        raise not_found("Monitor")
    return monitor


def update(
    world: World, org: Organization, monitor_id: str, body: Any, *, user: str | None = None
) -> Monitor:
    monitor = managed(org, monitor_id)
    _, fields = normalize(org, body, now=world.now(), previous=monitor)
    monitor.fields = fields
    for alert_id in list(org.open_alerts.values()):
        if org.alerts[alert_id].monitor_id == monitor.id:
            alerting.schedule_renotification(world, org, org.alerts[alert_id])
    world.emit(org, "monitor", webhooks.monitor_payload(org, "monitorUpdate", monitor, user=user))
    if monitor.type == "connectivity":
        _refresh_all_connectivity(world, org)
    return monitor


def delete(world: World, org: Organization, monitor_id: str, *, user: str | None = None) -> Monitor:
    monitor = managed(org, monitor_id)
    alerting.close_alerts_where(
        world,
        org,
        lambda a: a.monitor_id == monitor.id,
        reason="monitor deleted",
        trigger="delete monitor",
    )
    del org.monitors[monitor.id]
    world.emit(org, "monitor", webhooks.monitor_payload(org, "monitorDelete", monitor, user=user))
    return monitor


def listed(org: Organization) -> list[Monitor]:
    """GET /monitors: ordered by type, then name."""
    monitors = [m for m in org.monitors.values() if m.type != "check"]
    return sorted(monitors, key=lambda m: (m.type, m.name, m.id))
