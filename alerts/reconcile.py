"""Alert reconciliation: what webhooks missed, repaired from Mackerel's alerts API.

Webhooks can be lost (Mackerel does not redeliver; our intake may be down for a deploy), so every
sync also reads the organization's alerts and applies, through ``cases.apply`` like a webhook,
what Tairyo does not know yet:

* an alert open in Mackerel with no case here opens one (source "sync"), and so notifies;
* an alert whose case is open here but which changed or closed in Mackerel is brought up to date;
* an alert opened *and* closed since the last sync becomes a case too, opened then closed.

Each change is replayed from the alert's logs in Mackerel's order with Mackerel's times, so the
timeline reads as if the webhooks had arrived, and a webhook for the same change arriving at the
same moment finds the entry already there (the case row lock in ``cases.apply`` serializes them).

Alerts are read in two passes: every open alert (usually one page), then all alerts newest first
back to the previous reconciliation, which is where the closes and the opened-and-closed are.
A case open here whose alert opened before that is looked up on its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alerts import cases, intake, services
from alerts.models import Case
from orgs import mackerel, sync
from orgs.models import Host, Monitor, Organization, SyncCounts, SyncRun
from portal import logcontext

logger = logging.getLogger(__name__)

# Alerts opened this long before the previous reconciliation are read again: clocks differ,
# and an alert may open while a reconciliation is running.
LOOKBACK_MARGIN = timedelta(minutes=5)
# Cases open here whose alerts are older than the pages read, looked up one by one per run.
MAX_LOOKUPS = 50
ALERT_URL = "https://mackerel.io/orgs/{org}/alerts/{alert}"
# Alert logs name their triggers differently from webhooks (mackerel-api.md 7.2, 9.3).
LOG_TRIGGERS = {**intake.TRIGGER_ALIASES, "serviceDelete": "delete service"}


def sync_organization(org_id: int) -> SyncRun | None:
    """Sync an organization: inventory, then alerts, as one run under its lock; None if skipped."""
    return sync.run_sync(org_id, phases=[reconcile])


def schedule_syncs(interval: float | None = None) -> int:
    """Enqueue one sync per active organization with a key, spread over the sync interval."""
    from alerts import tasks

    interval = interval or settings.TAIRYO_SYNC_INTERVAL_SECONDS
    slots = sync.schedule(interval)
    for slot in slots:
        # A sync not started within the interval is dropped: the next round has its own.
        tasks.sync_organization.apply_async(
            (slot.org_id,), countdown=slot.countdown, expires=slot.countdown + interval
        )
    return len(slots)


def reconcile_alerts(org_id: int) -> SyncCounts:
    """Reconcile one organization's alerts on their own (no lock, no run: it is idempotent)."""
    org = Organization.objects.get(pk=org_id)
    with sync.client_for(org) as client:
        return reconcile(org, client)


@dataclass
class _Known:
    """What Tairyo knows of an alert: its case's state."""

    is_open: bool
    severity: str
    status_changed_at: datetime | None
    opened_at: datetime


@dataclass
class _Pass:
    """The alerts read from Mackerel in one reconciliation, by ID."""

    alerts: dict[str, mackerel.Alert] = field(default_factory=dict)
    open_ids: set[str] = field(default_factory=set)


def reconcile(org: Organization, client: mackerel.MackerelClient) -> SyncCounts:
    """Apply to cases whatever Mackerel's alerts say that the cases do not; the counts."""
    started = timezone.now()
    # Back to the previous reconciliation, or the first time to this one: alerts closed before
    # Tairyo watched the organization are history, not news to mail about.
    since = (org.alerts_reconciled_at or started) - LOOKBACK_MARGIN
    seen = _read(client, since)
    known = _known(org, seen.alerts)
    counts: SyncCounts = {
        "alerts_open": len(seen.open_ids),
        "alerts_opened": 0,
        "alerts_changed": 0,
        "alerts_closed": 0,
        "alerts_silenced": 0,
    }
    todo = _to_apply(org, client, seen, known, counts)
    replay = _Replay(org, client, todo)
    applied = False
    for alert in sorted(todo, key=lambda a: (a.opened_at, a.id)):
        applied |= replay.apply(alert, known.get(alert.id), counts)
    if applied:
        transaction.on_commit(services.wake_planner)
    Organization.objects.filter(pk=org.pk).update(alerts_reconciled_at=started)
    return counts


def _read(client: mackerel.MackerelClient, since: datetime) -> _Pass:
    seen = _Pass()
    for alert in client.iter_alerts():
        seen.alerts[alert.id] = alert
        seen.open_ids.add(alert.id)
    # Newest first: stop at the first alert opened before what the last run covered.
    for alert in client.iter_alerts(with_closed=True):
        if alert.opened_at < since:
            break
        seen.alerts.setdefault(alert.id, alert)
    return seen


def _known(org: Organization, alerts: dict[str, mackerel.Alert]) -> dict[str, _Known]:
    rows = Case.objects.filter(organization=org, alert_id__in=list(alerts)) | Case.objects.filter(
        organization=org, is_open=True
    )
    return {
        alert_id: _Known(is_open, severity, changed, opened)
        for alert_id, is_open, severity, changed, opened in rows.order_by().values_list(
            "alert_id", "is_open", "severity", "status_changed_at", "opened_at"
        )
    }


def _to_apply(
    org: Organization,
    client: mackerel.MackerelClient,
    seen: _Pass,
    known: dict[str, _Known],
    counts: SyncCounts,
) -> list[mackerel.Alert]:
    """The alerts whose case is missing or behind."""
    todo = []
    for alert in seen.alerts.values():
        case = known.get(alert.id)
        if case is None or (case.is_open and (not alert.is_open or alert.status != case.severity)):
            todo.append(alert)
    # Open here, not open in Mackerel, and older than the pages read: closed long ago.
    stale = [
        alert_id for alert_id, case in known.items() if case.is_open and alert_id not in seen.alerts
    ]
    for alert_id in stale[:MAX_LOOKUPS]:
        try:
            alert = client.get_alert(alert_id)
        except mackerel.NotFoundError:
            with logcontext.bind(case_id=alert_id):
                logger.warning(
                    "%s: case %s is open but Mackerel has no such alert", org.name, alert_id
                )
            continue
        if not alert.is_open:
            todo.append(alert)
    if len(stale) > MAX_LOOKUPS:
        logger.info("%s: %d open cases left for the next run", org.name, len(stale) - MAX_LOOKUPS)
    return todo


class _Replay:
    """Turns an alert's logs into observations and applies them to its case."""

    def __init__(
        self, org: Organization, client: mackerel.MackerelClient, alerts: list[mackerel.Alert]
    ) -> None:
        self.org = org
        self.client = client
        monitor_ids = {alert.monitor_id for alert in alerts if alert.monitor_id}
        self.monitors = {
            m.mackerel_id: m
            for m in Monitor.objects.filter(organization=org, mackerel_id__in=monitor_ids)
        }
        host_ids = {alert.host_id for alert in alerts if alert.host_id}
        self.hosts: dict[str, intake.WebhookHost | None] = {
            host.mackerel_id: _webhook_host(host)
            for host in Host.objects.filter(
                organization=org, mackerel_id__in=host_ids
            ).prefetch_related("roles__service")
        }

    def apply(self, alert: mackerel.Alert, case: _Known | None, counts: SyncCounts) -> bool:
        """Bring the alert's case up to date; whether any timeline entry was applied."""
        host = self._host(alert.host_id)
        monitor = self.monitors.get(alert.monitor_id or "")
        if case is None and _silenced(alert, host, monitor):
            # Mackerel sends no webhook for these (muted monitor, host not working): neither
            # does sync open a case for them.
            counts["alerts_silenced"] = counts.get("alerts_silenced", 0) + 1
            return False
        observations = self._observations(alert, case, host, monitor)
        entries = []
        with transaction.atomic():
            for observation in observations:
                entries.append(cases.apply(self.org, observation))
        applied = [entry for entry in entries if entry is not None and entry.applied]
        if not applied:
            return False
        if case is None:
            counts["alerts_opened"] = counts.get("alerts_opened", 0) + 1
        if not alert.is_open:
            counts["alerts_closed"] = counts.get("alerts_closed", 0) + 1
        elif case is not None:
            counts["alerts_changed"] = counts.get("alerts_changed", 0) + 1
        return True

    def _host(self, host_id: str | None) -> intake.WebhookHost | None:
        if host_id is None:
            return None
        if host_id not in self.hosts:
            # Not in the mirror: a host inventory sync has not seen (retired before Tairyo knew
            # it). Mackerel still answers for retired hosts.
            try:
                self.hosts[host_id] = _api_host(self.client.get_host(host_id))
            except mackerel.NotFoundError:
                self.hosts[host_id] = None
        return self.hosts[host_id]

    def _observations(
        self,
        alert: mackerel.Alert,
        case: _Known | None,
        host: intake.WebhookHost | None,
        monitor: Monitor | None,
    ) -> list[cases.Observation]:
        after = case.status_changed_at if case is not None else None
        # Logs come newest first; reversed, then sorted stably, entries of one second keep
        # Mackerel's order.
        logs = list(self.client.iter_alert_logs(alert.id))
        logs.reverse()
        logs.sort(key=lambda log: log.created_at)
        steps = [log for log in logs if after is None or log.created_at > after]
        seen_at = timezone.now()
        observations = []
        for index, log in enumerate(steps):
            closing = log.status == "ok"
            if closing and (alert.is_open or index != len(steps) - 1):
                continue  # Mackerel closes an alert once, with its last entry
            observations.append(
                self._observation(alert, host, monitor, seen_at, log=log, closing=closing)
            )
        if not observations or (not alert.is_open and observations[-1].event.alert.is_open):
            # No logs (or none newer than the case): the alert as it stands now.
            observations.append(self._observation(alert, host, monitor, seen_at))
        return observations

    def _observation(
        self,
        alert: mackerel.Alert,
        host: intake.WebhookHost | None,
        monitor: Monitor | None,
        seen_at: datetime,
        *,
        log: mackerel.AlertLog | None = None,
        closing: bool = False,
    ) -> cases.Observation:
        definition = monitor.definition if monitor is not None else {}
        if log is None:
            closing = not alert.is_open
            status = "ok" if closing else alert.status
            changed_at = alert.closed_at if closing else None
            trigger = "monitor"
            value = alert.value
        else:
            status, changed_at = log.status, log.created_at
            trigger = LOG_TRIGGERS.get(log.trigger or "monitoring", log.trigger or "monitor")
            value = log.target_value if log.target_value is not None else alert.value
        detail = intake.AlertDetail(
            id=alert.id,
            url=ALERT_URL.format(org=self.org.name, alert=alert.id),
            status=status,
            is_open=not closing,
            trigger=trigger,
            opened_at=alert.opened_at,
            closed_at=(alert.closed_at or changed_at) if closing else None,
            status_changed_at=changed_at,
            monitor_name=monitor.name if monitor is not None else "",
            metric_label=str(definition.get("metric") or definition.get("expression") or ""),
            metric_value=value,
            warning_threshold=_number(definition.get("warning")),
            critical_threshold=_number(definition.get("critical")),
            operator=str(definition.get("operator") or ""),
            duration=_integer(definition.get("duration")),
        )
        event = intake.AlertEvent(
            org_name=self.org.name,
            monitor_type=alert.type,
            message=_message(alert, log),
            monitor_memo=monitor.memo if monitor is not None else "",
            alert=detail,
            host=host,
            service_name=str(definition.get("service") or ""),
            user="",
        )
        return cases.Observation(event, Case.Source.SYNC, seen_at)


def _silenced(
    alert: mackerel.Alert, host: intake.WebhookHost | None, monitor: Monitor | None
) -> bool:
    return (monitor is not None and monitor.is_mute) or (
        host is not None and host.status != Host.Status.WORKING
    )


def _message(alert: mackerel.Alert, log: mackerel.AlertLog | None) -> str:
    # Check monitors keep the check's output in the log entry of each change.
    if log is not None and log.status_detail:
        detail = log.status_detail.get("detail")
        if isinstance(detail, dict) and isinstance(detail.get("message"), str):
            return str(detail["message"])
    return alert.message or ""


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _integer(value: object) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _webhook_host(host: Host) -> intake.WebhookHost:
    """A host from the mirror, in the shape webhooks give it to ``cases.apply``."""
    return intake.WebhookHost(
        id=host.mackerel_id,
        name=host.name,
        status=host.status,
        memo=host.memo,
        is_retired=host.is_retired,
        roles=tuple(
            intake.WebhookRole(role.service.name, role.name)
            for role in sorted(host.roles.all(), key=lambda r: (r.service.name, r.name))
        ),
    )


def _api_host(host: mackerel.Host) -> intake.WebhookHost:
    return intake.WebhookHost(
        id=host.id,
        name=host.name,
        status=host.status,
        memo=host.memo,
        is_retired=host.is_retired,
        roles=tuple(
            intake.WebhookRole(service, role)
            for service, roles in sorted(host.roles.items())
            for role in sorted(roles)
        ),
    )
