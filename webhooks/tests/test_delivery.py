"""Signed deliveries of case events: at least once, retried, logged, replayable."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts.models import Customer, User
from alerts.models import WebhookReceipt
from alerts.tests import payloads
from orgs.models import Organization
from webhooks import planning, sending, services, signing
from webhooks.models import Attempt, Delivery, Subscription
from webhooks.tests.conftest import Receiver

Deliver = Callable[..., WebhookReceipt]


def send_due() -> None:
    for delivery_id in sending.due():
        sending.deliver(delivery_id)


def test_a_case_from_open_to_close(
    subscribed: tuple[Subscription, str], receiver: Receiver, deliver: Deliver
) -> None:
    subscription, secret = subscribed
    deliver(payloads.alert("3k73ZJscVcW"))
    deliver(payloads.closing("3k73ZJscVcW"))
    planned = planning.plan_pending()
    assert len(planned) == 2
    send_due()
    assert len(receiver.received) == 2
    bodies = [json.loads(r.body) for r in receiver.received]
    assert [body["type"] for body in bodies] == ["case.opened", "case.closed"]
    assert {body["data"]["case"]["id"] for body in bodies} == {"3k73ZJscVcW"}
    assert bodies[1]["data"]["case"]["status"] == "closed"
    for request in receiver.received:
        assert signing.verify(secret, request.headers, request.body)
        assert request.headers["webhook-id"].startswith("evt_")
        assert request.headers["host"].startswith("localhost:")
    assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}
    assert Attempt.objects.filter(status_code=200).count() == 2


def test_planning_twice_delivers_once(
    subscribed: tuple[Subscription, str], receiver: Receiver, deliver: Deliver
) -> None:
    deliver(payloads.alert("A1"))
    assert len(planning.plan_pending()) == 1
    assert planning.plan_pending() == []
    assert Delivery.objects.count() == 1


def test_only_subscribed_events_and_own_customer(
    acme: Customer,
    receiver: Receiver,
    deliver: Deliver,
    globex_org: Organization,
) -> None:
    planning.plan_pending()
    services.create(acme, receiver.url, ["case.closed"])
    deliver(payloads.alert("A1"))
    deliver(payloads.alert("G1", org="globex-prod"), org=globex_org)
    deliver(payloads.closing("G1", org="globex-prod"), org=globex_org)
    assert planning.plan_pending() == []


def test_with_nobody_subscribed_the_planner_moves_on_and_a_new_subscriber_starts_then(
    acme: Customer, receiver: Receiver, deliver: Deliver
) -> None:
    from webhooks.models import PlannerMark

    planning.plan_pending()  # the first run sets the mark
    deliver(payloads.alert("BEFORE"))
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert planning.plan_pending() == []
        mark = PlannerMark.objects.get().planned_until
        assert mark > timezone.now() - timedelta(minutes=3), "the mark moved on"
        services.create(acme, receiver.url, ["case.opened"])
        deliver(payloads.alert("AFTER"))
        assert len(planning.plan_pending()) == 1
    assert list(Delivery.objects.values_list("case__alert_id", flat=True)) == ["AFTER"]


def test_a_webhook_planner_already_running_is_asked_to_look_again(
    subscribed: tuple[Subscription, str], deliver: Deliver, redis_client: Any
) -> None:
    from portal.coalescing import again_key, running_key
    from webhooks import tasks

    deliver(payloads.alert("A1"))
    redis_client.set(running_key(tasks.PLANNER), "1")  # another worker is planning
    tasks.plan_webhooks.run()
    assert not Delivery.objects.exists()
    assert redis_client.exists(again_key(tasks.PLANNER))
    redis_client.delete(running_key(tasks.PLANNER))
    tasks.plan_webhooks.run()
    assert Delivery.objects.count() == 1
    assert not redis_client.exists(again_key(tasks.PLANNER))


def test_a_failing_receiver_is_retried_with_the_same_event_id(
    subscribed: tuple[Subscription, str], receiver: Receiver, deliver: Deliver
) -> None:
    receiver.statuses = [500, 503]
    deliver(payloads.alert("A1"))
    planning.plan_pending()
    send_due()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=20)
    send_due()
    assert len(receiver.received) == 1, "not before its time"
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        send_due()
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        send_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert list(Attempt.objects.values_list("status_code", flat=True)) == [500, 503, 200]


def test_an_unreachable_receiver_is_logged_and_retried(
    acme: Customer, receiver: Receiver, deliver: Deliver
) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    planning.plan_pending()
    services.create(acme, f"http://localhost:{port}/", ["case.opened"])
    deliver(payloads.alert("A1"))
    planning.plan_pending()
    send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == "pending"
    assert "ConnectError" in delivery.last_error
    assert Subscription.objects.get().failing_since is not None


def test_a_subscription_failing_too_long_is_disabled_and_staff_told(
    subscribed: tuple[Subscription, str],
    receiver: Receiver,
    deliver: Deliver,
    support_user: User,
) -> None:
    receiver.statuses = [500] * 20
    deliver(payloads.alert("A1"))
    planning.plan_pending()
    send_due()
    with time_machine.travel(timezone.now() + timedelta(hours=73)):
        Delivery.objects.update(next_attempt_at=timezone.now())
        send_due()
    subscription = Subscription.objects.get()
    assert not subscription.is_active
    assert "failed" in subscription.disabled_reason
    assert mail.outbox[-1].to == [support_user.email]
    assert subscription.url in mail.outbox[-1].subject


def test_410_disables_at_once(
    subscribed: tuple[Subscription, str], receiver: Receiver, deliver: Deliver
) -> None:
    receiver.statuses = [410]
    deliver(payloads.alert("A1"))
    planning.plan_pending()
    send_due()
    assert Delivery.objects.get().status == "failed"
    assert not Subscription.objects.get().is_active


def test_replay_sends_the_same_event_again(
    subscribed: tuple[Subscription, str], receiver: Receiver, deliver: Deliver
) -> None:
    deliver(payloads.alert("A1"))
    planning.plan_pending()
    send_due()
    sending.replay(Delivery.objects.get())
    send_due()
    assert len(receiver.received) == 2
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
    assert receiver.received[0].body == receiver.received[1].body


def test_dns_rebinding_is_refused_when_sending(
    subscribed: tuple[Subscription, str],
    receiver: Receiver,
    deliver: Deliver,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deliver(payloads.alert("A1"))
    planning.plan_pending()
    # The name was allowed and public when saved; now it is not allowed and points inside.
    settings.TAIRYO_WEBHOOK_ALLOWED_HOSTS = []
    send_due()
    delivery = Delivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.last_error.startswith("refused:")
    assert receiver.received == []


def test_rotated_secret_signs_twice_during_grace(
    subscribed: tuple[Subscription, str], receiver: Receiver, deliver: Deliver
) -> None:
    subscription, old = subscribed
    new = services.rotate_secret(subscription, grace=timedelta(hours=1))
    deliver(payloads.alert("A1"))
    planning.plan_pending()
    send_due()
    request = receiver.received[0]
    assert signing.verify(old, request.headers, request.body)
    assert signing.verify(new, request.headers, request.body)


def test_test_event(subscribed: tuple[Subscription, str], receiver: Receiver) -> None:
    subscription, secret = subscribed
    delivery = planning.make_test_delivery(subscription)
    sending.deliver(delivery.pk)
    body = json.loads(receiver.received[0].body)
    assert body["type"] == "test"
    assert signing.verify(secret, receiver.received[0].headers, receiver.received[0].body)


def test_secret_is_encrypted_at_rest(subscribed: tuple[Subscription, str]) -> None:
    subscription, secret = subscribed
    assert secret.startswith("whsec_")
    assert secret not in subscription.secret_encrypted


def test_admin_refuses_a_private_url_and_shows_the_secret_once(
    login: Callable[..., Any], superuser: User, acme: Customer, receiver: Receiver
) -> None:
    client = login(superuser)
    body = {"customer": acme.pk, "url": "http://169.254.169.254/", "events": ["case.opened"]}
    response = client.post("/admin/webhooks/subscription/add/", body)
    assert response.status_code == 200
    assert not Subscription.objects.exists()
    body["url"] = receiver.url
    body["is_active"] = "on"
    response = client.post("/admin/webhooks/subscription/add/", body)
    secret = response.context["secret"]
    assert secret.startswith("whsec_")
    assert secret in response.content.decode()


def test_a_storm_larger_than_a_batch_is_planned_in_one_run(
    subscribed: tuple[Subscription, str], deliver: Deliver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(planning, "BATCH", 3)
    for n in range(7):
        deliver(payloads.alert(f"S{n}"))
    assert len(planning.plan_pending()) == 7
    assert planning.plan_pending() == []


@pytest.mark.django_db(transaction=True)
def test_a_planner_woken_while_another_runs_returns_at_once(
    subscribed: tuple[Subscription, str], deliver: Deliver
) -> None:
    import threading

    from django.db import connection, transaction

    from webhooks.models import PlannerMark

    deliver(payloads.alert("A1"))
    result: list[list[int]] = []
    with transaction.atomic():
        PlannerMark.objects.select_for_update().get()  # the planner that is running

        def woken() -> None:
            result.append(planning.plan_pending())
            connection.close()

        thread = threading.Thread(target=woken)
        thread.start()
        thread.join(timeout=10)
    assert result == [[]], "returned without waiting for the lock"
    assert len(planning.plan_pending()) == 1


def test_encryption_key_rotation_covers_webhook_secrets(
    subscribed: tuple[Subscription, str], receiver: Receiver, settings: Any
) -> None:
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from orgs import encryption

    subscription, secret = subscribed
    services.rotate_secret(subscription)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    subscription.refresh_from_db()
    assert encryption.is_current(subscription.secret_encrypted)
    assert encryption.is_current(subscription.previous_secret_encrypted)
    assert secret in sending.secrets_in_force(subscription)
