"""Delivery reports: the simulator posts Mailgun's signed events to Tairyo's tracking webhook."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from alerts.models import WebhookReceipt
from alerts.tests import payloads
from notifications import delivery
from notifications.models import Contact, DeliveryEvent, Notification, Route

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
SIGNING_KEY = "mailgun-signing-key-test"
SECRET = "tracker:Tr4ck-s3cret"
AUTH = ("tracker", "Tr4ck-s3cret")


@pytest.fixture
def tracked(mail_provider: Any, live_server: Any, settings: Any) -> Iterator[Any]:
    settings.ANYMAIL = settings.ANYMAIL | {
        "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
        "WEBHOOK_SECRET": SECRET,
    }
    mail_provider.configure_tracking(
        mailgun_url=f"{live_server.url}/anymail/mailgun/tracking/",
        mailgun_signing_key=SIGNING_KEY,
        basic_auth=SECRET,
        bounce_pattern="*@bounce.invalid",
        delay=0,
        timeout=20,
        retries=3,  # a loaded machine may keep the live server busy past one attempt
    )
    yield mail_provider
    # Let reports still on their way land before the test database is flushed: one arriving
    # during the flush deadlocks with it.
    mail_provider.flush_events(timeout=10)
    mail_provider.configure_tracking(auto=False)


def _wait_for(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _sent(alert_flow: Callable[..., WebhookReceipt]) -> Notification:
    alert_flow(payloads.alert())
    notification = Notification.objects.get()
    delivery.deliver(notification.pk)
    return notification


def test_delivered_event_updates_the_ledger(
    tracked: Any, alert_flow: Callable[..., WebhookReceipt], route: Route
) -> None:
    notification = _sent(alert_flow)
    _wait_for(lambda: Notification.objects.get(pk=notification.pk).status == "delivered")
    event = DeliveryEvent.objects.get(notification=notification)
    assert event.event_type == "delivered"
    assert event.recipient == "ops@acme.example"


def test_hard_bounce_marks_the_contact(
    tracked: Any, alert_flow: Callable[..., WebhookReceipt], route: Route, ops: Contact
) -> None:
    Contact.objects.filter(pk=ops.pk).update(email="ops@bounce.invalid")
    notification = _sent(alert_flow)
    _wait_for(lambda: Notification.objects.get(pk=notification.pk).status == "bounced")
    ops.refresh_from_db()
    assert ops.bounced_at is not None


def test_the_same_report_twice_is_recorded_once(
    tracked: Any, alert_flow: Callable[..., WebhookReceipt], route: Route
) -> None:
    import requests

    notification = _sent(alert_flow)
    # The simulator records the post's answer only once our answer reached it, a moment after
    # the row was written.
    _wait_for(lambda: any(event.ok for event in tracked.events))
    [first] = [event for event in tracked.events if event.ok]
    # The provider retrying the very same signed post (it timed out waiting for us, say).
    replay = requests.post(
        first.url,
        data=first.post.body,
        headers={"Content-Type": "application/json"},
        auth=AUTH,
        timeout=5,
    )
    assert replay.status_code == 200
    [message] = tracked.messages
    tracked.send_event(message.message_id, event="opened")
    _wait_for(lambda: Notification.objects.get(pk=notification.pk).status == "opened")
    assert DeliveryEvent.objects.filter(notification=notification).count() == 2


def test_forged_report_is_refused(
    tracked: Any, live_server: Any, alert_flow: Callable[..., WebhookReceipt], route: Route
) -> None:
    import requests

    notification = _sent(alert_flow)
    forged: dict[str, Any] = {
        "signature": {"timestamp": "1", "token": "t", "signature": "0" * 64},
        "event-data": {"event": "failed", "severity": "permanent",
                       "user-variables": {"notification_id": str(notification.pk)}},
    }  # fmt: skip
    url = f"{live_server.url}/anymail/mailgun/tracking/"
    assert requests.post(url, json=forged, auth=AUTH, timeout=5).status_code == 400
    assert requests.post(url, json=forged, timeout=5).status_code in (400, 401, 403)
    assert not DeliveryEvent.objects.filter(event_type="failed").exists()
