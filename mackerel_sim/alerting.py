"""Alert lifecycle: open, change, close, notify, re-notify, alert groups and downtimes."""

from __future__ import annotations

import bisect
import calendar
import heapq
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from mackerel_sim import webhooks
from mackerel_sim.errors import bad_request
from mackerel_sim.naming import split_role_fullname
from mackerel_sim.state import (
    JSON,
    SEVERITY,
    Alert,
    AlertGroup,
    AlertGroupSetting,
    AlertLog,
    Downtime,
    Host,
    Monitor,
    Organization,
    World,
)

AUTO_CLOSE_REASON = "auto closed"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Trigger words of alert logs (REST) for each webhook trigger (mackerel-api.md §7.2, §9.3).
LOG_TRIGGERS = {
    "monitor": "monitoring",
    "manual close": "manual",
    "delete monitor": "monitorDelete",
    "retire host": "hostRetire",
    "delete service": "serviceDelete",
}


def series_key(series: JSON | None) -> str:
    return "" if series is None else json.dumps(series, sort_keys=True)


def alert_key(monitor_id: str, host_id: str | None, series: JSON | None) -> tuple[str, str, str]:
    return (monitor_id, host_id or "", series_key(series))


def open_alert_for(
    org: Organization, monitor_id: str, host_id: str | None, series: JSON | None = None
) -> Alert | None:
    alert_id = org.open_alerts.get(alert_key(monitor_id, host_id, series))
    return None if alert_id is None else org.alerts[alert_id]


# --- scopes -------------------------------------------------------------------------------


def scope_matches(host: Host, scope: str) -> bool:
    """A monitor scope is a service name or a role full name ("Svc:role" or "Svc: role")."""
    if ":" in scope:
        service, role = (part.strip() for part in scope.split(":", 1))
        return role in host.roles.get(service, [])
    return scope.strip() in host.roles


def host_in_scope(host: Host, scopes: list[str], exclude: list[str]) -> bool:
    if scopes and not any(scope_matches(host, s) for s in scopes):
        return False
    return not any(scope_matches(host, s) for s in exclude)


def _alert_services_and_roles(
    org: Organization, alert: Alert, monitor: Monitor
) -> tuple[set[str], set[tuple[str, str]]]:
    host = org.hosts.get(alert.host_id or "")
    services: set[str] = set(host.roles) if host else set()
    roles: set[tuple[str, str]] = set(host.role_pairs()) if host else set()
    if monitor.fields.get("service"):
        services.add(str(monitor.fields["service"]))
    return services, roles


def _role_set(names: list[str]) -> set[tuple[str, str]]:
    return {split_role_fullname(n) for n in names}


# --- downtimes ------------------------------------------------------------------------------


def _occurrence_active(start: float, length: float, now: float, recurrence: JSON | None) -> bool:
    if recurrence is None:
        return start <= now < start + length
    until = recurrence.get("until")
    if until is not None and now >= float(until) + length:
        return False
    interval = int(recurrence.get("interval", 1) or 1)
    kind = recurrence.get("type")
    first = datetime.fromtimestamp(start, UTC)
    current = datetime.fromtimestamp(now, UTC)
    candidates: list[datetime] = []
    if kind in ("hourly", "daily"):
        step = timedelta(hours=interval) if kind == "hourly" else timedelta(days=interval)
        k = int((current - first) / step)
        candidates = [first + step * n for n in (k - 1, k) if n >= 0]
    elif kind == "weekly":
        days = recurrence.get("weekdays") or [WEEKDAYS[first.weekday()]]
        for back in range(8):
            day = (current - timedelta(days=back)).replace(
                hour=first.hour, minute=first.minute, second=first.second
            )
            week = (day.date() - first.date()).days // 7
            if WEEKDAYS[day.weekday()] in days and week >= 0 and week % interval == 0:
                candidates.append(day)
    elif kind in ("monthly", "yearly"):
        months = interval * (12 if kind == "yearly" else 1)
        elapsed = (current.year - first.year) * 12 + current.month - first.month
        for n in (elapsed // months - 1, elapsed // months):
            if n >= 0:
                total = first.month - 1 + n * months
                year, month = first.year + total // 12, total % 12 + 1
                day_of_month = min(first.day, calendar.monthrange(year, month)[1])
                candidates.append(first.replace(year=year, month=month, day=day_of_month))
    for occurrence in candidates:
        t = occurrence.timestamp()
        if t < start or (until is not None and t > float(until)):
            continue
        if t <= now < t + length:
            return True
    return False


def downtime_active(downtime: Downtime, now: float) -> bool:
    fields = downtime.fields
    return _occurrence_active(
        float(fields["start"]), float(fields["duration"]) * 60, now, fields.get("recurrence")
    )


def downtime_covers(org: Organization, downtime: Downtime, alert: Alert, monitor: Monitor) -> bool:
    fields = downtime.fields
    services, roles = _alert_services_and_roles(org, alert, monitor)
    includes = ("serviceScopes", "roleScopes", "monitorScopes")
    if any(fields.get(k) for k in includes):
        included = (
            bool(services & set(fields.get("serviceScopes", [])))
            or bool(roles & _role_set(fields.get("roleScopes", [])))
            or monitor.id in fields.get("monitorScopes", [])
        )
        if not included:
            return False
    return not (
        services & set(fields.get("serviceExcludeScopes", []))
        or roles & _role_set(fields.get("roleExcludeScopes", []))
        or monitor.id in fields.get("monitorExcludeScopes", [])
    )


def in_downtime(org: Organization, alert: Alert, monitor: Monitor, now: float) -> bool:
    return any(
        downtime_active(d, now) and downtime_covers(org, d, alert, monitor)
        for d in org.downtimes.values()
    )


# --- notification -------------------------------------------------------------------------


def _suppressed(org: Organization, alert: Alert, monitor: Monitor, now: float) -> bool:
    """Muted monitors, hosts that are not `working` and active downtimes send nothing (§9.4)."""
    if monitor.is_mute:
        return True
    host = org.hosts.get(alert.host_id or "")
    if host is not None and host.status != "working":
        return True
    return in_downtime(org, alert, monitor, now)


def schedule_renotification(world: World, org: Organization, alert: Alert) -> None:
    interval = notification_interval(org, alert)
    if interval and alert.is_open:
        last = alert.last_notified_at or alert.opened_at
        heapq.heappush(world.renotify_heap, (last + interval * 60, org.name, alert.id))


def notify(
    world: World, org: Organization, alert: Alert, *, trigger: str, user: str | None = None
) -> None:
    monitor = org.monitors.get(alert.monitor_id)
    now = world.now()
    alert.last_notified_at = now
    schedule_renotification(world, org, alert)
    if monitor is None or _suppressed(org, alert, monitor, now):
        return
    payload = webhooks.alert_payload(org, alert, monitor, trigger=trigger, user=user)
    world.emit(org, "alert", payload, alert)


def _log(world: World, alert: Alert, trigger: str, status_detail: JSON | None = None) -> None:
    alert.logs.append(
        AlertLog(
            id=world.ids.new_id(),
            created_at=int(world.now()),
            status=alert.status,
            trigger=LOG_TRIGGERS.get(trigger, trigger),
            monitor_id=alert.monitor_id,
            target_value=alert.value,
            status_detail=status_detail,
        )
    )


# --- lifecycle ----------------------------------------------------------------------------


def raise_alert(
    world: World,
    org: Organization,
    monitor: Monitor,
    *,
    status: str,
    host_id: str | None = None,
    value: float | None = None,
    message: str | None = None,
    series: JSON | None = None,
    status_detail: JSON | None = None,
) -> Alert:
    """Open an alert, or move the open one of this monitor and target to `status`.

    A status change notifies; a new value or message alone updates the alert silently (§6.4).
    """
    if status == "OK":
        raise bad_request("an alert cannot be opened with status OK")
    existing = open_alert_for(org, monitor.id, host_id, series)
    now = world.now()
    if existing is not None:
        existing.value = value if value is not None else existing.value
        existing.message = message if message is not None else existing.message
        if existing.status != status:
            existing.status = status
            existing.status_changed_at = now
            _log(world, existing, "monitor", status_detail)
            notify(world, org, existing, trigger="monitor")
            _refresh_groups(world, org, existing)
        return existing
    alert = Alert(
        id=world.ids.new_id(),
        seq=world.next_alert_seq(),
        monitor_id=monitor.id,
        type=monitor.type,
        status=status,
        opened_at=now,
        status_changed_at=now,
        host_id=host_id,
        value=value,
        message=message,
        series=series,
    )
    org.alerts[alert.id] = alert
    org.alert_order.append(alert.id)
    org.open_alerts[alert_key(monitor.id, host_id, series)] = alert.id
    _log(world, alert, "monitor", status_detail)
    _attach_groups(world, org, alert, monitor)
    notify(world, org, alert, trigger="monitor")
    _refresh_groups(world, org, alert)
    return alert


def close_alert(
    world: World,
    org: Organization,
    alert: Alert,
    *,
    reason: str,
    trigger: str,
    user: str | None = None,
    value: float | None = None,
) -> Alert:
    """Close an alert (status OK). Closing a closed alert changes nothing."""
    if not alert.is_open:
        return alert
    now = world.now()
    alert.status = "OK"
    alert.reason = reason
    alert.closed_at = now
    alert.status_changed_at = now
    if value is not None:
        alert.value = value
    org.open_alerts.pop(alert_key(alert.monitor_id, alert.host_id, alert.series), None)
    org.attempts.pop((alert.monitor_id, alert.host_id or ""), None)
    _log(world, alert, trigger)
    notify(world, org, alert, trigger=trigger, user=user)
    _refresh_groups(world, org, alert)
    return alert


def close_alerts_where(
    world: World,
    org: Organization,
    predicate: Callable[[Alert], bool],
    *,
    reason: str,
    trigger: str,
) -> int:
    """Close every open alert for which `predicate(alert)` is true; used by retire and deletes."""
    closing = [org.alerts[a] for a in list(org.open_alerts.values()) if predicate(org.alerts[a])]
    for alert in closing:
        close_alert(world, org, alert, reason=reason, trigger=trigger)
    return len(closing)


def notification_interval(org: Organization, alert: Alert) -> int | None:
    if alert.type == "check":
        state = org.check_states.get(alert.monitor_id)
        return None if state is None else state.notification_interval
    monitor = org.monitors.get(alert.monitor_id)
    if monitor is None:
        return None
    interval = monitor.fields.get("notificationInterval")
    return int(interval) if interval else None


def renotify_due(world: World) -> None:
    """Re-send open alerts whose notificationInterval (minutes) has passed since the last one.

    Heap entries can be stale (the alert closed, its monitor's interval changed, it was notified
    again meanwhile); each is checked against the alert as it is now.
    """
    now = world.now()
    heap = world.renotify_heap
    while heap and heap[0][0] <= now:
        _, org_name, alert_id = heapq.heappop(heap)
        org = world.orgs.get(org_name)
        alert = org.alerts.get(alert_id) if org else None
        if org is None or alert is None or not alert.is_open:
            continue
        interval = notification_interval(org, alert)
        last = alert.last_notified_at or alert.opened_at
        if interval and now - last >= interval * 60:
            notify(world, org, alert, trigger="monitor")


def renotify_groups(world: World, org: Organization) -> None:
    now = world.now()
    for group in org.groups.values():
        setting = org.group_settings.get(group.setting_id)
        if group.closed_at is not None or setting is None:
            continue
        interval = setting.fields.get("notificationInterval")
        last = group.last_notified_at or group.created_at
        if interval and now - last >= int(interval) * 60:
            _notify_group(world, org, group, setting)


# --- alert groups --------------------------------------------------------------------------


def _setting_matches(
    org: Organization, setting: AlertGroupSetting, alert: Alert, monitor: Monitor
) -> bool:
    fields = setting.fields
    service_scopes = set(fields.get("serviceScopes") or [])
    role_scopes = _role_set(fields.get("roleScopes") or [])
    monitor_scopes = set(fields.get("monitorScopes") or [])
    if not (service_scopes or role_scopes or monitor_scopes):
        return True
    services, roles = _alert_services_and_roles(org, alert, monitor)
    return bool(services & service_scopes or roles & role_scopes or monitor.id in monitor_scopes)


def _notify_group(
    world: World, org: Organization, group: AlertGroup, setting: AlertGroupSetting
) -> None:
    group.last_notified_at = world.now()
    world.emit(org, "alertGroup", webhooks.alert_group_payload(org, group, setting))


def _attach_groups(world: World, org: Organization, alert: Alert, monitor: Monitor) -> None:
    for setting in org.group_settings.values():
        if not _setting_matches(org, setting, alert, monitor):
            continue
        group = next(
            (g for g in org.groups.values() if g.setting_id == setting.id and g.closed_at is None),
            None,
        )
        if group is None:
            group = AlertGroup(
                id=world.ids.new_id(),
                setting_id=setting.id,
                status="OK",  # set from the members by _refresh_groups
                created_at=world.now(),
            )
            org.groups[group.id] = group
        group.alert_ids.append(alert.id)
        alert.group_ids.append(group.id)


def _refresh_groups(world: World, org: Organization, alert: Alert) -> None:
    for group_id in alert.group_ids:
        group = org.groups[group_id]
        setting = org.group_settings.get(group.setting_id)
        if group.closed_at is not None or setting is None:
            continue
        members = [org.alerts[a] for a in group.alert_ids if org.alerts[a].is_open]
        if not members:
            group.status, group.closed_at = "OK", world.now()
            _notify_group(world, org, group, setting)
            continue
        status = max((m.status for m in members), key=SEVERITY.__getitem__)
        if status != group.status:
            group.status = status
            _notify_group(world, org, group, setting)


# --- listing ----------------------------------------------------------------------------------


def page_alerts(
    org: Organization, *, with_closed: bool, next_id: str | None, limit: int
) -> tuple[list[Alert], str | None]:
    """Newest first; `nextId` is the first alert of the next page, so pages never overlap."""
    order = org.alert_order
    position = len(order) - 1
    if next_id is not None:
        cursor = org.alerts.get(next_id)
        if cursor is None:
            raise bad_request("invalid nextId")
        position = bisect.bisect_left(order, cursor.seq, key=lambda a: org.alerts[a].seq)
    page: list[Alert] = []
    while position >= 0:
        alert = org.alerts[order[position]]
        position -= 1
        if not (with_closed or alert.is_open):
            continue
        if len(page) == limit:
            return page, alert.id
        page.append(alert)
    return page, None


def page_logs(
    alert: Alert, *, next_id: str | None, limit: int
) -> tuple[list[AlertLog], str | None]:
    logs = list(reversed(alert.logs))
    start = 0
    if next_id is not None:
        ids = [log.id for log in logs]
        if next_id not in ids:
            raise bad_request("invalid nextId")
        start = ids.index(next_id)
    page = logs[start : start + limit]
    rest = logs[start + limit :]
    return page, (rest[0].id if rest else None)
