"""Tairyo watching itself: the heartbeat to the operator's Mackerel organization and its monitor.

Every TAIRYO_HEARTBEAT_INTERVAL_SECONDS a worker runs the auditor. The figures go to Mackerel as
service metrics whatever they say; the heartbeat metric goes with them only when the canary and
the auditor hold. A service monitor with interruption detection (``create_self_monitor``) turns
a missing heartbeat into an alert: Tairyo stopped, or stopped doing its job (docs/monitoring.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from health import audit
from health.models import SelfCheck
from orgs import mackerel

logger = logging.getLogger(__name__)

HEARTBEAT_METRIC = "tairyo.heartbeat"
# Figure -> service metric name in Mackerel (names may hold letters, digits, ".", "-", "_").
MACKEREL_METRICS = {
    "canary_age_seconds": "tairyo.canary.age_seconds",
    "receipts_pending": "tairyo.receipts.pending",
    "receipts_oldest_pending_seconds": "tairyo.receipts.oldest_pending_seconds",
    "notifications_backlog": "tairyo.notifications.backlog",
    "notifications_oldest_backlog_seconds": "tairyo.notifications.oldest_backlog_seconds",
    "notifications_sent_recently": "tairyo.notifications.sent_15m",
    "time_to_provider_avg_seconds": "tairyo.notifications.time_to_provider_avg_seconds",
    "time_to_provider_max_seconds": "tairyo.notifications.time_to_provider_max_seconds",
    "organizations_synced": "tairyo.sync.organizations",
    "sync_stale_organizations": "tairyo.sync.stale_organizations",
    "sync_oldest_seconds": "tairyo.sync.oldest_seconds",
    "sync_failing_organizations": "tairyo.sync.failing_organizations",
    "webhooks_rejected_last_hour": "tairyo.webhooks.rejected_1h",
    "webhooks_refused_last_hour": "tairyo.webhooks.refused_1h",
}
SELF_CHECK = "auditor"
MONITOR_NAME = "Tairyo heartbeat"


def posting_enabled() -> bool:
    return bool(settings.TAIRYO_SELF_MACKEREL_API_KEY)


def client() -> mackerel.MackerelClient:
    """A client for the operator's own organization (not one of the customers')."""
    return mackerel.MackerelClient(
        settings.TAIRYO_SELF_MACKEREL_API_KEY,
        organization="self-monitoring",
        base_url=settings.MACKEREL_API_URL,
        # A heartbeat late by more than an interval is worth nothing: fail fast, try next time.
        timeout=5.0,
        max_retries=1,
        max_retry_after=5.0,
    )


def metric_values(
    figures: audit.Figures, *, healthy: bool, now: datetime
) -> list[mackerel.ServiceMetricValue]:
    values = [
        mackerel.ServiceMetricValue(name, now, float(value))
        for field, name in MACKEREL_METRICS.items()
        if (value := getattr(figures, field)) is not None
    ]
    if healthy:
        values.append(mackerel.ServiceMetricValue(HEARTBEAT_METRIC, now, 1.0))
    return values


def heartbeat(now: datetime | None = None) -> SelfCheck:
    """Audit Tairyo, keep the verdict for /healthz and the admin, and tell Mackerel.

    Never raises for Mackerel's sake: a failed post is logged and kept on the verdict, and the
    next run tries again.
    """
    now = now or timezone.now()
    figures = audit.measure(now)
    problems = audit.problems(figures)
    if problems:
        logger.warning("heartbeat held back: %s", "; ".join(problems))
    fields: dict[str, Any] = {
        "checked_at": now,
        "healthy": not problems,
        "problems": problems,
        "figures": figures.as_dict(),
        "post_error": "",
    }
    if posting_enabled():
        error = _post(metric_values(figures, healthy=not problems, now=now))
        fields["post_error"] = error
        if not error and not problems:
            fields["posted_at"] = now
    check, _ = SelfCheck.objects.update_or_create(name=SELF_CHECK, defaults=fields)
    return check


def _post(values: list[mackerel.ServiceMetricValue]) -> str:
    service = settings.TAIRYO_SELF_MACKEREL_SERVICE
    try:
        with client() as api:
            api.post_service_metrics(service, values)
    except (mackerel.MackerelError, ValueError) as exc:
        logger.warning("could not post the health figures to Mackerel service %s: %s", service, exc)
        return str(exc)[:1000]
    return ""


# --- The monitor in the operator's organization ------------------------------------------------
@dataclass(frozen=True, slots=True)
class MonitorOutcome:
    """What ``ensure_monitor`` did: ``created``, ``updated`` or ``unchanged``."""

    action: str
    monitor: mackerel.Monitor
    service_created: bool


def monitor_definition() -> dict[str, Any]:
    """A service monitor that alerts when the heartbeat stops (interruption detection).

    The threshold never fires on its own (the heartbeat is always 1); it is there because a
    service monitor needs an operator, and it makes a heartbeat of 0 alert at once if one is
    ever posted by hand.
    """
    minutes = settings.TAIRYO_SELF_MONITOR_MISSING_MINUTES
    return {
        "type": "service",
        "name": MONITOR_NAME,
        "memo": (
            f"Tairyo posts {HEARTBEAT_METRIC} every {settings.TAIRYO_HEARTBEAT_INTERVAL_SECONDS}"
            " s while its canary runs and no webhook, mail or sync is overdue. No value for "
            f"{minutes} minutes: Tairyo is down or falling behind. See /healthz and "
            "docs/monitoring.md."
        ),
        "service": settings.TAIRYO_SELF_MACKEREL_SERVICE,
        "metric": HEARTBEAT_METRIC,
        "operator": "<",
        "warning": None,
        "critical": 1,
        "duration": 1,
        "maxCheckAttempts": 1,
        "missingDurationCritical": minutes,
        "isMute": False,
    }


def _differs(monitor: mackerel.Monitor, wanted: dict[str, Any]) -> bool:
    # The name is the operator's to change; everything else is what makes the monitor work.
    return any(
        monitor.definition.get(key) != value for key, value in wanted.items() if key != "name"
    )


def ensure_monitor(api: mackerel.MackerelClient) -> MonitorOutcome:
    """Create the heartbeat's service (if missing) and its monitor, or bring it up to date.

    Idempotent: the monitor is found by type, service and metric, so running it again changes
    nothing, and one renamed by hand in Mackerel is still recognised.
    """
    service = settings.TAIRYO_SELF_MACKEREL_SERVICE
    service_created = False
    if service not in {s.name for s in api.list_services()}:
        api.create_service(service, memo="Tairyo's own health (docs/monitoring.md)")
        service_created = True
    wanted = monitor_definition()
    for monitor in api.list_monitors():
        fields = monitor.definition
        if (
            monitor.type == "service"
            and fields.get("service") == service
            and fields.get("metric") == HEARTBEAT_METRIC
        ):
            if not _differs(monitor, wanted):
                return MonitorOutcome("unchanged", monitor, service_created)
            # A full replacement (PUT resets omitted fields), keeping a name given by hand.
            body = wanted | {"name": monitor.name or MONITOR_NAME}
            updated = api.update_monitor(monitor.id, body)
            return MonitorOutcome("updated", updated, service_created)
    return MonitorOutcome("created", api.create_monitor(wanted), service_created)
