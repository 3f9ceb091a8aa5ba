"""Exactly once to the provider, with real workers on real Redis and PostgreSQL.

Webhooks go in through the intake view; separate worker processes process them, plan the
notifications and send them through anymail's Mailgun backend to the mail simulator.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from alerts import services as alert_services
from alerts.models import Case, CaseEvent, WebhookReceipt
from alerts.tests import payloads
from conftest import MAILGUN_DOMAIN, MAILGUN_KEY
from notifications import services as notification_services
from notifications import tasks
from notifications.models import Contact, Notification, Route

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
CASES = 12


def _worker_env(mail_provider: Any, **extra: str) -> dict[str, str]:
    from django.conf import settings

    return {
        "TAIRYO_EMAIL_PROVIDER": "mailgun",
        "MAILGUN_API_KEY": MAILGUN_KEY,
        "MAILGUN_SENDER_DOMAIN": MAILGUN_DOMAIN,
        "MAILGUN_API_URL": str(settings.ANYMAIL["MAILGUN_API_URL"]),  # the simulator's
        "TAIRYO_MAIL_RETRY_SECONDS": "1",
        "TAIRYO_DIGEST_THRESHOLD": "1000",  # one mail per case here; digests are tested apart
        **extra,
    }


def _post_outage(client: Client, token: str) -> None:
    for index in range(CASES):
        body = payloads.alert(f"case{index:07d}")
        body["host"] = payloads.host(host_id=f"host{index:07d}", name=f"vm{index:04d}")
        response = client.post(
            f"/hooks/mackerel/{token}/", payloads.encode(body), content_type="application/json"
        )
        assert response.status_code == 200


def _wait_for_mails(mail_provider: Any, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(mail_provider.messages) < count:
        assert time.monotonic() < deadline, f"{len(mail_provider.messages)} of {count} mails"
        time.sleep(0.2)
    time.sleep(1.5)  # anything doubled would arrive now


def _assert_each_notification_mailed_once(mail_provider: Any) -> None:
    sent = Counter(message.metadata["notification_id"] for message in mail_provider.messages)
    doubled = {key: n for key, n in sent.items() if n > 1}
    assert not doubled, f"mailed more than once: {doubled}"
    expected = set(Notification.objects.values_list("pk", flat=True))
    assert {int(key) for key in sent} == expected
    assert Case.objects.count() == CASES
    assert Notification.objects.count() == CASES * 2  # two contacts


@pytest.fixture
def two_contacts(route: Route, noc: Contact) -> Route:
    route.contacts.add(noc)
    return route


@pytest.fixture
def token(two_contacts: Route) -> str:
    return two_contacts.organization.rotate_webhook_token(grace=timedelta(0))


def test_two_workers_and_duplicated_tasks_send_each_mail_once(
    client: Client,
    token: str,
    mail_provider: Any,
    start_worker: Callable[..., Any],
    redis_client: Any,
) -> None:
    _post_outage(client, token)
    env = _worker_env(mail_provider)
    start_worker(**env)
    start_worker(**env)
    deadline = time.monotonic() + 60
    while Notification.objects.count() < CASES * 2:
        assert time.monotonic() < deadline, (
            f"planned {Notification.objects.count()}; cases {Case.objects.count()}; "
            f"receipts {list(WebhookReceipt.objects.values_list('status', 'attempts'))}; "
            f"events {list(CaseEvent.objects.values_list('planned_at', flat=True))}"
        )
        time.sleep(0.2)
    # Every send task again, twice: a duplicated message, a redelivery after a lost ack.
    for notification_id in Notification.objects.values_list("pk", flat=True):
        for _ in range(2):
            tasks.send_notification.apply_async((notification_id,))
    _wait_for_mails(mail_provider, CASES * 2)
    _assert_each_notification_mailed_once(mail_provider)


def test_redis_flushed_with_work_pending_loses_nothing_and_doubles_nothing(
    client: Client,
    token: str,
    mail_provider: Any,
    start_worker: Callable[..., Any],
    redis_client: Any,
) -> None:
    _post_outage(client, token)
    assert redis_client.dbsize() > 0, "the intake queued its tasks"
    redis_client.flushdb()  # every queued task is gone; the receipts are in PostgreSQL
    start_worker(**_worker_env(mail_provider))
    time.sleep(2)
    assert WebhookReceipt.objects.filter(status="pending").count() == CASES
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert alert_services.sweep() == CASES
    deadline = time.monotonic() + 60
    while Notification.objects.count() < CASES * 2:
        assert time.monotonic() < deadline, "the sweep did not bring the cases back"
        time.sleep(0.2)
    _wait_for_mails(mail_provider, CASES * 2)
    _assert_each_notification_mailed_once(mail_provider)


def test_provider_outage_delays_mail_but_loses_none(
    client: Client,
    token: str,
    mail_provider: Any,
    start_worker: Callable[..., Any],
    redis_client: Any,
) -> None:
    # Down for the first sends, whenever a loaded machine gets to them; then back.
    mail_provider.fail_next(CASES, status=503)
    start_worker(**_worker_env(mail_provider))
    _post_outage(client, token)
    _wait_for_mails(mail_provider, CASES * 2, timeout=90)
    _assert_each_notification_mailed_once(mail_provider)
    retried = Notification.objects.filter(attempts__gt=1)
    assert retried.exists(), "the outage made some sends wait and retry"
    assert all("503" in n.last_error or n.last_error == "" for n in retried)


def test_a_worker_killed_mid_send_loses_nothing_and_doubles_nothing(
    client: Client,
    token: str,
    mail_provider: Any,
    start_worker: Callable[..., Any],
    redis_client: Any,
) -> None:
    # The first send hangs at the provider, which has not taken it, while SIGKILL arrives.
    mail_provider.hang_next(1, seconds=30, accept=False)
    worker = start_worker(**_worker_env(mail_provider))
    _post_outage(client, token)
    deadline = time.monotonic() + 60
    while not Notification.objects.filter(status="sending").exists():
        assert time.monotonic() < deadline, "no send began"
        time.sleep(0.1)
    worker.kill()
    worker.wait(timeout=10)
    sent_before = len(mail_provider.messages)
    # The dead worker's messages stay unacknowledged in Redis until their visibility timeout;
    # the sweeps (beat, every 15 s) find the work in PostgreSQL long before.
    start_worker(**_worker_env(mail_provider))
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        alert_services.sweep()
        notification_services.sweep()
        assert not Notification.objects.filter(status="sending").exists(), "released"
    deadline = time.monotonic() + 60
    while Notification.objects.count() < CASES * 2:
        assert time.monotonic() < deadline, "the sweeps did not bring everything back"
        time.sleep(0.2)
    _wait_for_mails(mail_provider, CASES * 2)
    _assert_each_notification_mailed_once(mail_provider)
    assert sent_before < CASES * 2, "the kill came before the work was done"


def test_sweep_plans_events_whose_wake_up_was_lost(
    client: Client, token: str, mail_provider: Any, redis_client: Any
) -> None:
    _post_outage(client, token)
    redis_client.flushdb()
    for receipt in WebhookReceipt.objects.all():
        alert_services.process_receipt(receipt.pk)  # cases made, planner wake-ups lost
    assert not Notification.objects.exists()
    notification_services.sweep()
    assert Notification.objects.filter(kind="case").count() == CASES * 2
