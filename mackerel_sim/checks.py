"""Check monitoring: reports from agents and `mkr wrap` (mackerel-api.md §6.4, §10)."""

from __future__ import annotations

from typing import Any

from mackerel_sim import alerting
from mackerel_sim.errors import bad_request, not_found
from mackerel_sim.naming import check_check_name
from mackerel_sim.state import (
    ALERT_STATUSES,
    JSON,
    MONITORED_STATUSES,
    CheckState,
    Host,
    Monitor,
    Organization,
    World,
)

MAX_REPORTS = 100
MAX_MESSAGE = 1024
# Reports that happened this long before they arrive are ignored (§6.4).
STALE_AFTER = 6 * 60 * 60


def _parse(org: Organization, raw: Any) -> JSON:
    if not isinstance(raw, dict):
        raise bad_request("invalid report")
    source = raw.get("source")
    if not isinstance(source, dict) or source.get("type") != "host":
        raise bad_request("source.type must be host")
    host = org.hosts.get(str(source.get("hostId")))
    if host is None or host.is_retired:
        raise not_found("Host")
    status = raw.get("status")
    if status not in ALERT_STATUSES:
        raise bad_request(f"invalid status: {status!r}")
    message = raw.get("message", "")
    if not isinstance(message, str) or len(message) > MAX_MESSAGE:
        raise bad_request(f"message must be a string of at most {MAX_MESSAGE} characters")
    occurred_at = raw.get("occurredAt")
    if isinstance(occurred_at, bool) or not isinstance(occurred_at, int | float):
        raise bad_request("occurredAt is required")
    interval = raw.get("notificationInterval") or 0
    attempts = raw.get("maxCheckAttempts") or 1
    if not isinstance(interval, int | float) or interval < 0:
        raise bad_request("invalid notificationInterval")
    if not isinstance(attempts, int) or not 1 <= attempts <= 10:
        raise bad_request("maxCheckAttempts must be between 1 and 10")
    return {
        "host": host,
        "name": check_check_name(raw.get("name")),
        "status": status,
        "message": message,
        "occurredAt": float(occurred_at),
        # Omitted or 0 means no re-notification; below 10 counts as 10 (§6.4).
        "notificationInterval": max(10, int(interval)) if interval else None,
        "maxCheckAttempts": attempts,
    }


def check_monitor(world: World, org: Organization, host: Host, name: str) -> Monitor:
    """The check monitor of (host, name), created by its first report."""
    monitor_id = org.checks.get((host.id, name))
    if monitor_id is not None:
        return org.monitors[monitor_id]
    monitor = Monitor(
        id=world.ids.new_id(),
        type="check",
        fields={"name": name, "memo": "", "isMute": False},
        host_id=host.id,
    )
    org.monitors[monitor.id] = monitor
    org.checks[(host.id, name)] = monitor.id
    org.check_states[monitor.id] = CheckState()
    return monitor


def report(world: World, org: Organization, body: Any) -> None:
    if not isinstance(body, dict) or not isinstance(body.get("reports"), list):
        raise bad_request("reports is required")
    if len(body["reports"]) > MAX_REPORTS:
        raise bad_request(f"at most {MAX_REPORTS} reports per request")
    parsed = [_parse(org, raw) for raw in body["reports"]]
    for item in sorted(parsed, key=lambda r: r["occurredAt"]):
        _apply(world, org, item)


def _apply(world: World, org: Organization, item: JSON) -> None:
    host: Host = item["host"]
    if item["occurredAt"] <= world.now() - STALE_AFTER:
        return
    monitor = check_monitor(world, org, host, item["name"])
    state = org.check_states[monitor.id]
    # A report older than one already received is ignored (§6.4).
    if state.last_occurred_at is not None and item["occurredAt"] < state.last_occurred_at:
        return
    state.last_occurred_at = item["occurredAt"]
    state.notification_interval = item["notificationInterval"]
    state.max_check_attempts = item["maxCheckAttempts"]
    state.status, state.message = item["status"], item["message"]
    if host.status not in MONITORED_STATUSES:
        return
    alert = alerting.open_alert_for(org, monitor.id, host.id)
    if item["status"] == "OK":
        state.failures = 0
        if alert is not None:
            alert.message = item["message"]
            alerting.close_alert(
                world, org, alert, reason=alerting.AUTO_CLOSE_REASON, trigger="monitor"
            )
        return
    state.failures += 1
    if state.failures >= state.max_check_attempts:
        detail = {"type": "check", "detail": {"message": item["message"], "memo": monitor.memo}}
        alerting.raise_alert(
            world,
            org,
            monitor,
            status=item["status"],
            host_id=host.id,
            message=item["message"],
            status_detail=detail,
        )


def list_checks(
    org: Organization, *, next_id: str | None, limit: int
) -> tuple[list[JSON], str | None]:
    """Ascending by ID, starting from `nextId` (§6.4)."""
    checks = sorted(
        ({"id": m.id, "name": m.name} for m in org.monitors.values() if m.type == "check"),
        key=lambda c: c["id"],
    )
    if next_id is not None:
        checks = [c for c in checks if c["id"] >= next_id]
    page, rest = checks[:limit], checks[limit:]
    return page, (rest[0]["id"] if rest else None)


def get_check(org: Organization, monitor_id: str) -> JSON:
    monitor = org.monitors.get(monitor_id)
    if monitor is None or monitor.type != "check":
        raise not_found("Check monitor")
    return {"id": monitor.id, "name": monitor.name}


def monitored_statuses(org: Organization, host_id: str) -> list[JSON]:
    """GET /hosts/<id>/monitored-statuses: every monitor watching the host and its status."""
    host = org.host(host_id)
    result = []
    for monitor in org.monitors.values():
        fields = monitor.fields
        if monitor.type == "check":
            if monitor.host_id != host.id:
                continue
        elif monitor.type not in ("host", "connectivity", "anomalyDetection") or not (
            alerting.host_in_scope(host, fields.get("scopes", []), fields.get("excludeScopes", []))
        ):
            continue
        alert = alerting.open_alert_for(org, monitor.id, host.id)
        entry: JSON = {"monitorId": monitor.id, "status": alert.status if alert else "OK"}
        if monitor.type == "check":
            state = org.check_states[monitor.id]
            entry["detail"] = {"type": "check", "message": state.message, "memo": monitor.memo}
        result.append(entry)
    return result
