"""The simulated world: organizations and everything they own, held under one lock."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mackerel_sim.clock import Clock
from mackerel_sim.errors import not_found
from mackerel_sim.faults import Faults
from mackerel_sim.ids import IdFactory

JSON = dict[str, Any]

HOST_STATUSES = ("working", "standby", "maintenance", "poweroff")
# Hosts in these statuses are monitored; only working ones are notified about (§3.5).
MONITORED_STATUSES = ("working", "standby")
ALERT_STATUSES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
SEVERITY = {"OK": 0, "UNKNOWN": 1, "WARNING": 2, "CRITICAL": 3}


@dataclass
class Role:
    """A role inside a service."""

    name: str
    memo: str = ""

    def to_api(self) -> JSON:
        return {"name": self.name, "memo": self.memo}


@dataclass
class Service:
    """A service and its roles; the ID only ever shows in webhooks."""

    id: str
    name: str
    memo: str = ""
    roles: dict[str, Role] = field(default_factory=dict)

    def to_api(self) -> JSON:
        return {"name": self.name, "memo": self.memo, "roles": sorted(self.roles)}


@dataclass
class Host:
    """A host as Mackerel stores it, plus whether its simulated agent is reachable."""

    id: str
    name: str
    created_at: int
    status: str = "working"
    memo: str = ""
    display_name: str | None = None
    custom_identifier: str | None = None
    size: str = "standard"
    is_retired: bool = False
    retired_at: int | None = None
    roles: dict[str, list[str]] = field(default_factory=dict)
    meta: JSON = field(default_factory=dict)
    interfaces: list[JSON] = field(default_factory=list)
    reachable: bool = True

    def role_pairs(self) -> list[tuple[str, str]]:
        return [(svc, role) for svc, roles in self.roles.items() for role in roles]

    def to_api(self) -> JSON:
        body: JSON = {"id": self.id, "name": self.name}
        if self.display_name:
            body["displayName"] = self.display_name
        if self.custom_identifier is not None:
            body["customIdentifier"] = self.custom_identifier
        body.update(
            size=self.size,
            status=self.status,
            memo=self.memo,
            isRetired=self.is_retired,
            createdAt=self.created_at,
            roles={svc: list(roles) for svc, roles in self.roles.items()},
            meta=self.meta,
            interfaces=[dict(i) for i in self.interfaces],
        )
        if self.retired_at is not None:
            body["retiredAt"] = self.retired_at
        return body


@dataclass
class Monitor:
    """A monitor: `fields` is its REST body without the ID. Check monitors live here too."""

    id: str
    type: str
    fields: JSON
    host_id: str | None = None  # check monitors belong to one host

    @property
    def name(self) -> str:
        return str(self.fields.get("name", ""))

    @property
    def memo(self) -> str:
        return str(self.fields.get("memo", ""))

    @property
    def is_mute(self) -> bool:
        return bool(self.fields.get("isMute", False))

    def to_api(self) -> JSON:
        return {"id": self.id, "type": self.type, **self.fields}


@dataclass
class CheckState:
    """What the simulator remembers between check reports for one (host, check name)."""

    last_occurred_at: float | None = None
    failures: int = 0
    notification_interval: int | None = None
    max_check_attempts: int = 1
    status: str = "OK"
    message: str = ""


@dataclass
class AlertLog:
    """One entry of an alert's history (GET /alerts/<id>/logs)."""

    id: str
    created_at: int
    status: str
    trigger: str
    monitor_id: str | None
    target_value: float | None
    status_detail: JSON | None = None

    def to_api(self) -> JSON:
        return {
            "id": self.id,
            "createdAt": self.created_at,
            "status": self.status,
            "trigger": self.trigger,
            "monitorId": self.monitor_id,
            "targetValue": self.target_value,
            "statusDetail": self.status_detail,
        }


# Alert types that carry a host, a value or a message in REST (mackerel-api.md §7.1).
HOST_ALERT_TYPES = ("connectivity", "host", "check", "anomalyDetection")
VALUE_ALERT_TYPES = ("host", "service", "query", "external")
MESSAGE_ALERT_TYPES = ("check", "external")


@dataclass
class Alert:
    """An alert raised by a monitor, open or closed."""

    id: str
    seq: int
    monitor_id: str
    type: str
    status: str
    opened_at: float
    status_changed_at: float
    host_id: str | None = None
    value: float | None = None
    message: str | None = None
    series: JSON | None = None
    reason: str | None = None
    closed_at: float | None = None
    memo: str = ""
    last_notified_at: float | None = None
    group_ids: list[str] = field(default_factory=list)
    logs: list[AlertLog] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def to_api(self) -> JSON:
        body: JSON = {
            "id": self.id,
            "status": self.status,
            "monitorId": self.monitor_id,
            "type": self.type,
        }
        if self.host_id is not None and self.type in HOST_ALERT_TYPES:
            body["hostId"] = self.host_id
        if self.series is not None:
            body["series"] = self.series
        if self.value is not None and self.type in VALUE_ALERT_TYPES:
            body["value"] = self.value
        if self.message is not None and self.type in MESSAGE_ALERT_TYPES:
            body["message"] = self.message
        if self.memo:
            body["memo"] = self.memo
        if self.reason is not None:
            body["reason"] = self.reason
        body["openedAt"] = int(self.opened_at)
        if self.closed_at is not None:
            body["closedAt"] = int(self.closed_at)
        return body


@dataclass
class Downtime:
    """A scheduled maintenance window; `fields` is its REST body without the ID."""

    id: str
    fields: JSON

    def to_api(self) -> JSON:
        return {"id": self.id, **self.fields}


@dataclass
class Channel:
    """A notification channel. Only webhook channels actually deliver anything."""

    id: str
    type: str
    name: str
    events: list[str]
    url: str | None = None
    enabled_graph_image: bool = False
    extra: JSON = field(default_factory=dict)
    suspended_at: int | None = None
    failures: int = 0

    def to_api(self) -> JSON:
        body: JSON = {"id": self.id, "name": self.name, "type": self.type}
        if self.type in ("webhook", "slack"):
            body["url"] = self.url
            body["enabledGraphImage"] = self.enabled_graph_image
        body.update(self.extra)
        body["events"] = list(self.events)
        body["suspendedAt"] = self.suspended_at
        return body


@dataclass
class AlertGroupSetting:
    """Rules that gather alerts into alert groups (mackerel-api.md §7.3)."""

    id: str
    fields: JSON

    def to_api(self) -> JSON:
        return {"id": self.id, **self.fields}


@dataclass
class AlertGroup:
    """An instance of an alert group: open while any of its alerts is open."""

    id: str
    setting_id: str
    status: str
    created_at: float
    alert_ids: list[str] = field(default_factory=list)
    closed_at: float | None = None
    last_notified_at: float | None = None


@dataclass
class Series:
    """One metric's points, kept sorted by time and capped so long demo runs stay small."""

    times: list[int] = field(default_factory=list)
    values: dict[int, float] = field(default_factory=dict)

    MAX_POINTS = 20_000

    @property
    def newest(self) -> int | None:
        return self.times[-1] if self.times else None

    def put(self, time: int, value: float) -> None:
        if time not in self.values:
            bisect.insort(self.times, time)
        self.values[time] = value
        if len(self.times) > self.MAX_POINTS:
            del self.values[self.times.pop(0)]

    def last(self, count: int) -> list[float]:
        return [self.values[t] for t in self.times[-count:]]

    def between(self, start: int, end: int) -> list[tuple[int, float]]:
        lo = bisect.bisect_left(self.times, start)
        hi = bisect.bisect_right(self.times, end)
        return [(t, self.values[t]) for t in self.times[lo:hi]]


@dataclass
class Organization:
    """One Mackerel organization with its keys and everything it owns."""

    id: str
    name: str
    rw_key: str
    ro_key: str
    display_name: str | None = None
    default_host_status: str = "working"
    services: dict[str, Service] = field(default_factory=dict)
    hosts: dict[str, Host] = field(default_factory=dict)
    monitors: dict[str, Monitor] = field(default_factory=dict)
    checks: dict[tuple[str, str], str] = field(default_factory=dict)  # (hostId, name) → monitor ID
    check_states: dict[str, CheckState] = field(default_factory=dict)
    alerts: dict[str, Alert] = field(default_factory=dict)
    alert_order: list[str] = field(default_factory=list)  # oldest first
    # open alerts by (monitor ID, host ID or "", series key): one open alert per target
    open_alerts: dict[tuple[str, str, str], str] = field(default_factory=dict)
    downtimes: dict[str, Downtime] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    group_settings: dict[str, AlertGroupSetting] = field(default_factory=dict)
    groups: dict[str, AlertGroup] = field(default_factory=dict)
    # metric series: owner (host ID or service name) → metric name → points
    host_metrics: dict[str, dict[str, Series]] = field(default_factory=dict)
    service_metrics: dict[str, dict[str, Series]] = field(default_factory=dict)
    # consecutive failing evaluations per (monitor ID, host ID or "") for maxCheckAttempts
    attempts: dict[tuple[str, str], int] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    # owner ("host", id) / ("service", name) / ("role", service, role) → namespace → (JSON, time)
    metadata: dict[tuple[str, ...], dict[str, tuple[Any, float]]] = field(default_factory=dict)
    graph_defs: dict[str, JSON] = field(default_factory=dict)

    def to_api(self) -> JSON:
        return {"name": self.name, "displayName": self.display_name}

    def host(self, host_id: str) -> Host:
        host = self.hosts.get(host_id)
        if host is None:
            raise not_found("Host")
        return host

    def service(self, name: str) -> Service:
        service = self.services.get(name)
        if service is None:
            raise not_found("Service")
        return service

    def monitor(self, monitor_id: str) -> Monitor:
        monitor = self.monitors.get(monitor_id)
        if monitor is None:
            raise not_found("Monitor")
        return monitor

    def alert(self, alert_id: str) -> Alert:
        alert = self.alerts.get(alert_id)
        if alert is None:
            raise not_found("Alert")
        return alert


# An event for webhook channels: (organization, channel event, payload, alert or None)
Emitter = Callable[[Organization, str, JSON, "Alert | None"], None]


class World:
    """All organizations, the ID source and the clock. Hold `lock` for every read or write."""

    def __init__(self, ids: IdFactory, clock: Clock) -> None:
        self.ids = ids
        self.clock = clock
        self.lock = threading.RLock()
        self.orgs: dict[str, Organization] = {}
        self.keys: dict[str, tuple[Organization, bool]] = {}  # key → (org, can write)
        self.alert_seq = 0
        # (due time, org name, alert ID): re-notifications, so a tick need not scan open alerts
        self.renotify_heap: list[tuple[float, str, str]] = []
        self._emit: Emitter | None = None

    def set_emitter(self, emit: Emitter) -> None:
        self._emit = emit

    def emit(
        self, org: Organization, event: str, payload: JSON, alert: Alert | None = None
    ) -> None:
        if self._emit is not None:
            self._emit(org, event, payload, alert)

    def now(self) -> float:
        return self.clock.now()

    def org(self, name: str) -> Organization:
        org = self.orgs.get(name)
        if org is None:
            raise KeyError(f"no organization named {name!r}")
        return org

    def next_alert_seq(self) -> int:
        self.alert_seq += 1
        return self.alert_seq
