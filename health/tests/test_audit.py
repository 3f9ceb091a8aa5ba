"""The auditor's figures and deadlines, on real rows in PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import WebhookReceipt
from health import audit
from health.tests.canaries import beat_every_canary
from notifications.models import Contact, Notification
from orgs.models import Organization

pytestmark = pytest.mark.django_db


def _receipt(org: Organization, *, age: timedelta, status: str = "pending") -> WebhookReceipt:
    return WebhookReceipt.objects.create(
        customer_id=org.customer_id,
        organization=org,
        event="alert",
        body="{}",
        received_at=timezone.now() - age,
        status=status,
    )


def _mail(org: Organization, *, age: timedelta, status: str = "pending") -> Notification:
    contact, _ = Contact.objects.get_or_create(
        customer_id=org.customer_id, email="noc@acme.example", defaults={"name": "NOC"}
    )
    mail = Notification.objects.create(
        customer_id=org.customer_id, organization=org, contact=contact, status=status
    )
    Notification.objects.filter(pk=mail.pk).update(created_at=timezone.now() - age)
    return mail


def test_a_fresh_canary_and_no_backlog_hold(acme_org: Organization) -> None:
    beat_every_canary()
    _receipt(acme_org, age=timedelta(seconds=5))
    _mail(acme_org, age=timedelta(seconds=5))
    figures = audit.measure()
    assert figures.receipts_pending == 1
    assert figures.notifications_backlog == 1
    assert figures.canary_age_seconds is not None and figures.canary_age_seconds < 5
    assert audit.problems(figures) == []


def test_a_canary_that_never_ran_or_went_stale_holds_the_heartbeat_back(db: None) -> None:
    assert audit.problems(audit.measure()) == [
        "the canary has never run: are beat and a worker up?"
    ]
    beat_every_canary()
    with time_machine.travel(timedelta(seconds=121)):
        (problem,) = audit.problems(audit.measure())
    assert problem.startswith("the canary last ran 121 s ago")


def test_a_dead_deliverer_holds_the_heartbeat_back_before_any_mail_is_late(db: None) -> None:
    """The default queue's worker is alive but nothing serves "deliver": with no mail waiting,
    only the deliver queue's own canary can tell."""
    from health.models import Heartbeat

    Heartbeat.beat("canary")
    figures = audit.measure()
    assert figures.notifications_backlog == 0
    assert (figures.canary_queue, figures.canary_age_seconds) == ("deliver", None)
    assert audit.problems(figures) == [
        "the canary on the deliver queue has never run: are beat and a worker serving deliver up?"
    ]
    Heartbeat.beat("canary:deliver")
    assert audit.problems(audit.measure()) == []
    with time_machine.travel(timedelta(seconds=100)):
        Heartbeat.beat("canary")  # the default queue's worker carries on; the deliverer died
    with time_machine.travel(timedelta(seconds=125)):
        figures = audit.measure()
    assert figures.canary_queue == "deliver"
    (problem,) = audit.problems(figures)
    assert problem.startswith("the canary on the deliver queue last ran 125 s ago")


def test_only_the_queues_named_are_watched(db: None, settings: Any) -> None:
    from health.models import Heartbeat

    settings.TAIRYO_CANARY_QUEUES = ["default", "intake", "deliver"]
    Heartbeat.beat("canary")
    Heartbeat.beat("canary:deliver")
    assert audit.problems(audit.measure()) == [
        "the canary on the intake queue has never run: are beat and a worker serving intake up?"
    ]
    settings.TAIRYO_CANARY_QUEUES = ["default"]
    assert audit.problems(audit.measure()) == []


def test_a_receipt_pending_past_its_deadline_holds_the_heartbeat_back(
    acme_org: Organization,
) -> None:
    beat_every_canary()
    _receipt(acme_org, age=timedelta(seconds=100))
    _receipt(acme_org, age=timedelta(hours=3), status="processed")
    assert audit.problems(audit.measure()) == []
    _receipt(acme_org, age=timedelta(seconds=150))
    figures = audit.measure()
    assert figures.receipts_pending == 2
    assert 150 <= figures.receipts_oldest_pending_seconds < 155
    (problem,) = audit.problems(figures)
    assert problem.startswith("2 webhook receipts pending, the oldest for 15")


def test_a_mail_unsent_past_its_deadline_holds_the_heartbeat_back(
    acme_org: Organization,
) -> None:
    beat_every_canary()
    _mail(acme_org, age=timedelta(hours=2), status="sent")
    _mail(acme_org, age=timedelta(hours=2), status="failed")
    _mail(acme_org, age=timedelta(seconds=200), status="collecting")
    assert audit.problems(audit.measure()) == []
    _mail(acme_org, age=timedelta(seconds=400), status="sending")
    figures = audit.measure()
    assert figures.notifications_backlog == 2
    (problem,) = audit.problems(figures)
    assert problem.startswith("2 mails not yet handed to the provider, the oldest for 40")


def test_an_organization_not_synced_past_its_deadline_holds_the_heartbeat_back(
    acme_org: Organization, globex_org: Organization, settings: object
) -> None:
    beat_every_canary()
    now = timezone.now()
    for org in (acme_org, globex_org):
        org.set_api_key("key-of-" + org.name)
        org.save()
    Organization.objects.filter(pk=acme_org.pk).update(last_sync_at=now - timedelta(seconds=60))
    Organization.objects.filter(pk=globex_org.pk).update(
        last_sync_at=now - timedelta(seconds=600), consecutive_sync_failures=2
    )
    figures = audit.measure()
    assert (figures.organizations_synced, figures.sync_stale_organizations) == (2, 0)
    assert figures.sync_failing_organizations == 1
    assert audit.problems(figures) == []
    Organization.objects.filter(pk=globex_org.pk).update(last_sync_at=now - timedelta(hours=1))
    (problem,) = audit.problems(audit.measure())
    assert problem.startswith("1 organizations not synced for 900 s")
    # Sync does not visit inactive organizations, nor those without a key: not overdue.
    Organization.objects.filter(pk=globex_org.pk).update(is_active=False)
    assert audit.problems(audit.measure()) == []


def test_a_new_organization_is_not_overdue_before_its_first_sync(acme_org: Organization) -> None:
    beat_every_canary()
    acme_org.set_api_key("key-of-acme")
    acme_org.save()
    assert audit.measure().sync_stale_organizations == 0


def test_time_to_provider_counts_from_the_webhook(acme_org: Organization) -> None:
    mail = _mail(acme_org, age=timedelta(seconds=10), status="sent")
    Notification.objects.filter(pk=mail.pk).update(sent_at=timezone.now() - timedelta(seconds=4))
    figures = audit.measure()
    assert figures.notifications_sent_recently == 1
    assert figures.time_to_provider_max_seconds is not None
    assert 5.9 < figures.time_to_provider_max_seconds < 6.5


def test_rejected_webhooks_of_the_last_hour_are_counted(acme_org: Organization) -> None:
    _receipt(acme_org, age=timedelta(minutes=5), status="rejected")
    _receipt(acme_org, age=timedelta(hours=2), status="rejected")
    assert audit.measure().webhooks_rejected_last_hour == 1


def test_measuring_takes_the_same_queries_for_many_rows(acme_org: Organization) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            audit.measure()
        return len(context.captured_queries)

    few = queries()
    for _ in range(20):
        _receipt(acme_org, age=timedelta(seconds=1))
        _mail(acme_org, age=timedelta(seconds=1))
    assert queries() == few == 5


def test_webhooks_refused_before_storage_are_counted(
    post_webhook: Callable[..., Any], redis_client: Any
) -> None:
    assert audit.measure().webhooks_refused_last_hour == 0
    assert post_webhook(b"{}", token="not-a-token").status_code == 404
    assert post_webhook(b"{}", content_type="text/plain").status_code == 415
    assert audit.measure().webhooks_refused_last_hour == 2
