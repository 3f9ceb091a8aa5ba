"""The health figures in Prometheus' text format, computed afresh on every scrape.

A registry per scrape with one collector over ``audit.measure()``: the figures come from
PostgreSQL, so every web process answers the same, and nothing is kept between scrapes.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from health import audit
from health.models import SelfCheck
from health.watch import SELF_CHECK

# Figure -> (metric name, help). Ages and durations in seconds, as Prometheus prefers.
GAUGES = {
    "canary_age_seconds": (
        "tairyo_canary_age_seconds",
        "Seconds since the stalest watched queue's canary ran (absent if one never ran).",
    ),
    "receipts_pending": (
        "tairyo_webhook_receipts_pending",
        "Webhook receipts stored but not yet processed by a worker.",
    ),
    "receipts_oldest_pending_seconds": (
        "tairyo_webhook_receipt_oldest_pending_seconds",
        "Age of the oldest webhook receipt still pending (0 if none).",
    ),
    "notifications_backlog": (
        "tairyo_notifications_backlog",
        "Mails not yet handed to the provider (pending, collecting into a digest, sending).",
    ),
    "notifications_oldest_backlog_seconds": (
        "tairyo_notification_oldest_backlog_seconds",
        "Age of the oldest mail not yet handed to the provider (0 if none).",
    ),
    "notifications_sent_recently": (
        "tairyo_notifications_sent_15m",
        "Mails handed to the provider in the last 15 minutes.",
    ),
    "time_to_provider_avg_seconds": (
        "tairyo_time_to_provider_avg_seconds",
        "Mean time from the webhook to the provider accepting the mail, last 15 minutes.",
    ),
    "time_to_provider_max_seconds": (
        "tairyo_time_to_provider_max_seconds",
        "Longest time from the webhook to the provider accepting the mail, last 15 minutes.",
    ),
    "organizations_synced": (
        "tairyo_sync_organizations",
        "Active organizations with an API key, which sync visits.",
    ),
    "sync_stale_organizations": (
        "tairyo_sync_stale_organizations",
        "Of those, organizations not synced within TAIRYO_AUDIT_SYNC_SECONDS.",
    ),
    "sync_oldest_seconds": (
        "tairyo_sync_oldest_seconds",
        "Seconds since the least recently synced organization was synced.",
    ),
    "sync_failing_organizations": (
        "tairyo_sync_failing_organizations",
        "Organizations whose latest sync failed.",
    ),
}


class FiguresCollector(Collector):
    """Yields the auditor's figures and verdict as gauges (six queries, one Redis call)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        figures = audit.measure()
        for field, (name, documentation) in GAUGES.items():
            value = getattr(figures, field)
            if value is not None:
                yield GaugeMetricFamily(name, documentation, value=float(value))
        rejections = GaugeMetricFamily(
            "tairyo_webhook_rejections_1h",
            "Webhooks rejected in the last hour: malformed (kept as rejected receipts) or "
            "refused before storage (unknown URL, network, credentials, size, content type).",
            labels=["kind"],
        )
        rejections.add_metric(["malformed"], figures.webhooks_rejected_last_hour)
        rejections.add_metric(["refused"], figures.webhooks_refused_last_hour)
        yield rejections
        yield GaugeMetricFamily(
            "tairyo_audit_healthy",
            "1 when the canary and every deadline hold now, 0 when the heartbeat is held back.",
            value=0.0 if audit.problems(figures) else 1.0,
        )
        posted = SelfCheck.objects.filter(name=SELF_CHECK).values_list("posted_at", flat=True)
        last = posted.first()
        if last is not None:
            yield GaugeMetricFamily(
                "tairyo_heartbeat_posted_timestamp_seconds",
                "When Mackerel last accepted Tairyo's heartbeat (Unix time).",
                value=last.timestamp(),
            )


def exposition() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FiguresCollector())
    return generate_latest(registry)
