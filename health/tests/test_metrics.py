"""/metrics: Prometheus text, only for the token holder or the allowed networks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from alerts.models import WebhookReceipt
from health import watch
from health.tests.canaries import beat_every_canary
from orgs.models import Organization

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests"


def _samples(body: bytes) -> dict[str, float]:
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def test_metrics_is_404_unless_switched_on(client: Client) -> None:
    assert client.get("/metrics").status_code == 404


def test_metrics_needs_the_token(client: Client, settings: Any) -> None:
    settings.TAIRYO_METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 403
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"]


def test_metrics_is_open_to_the_allowed_networks_only(client: Client, settings: Any) -> None:
    settings.TAIRYO_METRICS_NETWORKS = ["10.0.0.0/8", "2001:db8::/32"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="2001:db8::5").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.1").status_code == 403
    # A forwarded address counts only behind a trusted proxy.
    spoofed = client.get("/metrics", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert spoofed.status_code == 403
    settings.TAIRYO_PROXY_HOPS = 1
    proxied = client.get("/metrics", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert proxied.status_code == 200


def test_metrics_shows_the_figures(client: Client, settings: Any, acme_org: Organization) -> None:
    settings.TAIRYO_METRICS_TOKEN = TOKEN
    beat_every_canary()
    for age in (10, 200):
        WebhookReceipt.objects.create(
            customer_id=acme_org.customer_id,
            organization=acme_org,
            body="{}",
            received_at=timezone.now() - timedelta(seconds=age),
        )
    body = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content
    samples = _samples(body)
    assert samples["tairyo_webhook_receipts_pending"] == 2
    assert 200 <= samples["tairyo_webhook_receipt_oldest_pending_seconds"] < 205
    assert samples["tairyo_notifications_backlog"] == 0
    assert samples["tairyo_webhook_rejections_1h{kind=malformed}"] == 0
    assert samples["tairyo_canary_age_seconds"] < 5
    # A receipt 200 s old is past its 120 s deadline: the heartbeat is held back.
    assert samples["tairyo_audit_healthy"] == 0
    assert "tairyo_heartbeat_posted_timestamp_seconds" not in samples


def test_metrics_shows_when_the_heartbeat_was_last_posted(client: Client, settings: Any) -> None:
    settings.TAIRYO_METRICS_TOKEN = TOKEN
    settings.TAIRYO_SELF_MACKEREL_API_KEY = ""
    beat_every_canary()
    watch.heartbeat()
    from health.models import SelfCheck

    posted = timezone.now() - timedelta(seconds=30)
    SelfCheck.objects.update(posted_at=posted)
    samples = _samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content)
    assert samples["tairyo_audit_healthy"] == 1
    assert samples["tairyo_heartbeat_posted_timestamp_seconds"] == pytest.approx(posted.timestamp())


def test_metrics_costs_the_same_queries_for_many_rows(
    client: Client, settings: Any, acme_org: Organization
) -> None:
    settings.TAIRYO_METRICS_TOKEN = TOKEN

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        return len(context.captured_queries)

    few = queries()
    WebhookReceipt.objects.bulk_create(
        WebhookReceipt(customer_id=acme_org.customer_id, organization=acme_org, body="{}")
        for _ in range(50)
    )
    assert queries() == few <= 6
