"""Delivery events posted to a real HTTP receiver, signed and shaped as each provider does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
import requests

from mail_sim import MailSimulator, ServerHandle
from mail_sim.tests.conftest import DOMAIN, MAILGUN_KEY, SENDGRID_KEY, Receiver

SIGNING_KEY = "whsec-mailgun"


def send_mailgun(server: ServerHandle, to: list[str], **fields: str) -> str:
    response = requests.post(
        f"{server.url}/v3/{DOMAIN}/messages",
        auth=("api", MAILGUN_KEY),
        data={"from": "alerts@tairyo.example", "to": to, "subject": "down", "text": "t", **fields},
        timeout=5,
    )
    response.raise_for_status()
    return str(response.json()["id"])


def send_sendgrid(server: ServerHandle, personalizations: list[dict[str, Any]]) -> str:
    response = requests.post(
        f"{server.url}/v3/mail/send",
        json={
            "personalizations": personalizations,
            "from": {"email": "alerts@tairyo.example"},
            "subject": "down",
            "content": [{"type": "text/plain", "value": "t"}],
            "custom_args": {"tenant_id": "acme"},
            "categories": ["alert"],
        },
        headers={"Authorization": f"Bearer {SENDGRID_KEY}"},
        timeout=5,
    )
    response.raise_for_status()
    return response.headers["X-Message-Id"]


def mailgun_signature_ok(payload: dict[str, Any], key: str) -> bool:
    """The check anymail's MailgunTrackingWebhookView makes."""
    block = payload["signature"]
    expected = hmac.new(
        key.encode("ascii"), f"{block['timestamp']}{block['token']}".encode("ascii"), hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(block["signature"], expected)


def basic(user_pass: str) -> str:
    return "Basic " + base64.b64encode(user_pass.encode()).decode()


def test_mailgun_delivered_events_are_signed_and_carry_the_message_id_and_variables(
    sim: MailSimulator, server: ServerHandle, receiver: Receiver
) -> None:
    sim.configure_tracking(
        f"{receiver.url}/anymail/mailgun/tracking/",
        mailgun_signing_key=SIGNING_KEY,
        basic_auth="hook:secret",
        delay=0,
    )

    message_id = send_mailgun(
        server, ["Alice <alice@acme.example>", "bob@acme.example"], **{"v:notification_id": "42"}
    )

    posts = receiver.wait_for(2)
    payloads = [json.loads(post.body) for post in posts]
    assert all(post.path == "/anymail/mailgun/tracking/" for post in posts)
    assert all(post.headers["authorization"] == basic("hook:secret") for post in posts)
    assert all(post.headers["content-type"] == "application/json" for post in posts)
    assert all(mailgun_signature_ok(payload, SIGNING_KEY) for payload in payloads)
    assert not mailgun_signature_ok(payloads[0], "some-other-key")
    data = sorted((p["event-data"] for p in payloads), key=lambda d: d["recipient"])
    assert [(d["event"], d["recipient"]) for d in data] == [
        ("delivered", "alice@acme.example"),
        ("delivered", "bob@acme.example"),
    ]
    # Mailgun leaves the brackets off the id in events; anymail puts them back.
    assert data[0]["message"]["headers"]["message-id"] == message_id.strip("<>")
    assert data[0]["user-variables"] == {"notification_id": "42"}
    assert data[0]["delivery-status"]["code"] == 250
    assert sim.flush_events()[0].ok


def test_mailgun_signing_key_defaults_to_the_api_key(
    sim: MailSimulator, server: ServerHandle, receiver: Receiver
) -> None:
    sim.configure_tracking(receiver.url, delay=0)

    send_mailgun(server, ["alice@acme.example"])

    [post] = receiver.wait_for(1)
    assert mailgun_signature_ok(json.loads(post.body), MAILGUN_KEY)


def test_bounce_pattern_and_outcomes_choose_each_recipients_events(
    sim: MailSimulator, server: ServerHandle, receiver: Receiver
) -> None:
    sim.configure_tracking(receiver.url, bounce_pattern="*@bounce.invalid", delay=0)
    sim.set_outcome("*@slow.example", "deferred", "delivered")
    sim.reject_recipients("blocked@*")

    send_mailgun(
        server, ["a@bounce.invalid", "b@slow.example", "blocked@acme.example", "ok@acme.example"]
    )

    posts = receiver.wait_for(5)
    events = [
        (d["recipient"], d["event"], d.get("severity"))
        for d in (json.loads(post.body)["event-data"] for post in posts)
    ]
    assert sorted(events[:4]) == [
        ("a@bounce.invalid", "failed", "permanent"),
        ("b@slow.example", "failed", "temporary"),
        ("blocked@acme.example", "rejected", None),
        ("ok@acme.example", "delivered", None),
    ]
    assert events[4] == ("b@slow.example", "delivered", None)


def test_sendgrid_events_are_one_batch_with_custom_args_flattened_in(
    sim: MailSimulator, server: ServerHandle, receiver: Receiver
) -> None:
    # anymail's shared secret travels as user:pass in the webhook URL.
    sim.configure_tracking(
        receiver.url.replace("http://", "http://hook:secret@") + "/anymail/sendgrid/tracking/",
        bounce_pattern="*@bounce.invalid",
        delay=0,
    )

    x_message_id = send_sendgrid(
        server,
        [
            {
                "to": [{"email": "alice@acme.example"}],
                "custom_args": {"anymail_id": "id-1", "notification_id": "1"},
            },
            {
                "to": [{"email": "x@bounce.invalid"}],
                "custom_args": {"anymail_id": "id-2", "notification_id": "2"},
            },
        ],
    )

    posts = receiver.wait_for(2)
    assert {post.path for post in posts} == {"/anymail/sendgrid/tracking/"}
    assert {post.headers["authorization"] for post in posts} == {basic("hook:secret")}
    records = sorted((r for post in posts for r in json.loads(post.body)), key=lambda r: r["email"])
    assert [(r["email"], r["event"], r["anymail_id"], r["notification_id"]) for r in records] == [
        ("alice@acme.example", "delivered", "id-1", "1"),
        ("x@bounce.invalid", "bounce", "id-2", "2"),
    ]
    assert all(r["tenant_id"] == "acme" and r["category"] == ["alert"] for r in records)
    assert all(r["sg_message_id"].startswith(x_message_id) for r in records)
    assert isinstance(records[0]["timestamp"], int)


def test_send_event_posts_on_demand_to_one_or_all_recipients(
    sim: MailSimulator, server: ServerHandle, receiver: Receiver
) -> None:
    sim.configure_tracking(receiver.url, auto=False)
    message_id = send_mailgun(
        server,
        ["alice@acme.example", "bob@acme.example"],
        html="<a href='https://tairyo.example/c/1'>case</a>",
    )

    [opened] = sim.send_event(message_id, "opened", recipient="alice@acme.example")
    clicked = sim.send_event(message_id, "clicked")

    assert opened.ok and opened.post.recipients == ("alice@acme.example",)
    assert [d.post.recipients for d in clicked] == [("alice@acme.example",), ("bob@acme.example",)]
    posts = receiver.wait_for(3)
    assert json.loads(posts[1].body)["event-data"]["url"] == "https://tairyo.example/c/1"
    assert len(sim.events) == 3


def test_send_event_finds_sendgrid_messages_by_anymail_id(
    sim: MailSimulator, server: ServerHandle, receiver: Receiver
) -> None:
    sim.configure_tracking(receiver.url, auto=False)
    send_sendgrid(
        server, [{"to": [{"email": "alice@acme.example"}], "custom_args": {"anymail_id": "id-1"}}]
    )

    [delivery] = sim.send_event("id-1", "dropped")

    [record] = json.loads(delivery.post.body)
    assert (record["event"], record["reason"]) == ("dropped", "Bounced Address")


def test_send_event_refuses_unknown_messages_and_events(
    sim: MailSimulator, server: ServerHandle, receiver: Receiver
) -> None:
    sim.configure_tracking(receiver.url, auto=False)
    message_id = send_mailgun(server, ["alice@acme.example"])

    with pytest.raises(KeyError):
        sim.send_event("<nope@example>")
    with pytest.raises(ValueError, match="unknown event"):
        sim.send_event(message_id, "exploded")


def test_failed_posts_are_retried_and_recorded(
    sim: MailSimulator, server: ServerHandle, receiver: Receiver
) -> None:
    receiver.respond = lambda _request: 500 if len(receiver.requests) == 0 else 200
    sim.configure_tracking(receiver.url, delay=0, retries=2, retry_delay=0.01)

    send_mailgun(server, ["alice@acme.example"])

    [delivery] = sim.flush_events()
    assert (delivery.ok, delivery.attempts) == (True, 2)
    assert len(receiver.requests) == 2


def test_unreachable_webhook_is_recorded_not_raised(
    sim: MailSimulator, server: ServerHandle
) -> None:
    sim.configure_tracking("http://127.0.0.1:9/unreachable/", delay=0, timeout=1)

    send_mailgun(server, ["alice@acme.example"])

    [delivery] = sim.flush_events()
    assert delivery.status is None and delivery.error
