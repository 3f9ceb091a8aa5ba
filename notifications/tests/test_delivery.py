"""Sending through the real anymail Mailgun backend to the mail simulator, over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from alerts.models import WebhookReceipt
from alerts.tests import payloads
from notifications import composing, delivery
from notifications.models import Notification, Route

pytestmark = pytest.mark.django_db
Flow = Callable[..., WebhookReceipt]


def _pending(alert_flow: Flow, **alert: Any) -> Notification:
    alert_flow(payloads.alert(**alert))
    return Notification.objects.get(status="pending")


def test_notification_is_mailed_and_its_message_id_kept(
    alert_flow: Flow, route: Route, mail_provider: Any
) -> None:
    notification = _pending(alert_flow)
    assert delivery.deliver(notification.pk) is None
    [message] = mail_provider.messages
    assert message.to == ["ops@acme.example"]
    assert message.subject == "【障害 CRITICAL】vm0001 CPU %（ケースID: 3k73ZJscVcW）"
    assert "ケースID　　　： 3k73ZJscVcW" in message.text
    assert message.metadata["notification_id"] == str(notification.pk)
    notification.refresh_from_db()
    assert notification.status == "sent"
    assert notification.provider_message_id == message.message_id
    assert notification.subject == message.subject
    assert notification.recipients == ["ops@acme.example"]


def test_delivering_twice_sends_once(alert_flow: Flow, route: Route, mail_provider: Any) -> None:
    notification = _pending(alert_flow)
    delivery.deliver(notification.pk)
    delivery.deliver(notification.pk)
    assert len(mail_provider.messages) == 1


def test_provider_outage_is_retried_with_backoff_then_sent(
    alert_flow: Flow, route: Route, mail_provider: Any
) -> None:
    notification = _pending(alert_flow)
    mail_provider.fail_next(2, status=503)
    wait = delivery.deliver(notification.pk)
    assert wait is not None
    assert timedelta(seconds=20) <= wait <= timedelta(seconds=40)
    notification.refresh_from_db()
    assert notification.status == "pending"
    assert "503" in notification.last_error
    assert delivery.deliver(notification.pk) is None, "not due yet: nothing happens"
    assert mail_provider.messages == []
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        second = delivery.deliver(notification.pk)
    assert second is not None
    assert second > wait / 2, "the second wait is longer"
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        assert delivery.deliver(notification.pk) is None
    assert len(mail_provider.messages) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 3)


def test_permanent_refusal_is_recorded_and_not_retried(
    alert_flow: Flow, route: Route, mail_provider: Any
) -> None:
    notification = _pending(alert_flow)
    mail_provider.fail_next(1, status=400)
    assert delivery.deliver(notification.pk) is None
    notification.refresh_from_db()
    assert notification.status == "failed"
    assert "400" in notification.last_error


def test_gives_up_after_the_attempt_limit(
    alert_flow: Flow, route: Route, mail_provider: Any, settings: Any
) -> None:
    settings.TAIRYO_MAIL_MAX_ATTEMPTS = 1
    notification = _pending(alert_flow)
    mail_provider.fail_next(1, status=502)
    delivery.deliver(notification.pk)
    notification.refresh_from_db()
    assert notification.status == "failed"
    assert "gave up after 1 attempts" in notification.last_error


def test_timeout_is_transient(alert_flow: Flow, route: Route, mail_provider: Any) -> None:
    notification = _pending(alert_flow)
    mail_provider.hang_next(1, seconds=5)
    assert delivery.deliver(notification.pk) is not None
    notification.refresh_from_db()
    assert notification.status == "pending"


def test_japanese_and_odd_characters_survive_every_field(
    alert_flow: Flow, route: Route, mail_provider: Any
) -> None:
    body = payloads.alert()
    body["host"]["memo"] = '顧客: 株式会社〇〇 😀 <tag> & "quotes" \\ 改行\nあり'
    body["message"] = "ディスク使用率 95.5% ＞ 90% 🔥"
    body["alert"]["monitorName"] = "ディスク (/var) ≥ 90%"
    notification = _pending(alert_flow, **{})
    Notification.objects.all().delete()
    alert_flow(body | {"alert": body["alert"] | {"id": "odd00000001"}})
    notification = Notification.objects.get(status="pending")
    delivery.deliver(notification.pk)
    [message] = mail_provider.messages
    assert "ディスク (/var) ≥ 90%" in message.subject
    assert '😀 <tag> & "quotes"' in message.text
    assert "ディスク使用率 95.5% ＞ 90% 🔥" in message.text


def test_digest_waits_for_its_window_then_lists_every_case(
    alert_flow: Flow, route: Route, mail_provider: Any, settings: Any
) -> None:
    settings.TAIRYO_DIGEST_THRESHOLD = 1
    for index in range(4):
        body = payloads.alert(f"storm{index:06d}")
        body["host"] = payloads.host(host_id=f"host{index:07d}", name=f"vm{index:04d}")
        alert_flow(body)
    digest = Notification.objects.get(kind="digest")
    assert delivery.deliver(digest.pk) is None
    assert mail_provider.messages == [], "the window is still open"
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        delivery.deliver(digest.pk)
    [message] = mail_provider.messages
    assert message.subject.startswith("【障害 3件】")
    for index in range(1, 4):
        assert f"storm{index:06d}" in message.text
        assert f"vm{index:04d}" in message.text


@pytest.mark.parametrize("cases", [3, 30])
def test_a_digest_is_composed_in_the_same_few_queries_however_many_cases_it_lists(
    alert_flow: Flow, route: Route, mail_provider: Any, settings: Any, cases: int
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.TAIRYO_DIGEST_THRESHOLD = 1
    for index in range(cases + 1):
        body = payloads.alert(f"many{index:06d}")
        body["host"] = payloads.host(host_id=f"host{index:07d}", name=f"vm{index:04d}")
        body["host"]["roles"] = [payloads.role("web", f"app{index}")]
        alert_flow(body)
    digest = Notification.objects.get(kind="digest")
    later = timezone.now() + timedelta(minutes=3)
    with time_machine.travel(later), CaptureQueriesContext(connection) as queries:
        delivery.deliver(digest.pk)
    [message] = mail_provider.messages
    assert f"vm{cases:04d}" in message.text
    assert len(queries) <= 12, [query["sql"] for query in queries]


def test_sweep_finds_pending_rows_whose_task_was_lost(
    alert_flow: Flow, route: Route, mail_provider: Any
) -> None:
    notification = _pending(alert_flow)
    assert notification.pk not in delivery.due_ids(), "its own task is still expected"
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert notification.pk in delivery.due_ids()


def test_row_left_sending_by_a_dead_worker_is_retried(
    alert_flow: Flow, route: Route, mail_provider: Any
) -> None:
    notification = _pending(alert_flow)
    Notification.objects.filter(pk=notification.pk).update(
        status="sending", claimed_at=timezone.now()
    )
    assert notification.pk not in delivery.due_ids()
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert notification.pk in delivery.due_ids()
        delivery.deliver(notification.pk)
    assert len(mail_provider.messages) == 1


def test_a_dead_workers_row_is_sent_again_within_the_recovery_target(
    alert_flow: Flow, route: Route, mail_provider: Any
) -> None:
    # design.md: after a fault (every worker SIGKILLed) the backlog drains within 5 minutes.
    # The bench's worker-kill fault found rows left "sending" held back for 10 minutes.
    notification = _pending(alert_flow)
    Notification.objects.filter(pk=notification.pk).update(
        status="sending", claimed_at=timezone.now()
    )
    # A live send is bounded by the provider call's timeouts and Celery's time limit.
    with time_machine.travel(timezone.now() + timedelta(seconds=90)):
        assert notification.pk not in delivery.due_ids(), "a live send is left alone"
    with time_machine.travel(timezone.now() + timedelta(minutes=4)):
        assert notification.pk in delivery.due_ids()
        delivery.deliver(notification.pk)
    assert len(mail_provider.messages) == 1


def test_a_send_whose_row_was_taken_over_while_composing_mails_nothing(
    alert_flow: Flow, route: Route, mail_provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker stalls between its claim and the provider call (frozen, or its database
    # connection lost) long enough for the sweep to give the row to another worker.
    notification = _pending(alert_flow)
    compose = composing.compose

    def stalled(row: Notification) -> Any:
        mail = compose(row)
        Notification.objects.filter(pk=row.pk).update(claimed_at=timezone.now())
        return mail

    monkeypatch.setattr(composing, "compose", stalled)
    assert delivery.deliver(notification.pk) is None
    assert mail_provider.messages == []
    assert Notification.objects.get(pk=notification.pk).attempts == 1


def test_the_next_mail_lists_the_flapping_cases_and_they_are_not_told_again(
    alert_flow: Flow, route: Route, mail_provider: Any, settings: Any
) -> None:
    from notifications import planning

    settings.TAIRYO_FLAP_THRESHOLD = 2
    for index in range(3):
        opened = payloads.T0 + index * 120
        alert_flow(payloads.alert(f"flap{index:07d}", opened=opened, changed=opened))
    suppressed = set(
        Notification.objects.filter(status="suppressed").values_list("case__alert_id", flat=True)
    )
    assert suppressed == {"flap0000001", "flap0000002"}
    first = Notification.objects.get(status="pending")

    delivery.deliver(first.pk)

    [message] = mail_provider.messages
    for alert_id in suppressed:
        assert alert_id in message.text
    assert (
        set(Notification.objects.filter(reported_in=first).values_list("case__alert_id", flat=True))
        == suppressed
    )
    # Told once: the flush of suppressed mails nobody listed finds none.
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert planning.flush_suppressed() == []
