"""How an observation of a Mackerel alert changes its case and the case's timeline.

The case row is locked (``SELECT ... FOR UPDATE``) while an observation is applied, so webhooks
and sync touching the same alert at the same moment are applied one after the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from alerts import intake
from alerts.models import Case, CaseEvent, WebhookReceipt
from orgs import mirrors
from orgs.models import Host, Organization

# Mackerel re-notifies an open alert every notificationInterval minutes, 10 at the least; the
# same payload arriving sooner than this is the same delivery again, not a re-notification.
DUPLICATE_WINDOW = timedelta(minutes=5)
SEVERITY_RANK = {"ok": 0, "warning": 1, "unknown": 2, "critical": 3}


@dataclass(frozen=True, slots=True)
class Observation:
    """An alert as one source saw it at one moment (a webhook, or a sync of the alerts API)."""

    event: intake.AlertEvent
    source: str
    seen_at: datetime
    receipt: WebhookReceipt | None = None


def apply(org: Organization, obs: Observation) -> CaseEvent | None:
    """Apply ``obs`` to its case; the new timeline entry, or None when nothing changed."""
    host = _host(org, obs.event.host)
    case, created = _locked_case(org, obs, host)
    kind, applied = _classify(case, created, obs)
    if kind is None:
        return None
    entry = _record(case, obs, kind, applied, new=created)
    if entry is not None and applied and not (created and kind == CaseEvent.Kind.OPENED):
        # A case just opened from this very observation already holds it.
        _update_case(case, obs, host, kind)
    return entry


def _host(org: Organization, host: intake.WebhookHost | None) -> Host | None:
    if host is None:
        return None
    return mirrors.upsert_webhook_host(
        org,
        mackerel_id=host.id,
        name=host.name,
        status=host.status,
        memo=host.memo,
        roles=[(role.service, role.role) for role in host.roles],
    )


def _order_key(obs: Observation) -> datetime:
    """When the change happened: Mackerel's statusChangedAt, else when Tairyo saw it."""
    return obs.event.alert.status_changed_at or obs.seen_at


def _locked_case(org: Organization, obs: Observation, host: Host | None) -> tuple[Case, bool]:
    alert_id = obs.event.alert.id
    case = Case.objects.select_for_update().filter(organization=org, alert_id=alert_id).first()
    if case is not None:
        return case, False
    try:
        with transaction.atomic():
            return _new_case(org, obs, host), True
    except IntegrityError:
        # Another worker created it a moment ago; wait for its lock, then continue with it.
        return Case.objects.select_for_update().get(organization=org, alert_id=alert_id), False


def _new_case(org: Organization, obs: Observation, host: Host | None) -> Case:
    alert = obs.event.alert
    case = Case(
        customer_id=org.customer_id,
        organization=org,
        alert_id=alert.id,
        opened_at=alert.opened_at,
        source=obs.source,
        severity=alert.status,
        is_open=alert.is_open,
        mackerel_url=alert.url[:500],
    )
    _copy_details(case, obs, host)
    case.save()
    return case


def _classify(case: Case, created: bool, obs: Observation) -> tuple[str | None, bool]:
    """Which timeline entry ``obs`` makes, and whether it changes the case."""
    alert = obs.event.alert
    if created:
        return (CaseEvent.Kind.OPENED if alert.is_open else CaseEvent.Kind.CLOSED), True
    if not case.is_open:
        # Mackerel never reopens an alert: anything after the close is old news.
        if alert.is_open:
            return _change_kind(case.severity, alert.status), False
        return None, False
    if not alert.is_open:
        return CaseEvent.Kind.CLOSED, True
    if case.status_changed_at and _order_key(obs) < case.status_changed_at:
        return _change_kind(case.severity, alert.status), False
    if alert.status != case.severity:
        return _change_kind(case.severity, alert.status), True
    if obs.receipt is None:
        return None, False  # sync seeing an unchanged open alert is not news
    # On a case sync opened, the first webhook is the notification of the change sync already
    # applied, unless it comes a re-notification interval after that change.
    last_heard = case.last_webhook_at or case.status_changed_at
    if last_heard and obs.seen_at - last_heard < DUPLICATE_WINDOW:
        return None, False
    return CaseEvent.Kind.RENOTIFIED, True


def _change_kind(old: str, new: str) -> str:
    if SEVERITY_RANK[new] > SEVERITY_RANK[old]:
        return CaseEvent.Kind.WORSENED
    if SEVERITY_RANK[new] < SEVERITY_RANK[old]:
        return CaseEvent.Kind.IMPROVED
    return CaseEvent.Kind.RENOTIFIED


def _occurred_at(obs: Observation, kind: str) -> datetime:
    alert = obs.event.alert
    if kind == CaseEvent.Kind.OPENED:
        return alert.status_changed_at or alert.opened_at
    if kind == CaseEvent.Kind.CLOSED:
        return alert.closed_at or alert.status_changed_at or obs.seen_at
    if kind == CaseEvent.Kind.RENOTIFIED:
        return obs.seen_at
    return alert.status_changed_at or obs.seen_at


def _record(
    case: Case, obs: Observation, kind: str, applied: bool, *, new: bool = False
) -> CaseEvent | None:
    if not applied and obs.event.alert.status_changed_at is None:
        # An out-of-date change without Mackerel's own time cannot be placed in the timeline.
        return None
    occurred_at = _occurred_at(obs, kind)
    if not applied:
        kind = _late_kind(case, obs.event.alert.status, occurred_at)
    same = CaseEvent.objects.filter(
        case=case, severity=obs.event.alert.status, occurred_at=occurred_at
    )
    # A replay of an entry already in the timeline; late arrivals may be classified differently
    # from the first time (an opening seen again after the case moved on), so any kind matches.
    # A case created a moment ago has no timeline to look in.
    if not new and (same if not applied else same.filter(kind=kind)).exists():
        return None
    return CaseEvent.objects.create(
        customer_id=case.customer_id,
        case=case,
        kind=kind,
        severity=obs.event.alert.status,
        previous_severity=case.severity if kind != CaseEvent.Kind.OPENED else "",
        source=obs.source,
        trigger=obs.event.alert.trigger,
        message=obs.event.message,
        metric_value=obs.event.alert.metric_value,
        user=obs.event.user[:255],
        occurred_at=occurred_at,
        applied=applied,
        receipt=obs.receipt,
    )


def _late_kind(case: Case, severity: str, occurred_at: datetime) -> str:
    """The kind of a late change, judged against what the case was at the time it happened."""
    before = (
        case.events.filter(applied=True, occurred_at__lt=occurred_at)
        .order_by("-occurred_at", "-id")
        .first()
    )
    if before is None:
        return CaseEvent.Kind.OPENED
    return _change_kind(before.severity, severity)


def _copy_details(case: Case, obs: Observation, host: Host | None) -> None:
    event, alert = obs.event, obs.event.alert
    case.monitor_type = event.monitor_type or case.monitor_type
    case.monitor_name = alert.monitor_name or case.monitor_name
    case.message = event.message or case.message
    case.metric_label = alert.metric_label or case.metric_label
    if alert.metric_value is not None:
        case.metric_value = alert.metric_value
    case.warning_threshold = alert.warning_threshold
    case.critical_threshold = alert.critical_threshold
    case.monitor_operator = alert.operator[:4]
    case.status_changed_at = _order_key(obs)
    if obs.receipt is not None:
        case.last_webhook_at = obs.seen_at
    if host is not None:
        case.host = host
    if event.service_name:
        case.service = mirrors.service_named(case.organization, event.service_name)
    elif host is not None and case.service_id is None:
        case.service = mirrors.first_service_of(host)
    if case.monitor_id is None and case.monitor_name:
        case.monitor = mirrors.monitor_named(case.organization, case.monitor_name)


def _update_case(case: Case, obs: Observation, host: Host | None, kind: str) -> None:
    alert = obs.event.alert
    if kind != CaseEvent.Kind.OPENED:
        _copy_details(case, obs, host)
    case.severity = alert.status
    if kind == CaseEvent.Kind.CLOSED:
        case.is_open = False
        case.closed_at = alert.closed_at or obs.seen_at
        case.close_trigger = alert.trigger[:64]
    case.save()
