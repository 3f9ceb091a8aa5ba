"""Monitor logic: what opens and closes alerts from metrics, reachability and silence."""

from __future__ import annotations

from mackerel_sim import alerting
from mackerel_sim.state import MONITORED_STATUSES, Host, Monitor, Organization, Series, World

# Monitoring skips a series whose newest point is older than this (mackerel-api.md §5.1).
STALE_AFTER = 20 * 60


def threshold_status(monitor: Monitor, value: float) -> str:
    fields = monitor.fields
    above = fields.get("operator", ">") == ">"

    def breaches(threshold: object) -> bool:
        if threshold is None:
            return False
        limit = float(threshold)  # type: ignore[arg-type]
        return value > limit if above else value < limit

    if breaches(fields.get("critical")):
        return "CRITICAL"
    if breaches(fields.get("warning")):
        return "WARNING"
    return "OK"


def apply_result(
    world: World,
    org: Organization,
    monitor: Monitor,
    host_id: str | None,
    *,
    status: str,
    value: float,
) -> None:
    """Open after maxCheckAttempts failing evaluations in a row; close on the first OK."""
    key = (monitor.id, host_id or "")
    if status == "OK":
        org.attempts.pop(key, None)
        alert = alerting.open_alert_for(org, monitor.id, host_id)
        if alert is not None:
            alerting.close_alert(
                world, org, alert, reason=alerting.AUTO_CLOSE_REASON, trigger="monitor", value=value
            )
        return
    org.attempts[key] = org.attempts.get(key, 0) + 1
    if org.attempts[key] >= int(monitor.fields.get("maxCheckAttempts", 1)):
        alerting.raise_alert(world, org, monitor, status=status, host_id=host_id, value=value)


def _evaluate_series(
    world: World, org: Organization, monitor: Monitor, host_id: str | None, series: Series
) -> None:
    newest = series.newest
    if newest is None or world.now() - newest > STALE_AFTER:
        return
    # `duration` is the number of newest points averaged (§6.2).
    points = series.last(int(monitor.fields.get("duration", 1)))
    value = sum(points) / len(points)
    if all(float(p).is_integer() for p in points) and value.is_integer():
        value = int(value)
    apply_result(world, org, monitor, host_id, status=threshold_status(monitor, value), value=value)


def evaluate_host_metric(world: World, org: Organization, host: Host, name: str) -> None:
    if host.is_retired or host.status not in MONITORED_STATUSES:
        return
    series = org.host_metrics.get(host.id, {}).get(name)
    if series is None:
        return
    for monitor in list(org.monitors.values()):
        if monitor.type != "host" or monitor.fields.get("metric") != name:
            continue
        scopes = monitor.fields.get("scopes", [])
        if alerting.host_in_scope(host, scopes, monitor.fields.get("excludeScopes", [])):
            _evaluate_series(world, org, monitor, host.id, series)


def evaluate_service_metric(world: World, org: Organization, service: str, name: str) -> None:
    series = org.service_metrics.get(service, {}).get(name)
    if series is None:
        return
    for monitor in list(org.monitors.values()):
        fields = monitor.fields
        if monitor.type == "service" and fields["service"] == service and fields["metric"] == name:
            _evaluate_series(world, org, monitor, None, series)


def check_interruptions(world: World, org: Organization) -> None:
    """Service monitors with missingDuration* alert when their metric stops arriving (§6.2)."""
    now = world.now()
    for monitor in list(org.monitors.values()):
        fields = monitor.fields
        if monitor.type != "service":
            continue
        warning, critical = (
            fields.get("missingDurationWarning"),
            fields.get("missingDurationCritical"),
        )
        if not (warning or critical):
            continue
        series = org.service_metrics.get(fields["service"], {}).get(fields["metric"])
        if series is None or series.newest is None:
            continue
        silent_minutes = (now - series.newest) / 60
        status = None
        if critical and silent_minutes >= critical:
            status = "CRITICAL"
        elif warning and silent_minutes >= warning:
            status = "WARNING"
        if status is not None:
            alerting.raise_alert(world, org, monitor, status=status)


def refresh_connectivity(world: World, org: Organization, host: Host) -> None:
    """Open connectivity alerts for an unreachable host, close them once it is back.

    Hosts in maintenance or poweroff are not monitored, so their alerts neither open nor close
    until they return to working or standby (§3.5).
    """
    if host.is_retired or host.status not in MONITORED_STATUSES:
        return
    for monitor in list(org.monitors.values()):
        if monitor.type != "connectivity":
            continue
        fields = monitor.fields
        applies = alerting.host_in_scope(
            host, fields.get("scopes", []), fields.get("excludeScopes", [])
        )
        alert = alerting.open_alert_for(org, monitor.id, host.id)
        if not host.reachable and applies:
            status = str(fields.get("alertStatusOnGone", "CRITICAL"))
            alerting.raise_alert(
                world, org, monitor, status=status, host_id=host.id, message="unreachable"
            )
        elif alert is not None:
            alerting.close_alert(
                world, org, alert, reason=alerting.AUTO_CLOSE_REASON, trigger="monitor"
            )


def set_reachable(world: World, org: Organization, host: Host, reachable: bool) -> None:
    """The simulated agent stops (or resumes) answering: a host goes down or comes back."""
    host.reachable = reachable
    refresh_connectivity(world, org, host)


def tick(world: World) -> None:
    """Periodic work: re-notifications and interruption checks.

    Connectivity needs no sweep: every change that can open or close those alerts (reachability,
    host status, connectivity monitors) refreshes them when it happens.
    """
    alerting.renotify_due(world)
    for org in list(world.orgs.values()):
        alerting.renotify_groups(world, org)
        check_interruptions(world, org)
