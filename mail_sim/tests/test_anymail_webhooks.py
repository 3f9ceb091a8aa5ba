"""Events from the simulator, checked by anymail's own tracking webhook views.

A small real HTTP server hands each post to anymail's view through Django's RequestFactory,
so signature and basic-auth checks and event parsing are anymail's, without Tairyo's URLconf
or database in the way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from anymail.message import AnymailMessage
from anymail.signals import AnymailTrackingEvent, tracking
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.core.exceptions import SuspiciousOperation
from django.test import RequestFactory
from pytest_django.fixtures import Settings

from mail_sim import EVENTS, MailSimulator, ServerHandle
from mail_sim.tests.conftest import DOMAIN, MAILGUN_KEY, SENDGRID_KEY

pytestmark = pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")

SIGNING_KEY = "whsec-mailgun"
WEBHOOK_SECRET = "hook:secret"
VIEWS = {
    "/anymail/mailgun/tracking/": MailgunTrackingWebhookView.as_view(),
    "/anymail/sendgrid/tracking/": SendGridTrackingWebhookView.as_view(),
}


@pytest.fixture
def anymail_webhooks() -> Iterator[str]:
    """Base URL of a server that runs anymail's tracking views on what it receives."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = RequestFactory().generic(
                "POST",
                self.path,
                data=body,
                content_type=self.headers["Content-Type"],
                HTTP_AUTHORIZATION=self.headers.get("Authorization", ""),
            )
            try:
                status = VIEWS[self.path](request).status_code
            except SuspiciousOperation:  # what Django turns into a 400
                status = 400
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def tracked() -> Iterator[list[AnymailTrackingEvent]]:
    events: list[AnymailTrackingEvent] = []

    def receive(sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
        events.append(event)

    # Only this receiver listens: Tairyo's own tracking receivers need a database, and what
    # is checked here is the simulator/anymail contract, not Tairyo's handling of events.
    with tracking.lock:
        others, tracking.receivers = tracking.receivers, []
        tracking.sender_receivers_cache.clear()
    tracking.connect(receive, weak=False)
    yield events
    with tracking.lock:
        tracking.receivers = others
        tracking.sender_receivers_cache.clear()


@pytest.fixture(params=["mailgun", "sendgrid"])
def provider(
    request: pytest.FixtureRequest,
    settings: Settings,
    server: ServerHandle,
    sim: MailSimulator,
    anymail_webhooks: str,
) -> str:
    """Tairyo's settings for each provider, and the simulator posting to its webhook."""
    settings.ANYMAIL = {"WEBHOOK_SECRET": WEBHOOK_SECRET}
    if request.param == "mailgun":
        settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
        settings.ANYMAIL |= {
            "MAILGUN_API_KEY": MAILGUN_KEY,
            "MAILGUN_API_URL": f"{server.url}/v3",
            "MAILGUN_SENDER_DOMAIN": DOMAIN,
            "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
        }
        url = f"{anymail_webhooks}/anymail/mailgun/tracking/"
    else:
        settings.EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
        settings.ANYMAIL |= {
            "SENDGRID_API_KEY": SENDGRID_KEY,
            "SENDGRID_API_URL": f"{server.url}/v3/",
        }
        url = f"{anymail_webhooks}/anymail/sendgrid/tracking/"
    sim.configure_tracking(
        url.replace("http://", f"http://{WEBHOOK_SECRET}@"),
        mailgun_signing_key=SIGNING_KEY,
        bounce_pattern="*@bounce.invalid",
        delay=0,
    )
    return str(request.param)


def send(to: list[str], notification_id: int = 42) -> AnymailMessage:
    message = AnymailMessage(
        subject="web-1 is down",
        body="CRITICAL",
        from_email="alerts@mg.tairyo.example",
        to=to,
        metadata={"notification_id": notification_id, "tenant_id": "acme"},
        tags=["alert"],
    )
    message.send()
    return message


def test_delivery_and_bounce_map_back_to_the_sent_message(
    provider: str, sim: MailSimulator, tracked: list[AnymailTrackingEvent]
) -> None:
    message = send(["alice@acme.example", "gone@bounce.invalid"])

    deliveries = sim.flush_events()

    assert [d.status for d in deliveries] == [200] * len(deliveries)
    by_recipient = {event.recipient: event for event in tracked}
    assert by_recipient["alice@acme.example"].event_type == "delivered"
    assert by_recipient["gone@bounce.invalid"].event_type == "bounced"
    for event in tracked:
        assert event.message_id == message.anymail_status.message_id
        assert event.metadata == {"notification_id": "42", "tenant_id": "acme"}
        assert event.tags == ["alert"]
        assert event.event_id
        assert event.timestamp is not None


@pytest.mark.parametrize("event", EVENTS)
def test_every_event_reaches_anymail_as_the_same_normalized_type(
    provider: str, sim: MailSimulator, tracked: list[AnymailTrackingEvent], event: str
) -> None:
    sim.configure_tracking(sim.tracking.url, mailgun_signing_key=SIGNING_KEY, auto=False)
    message = send(["alice@acme.example"])

    [delivery] = sim.send_event(message.anymail_status.message_id, event)

    assert delivery.status == 200
    [received] = tracked
    assert received.event_type == event
    assert received.message_id == message.anymail_status.message_id


def test_batch_metadata_comes_back_per_recipient(
    provider: str, sim: MailSimulator, tracked: list[AnymailTrackingEvent]
) -> None:
    message = AnymailMessage(
        subject="digest",
        body="3 alerts",
        from_email="alerts@mg.tairyo.example",
        to=["alice@acme.example", "bob@acme.example"],
        metadata={"tenant_id": "acme"},
        merge_metadata={
            "alice@acme.example": {"notification_id": 1},
            "bob@acme.example": {"notification_id": 2},
        },
    )
    message.send()

    sim.flush_events()

    ids = {event.recipient: event.metadata["notification_id"] for event in tracked}
    assert ids == {"alice@acme.example": "1", "bob@acme.example": "2"}


def test_wrong_signing_key_or_secret_is_refused_by_anymail(
    provider: str, sim: MailSimulator, tracked: list[AnymailTrackingEvent]
) -> None:
    url = sim.tracking.url or ""
    if provider == "mailgun":
        sim.configure_tracking(url, mailgun_signing_key="not-the-key", delay=0)
    else:
        sim.configure_tracking(url.replace(WEBHOOK_SECRET, "hook:wrong"), delay=0)
    send(["alice@acme.example"])

    [delivery] = sim.flush_events()

    assert delivery.status == 400
    assert tracked == []
