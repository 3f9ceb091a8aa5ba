"""The real anymail Mailgun and SendGrid backends, pointed at the simulator over HTTP."""

from __future__ import annotations

import pytest
import requests
from anymail.exceptions import AnymailAPIError
from anymail.message import AnymailMessage
from pytest_django.fixtures import Settings

from mail_sim import MailSimulator, ServerHandle
from mail_sim.tests.conftest import DOMAIN, MAILGUN_KEY, SENDGRID_KEY

# anymail warns on every SendGrid backend it builds that SendGrid is no longer tested
# upstream (anymail#432); Tairyo keeps SendGrid deliberately, and these tests are its check.
pytestmark = pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")


@pytest.fixture(params=["mailgun", "sendgrid"])
def provider(request: pytest.FixtureRequest, settings: Settings, server: ServerHandle) -> str:
    """Each test runs once through each backend, configured as Tairyo's settings do."""
    if request.param == "mailgun":
        settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
        settings.ANYMAIL = {
            "MAILGUN_API_KEY": MAILGUN_KEY,
            "MAILGUN_API_URL": f"{server.url}/v3",
            "MAILGUN_SENDER_DOMAIN": DOMAIN,
            "REQUESTS_TIMEOUT": 2,
        }
    else:
        settings.EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
        settings.ANYMAIL = {
            "SENDGRID_API_KEY": SENDGRID_KEY,
            "SENDGRID_API_URL": f"{server.url}/v3/",
            "REQUESTS_TIMEOUT": 2,
        }
    return str(request.param)


def alert_message(**overrides: object) -> AnymailMessage:
    message = AnymailMessage(
        subject="[CRITICAL] web-1: connectivity",
        body="web-1 is down since 10:02",
        from_email="Tairyo Alerts <alerts@mg.tairyo.example>",
        to=["Alice Admin <alice@acme.example>", "bob@acme.example"],
        cc=["oncall@acme.example"],
        reply_to=["Acme Support <support@acme.example>"],
        headers={"X-Tairyo-Case": "case-7"},
        metadata={"notification_id": 42, "tenant_id": "acme"},
        tags=["alert"],
    )
    message.attach_alternative("<p>web-1 is <b>down</b></p>", "text/html")
    for name, value in overrides.items():
        setattr(message, name, value)
    return message


def test_what_anymail_sends_is_what_the_simulator_records(
    provider: str, sim: MailSimulator
) -> None:
    message = alert_message()

    assert message.send() == 1

    [received] = sim.messages
    assert received.provider == provider
    assert received.from_email == "Tairyo Alerts <alerts@mg.tairyo.example>"
    assert received.to == ["Alice Admin <alice@acme.example>", "bob@acme.example"]
    assert received.cc == ["oncall@acme.example"]
    assert received.reply_to == ["Acme Support <support@acme.example>"]
    assert received.subject == "[CRITICAL] web-1: connectivity"
    assert received.text == "web-1 is down since 10:02"
    assert received.html == "<p>web-1 is <b>down</b></p>"
    assert received.headers["X-Tairyo-Case"] == "case-7"
    # Both providers carry metadata as strings; Tairyo must parse ids it gets back.
    assert received.metadata == {"notification_id": "42", "tenant_id": "acme"}
    assert received.tags == ["alert"]
    assert message.anymail_status.status == {"queued"}
    assert message.anymail_status.message_id == received.message_id_for("alice@acme.example")


def test_mailgun_message_id_is_the_providers_id(provider: str, sim: MailSimulator) -> None:
    message = alert_message()
    message.send()

    [received] = sim.messages
    if provider == "mailgun":
        assert message.anymail_status.message_id == received.message_id
        assert received.message_id.endswith(f"@{DOMAIN}>")
    else:
        # SendGrid's 202 carries no usable id, so anymail makes up its own anymail_id.
        assert message.anymail_status.message_id != received.message_id
        assert received.recipient_message_ids == dict.fromkeys(
            ["alice@acme.example", "bob@acme.example", "oncall@acme.example"],
            message.anymail_status.message_id,
        )


def test_batch_send_keeps_per_recipient_metadata(provider: str, sim: MailSimulator) -> None:
    message = alert_message(
        cc=[],
        merge_data={},  # with merge_metadata, a batch: each recipient gets their own copy
        merge_metadata={
            "alice@acme.example": {"notification_id": 1},
            "bob@acme.example": {"notification_id": 2},
        },
    )
    message.send()

    [received] = sim.messages
    assert received.metadata_for("alice@acme.example")["notification_id"] == "1"
    assert received.metadata_for("bob@acme.example")["notification_id"] == "2"
    assert received.metadata_for("bob@acme.example")["tenant_id"] == "acme"


def test_attachments_arrive_intact(provider: str, sim: MailSimulator) -> None:
    message = alert_message()
    message.attach("graph.png", b"\x89PNG\r\n\x1a\n\x00", "image/png")
    message.send()

    [attachment] = sim.messages[0].attachments
    assert (attachment.filename, attachment.content_type) == ("graph.png", "image/png")
    assert attachment.content == b"\x89PNG\r\n\x1a\n\x00"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_raise_anymail_api_error_with_the_status(
    provider: str, sim: MailSimulator, status: int
) -> None:
    sim.fail_next(1, status=status)

    with pytest.raises(AnymailAPIError) as raised:
        alert_message().send()

    assert raised.value.status_code == status
    assert sim.messages == []
    assert alert_message().send() == 1


def test_rate_limit_raises_with_retry_after_available(provider: str, sim: MailSimulator) -> None:
    sim.rate_limit_next(1, retry_after=3)

    with pytest.raises(AnymailAPIError) as raised:
        alert_message().send()

    assert raised.value.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "3"


def test_a_hang_raises_a_timeout(provider: str, sim: MailSimulator, settings: Settings) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "REQUESTS_TIMEOUT": 0.2}
    sim.hang_next(1, seconds=1)

    with pytest.raises(AnymailAPIError) as raised:
        alert_message().send()

    # anymail's error is also the requests exception, so callers can tell timeouts apart.
    assert isinstance(raised.value, requests.Timeout)


def test_a_dropped_connection_raises_a_connection_error(provider: str, sim: MailSimulator) -> None:
    sim.disconnect_next(1)

    with pytest.raises(AnymailAPIError) as raised:
        alert_message().send()

    assert isinstance(raised.value, requests.ConnectionError)


def test_a_wrong_key_is_a_401(provider: str, settings: Settings) -> None:
    key = "MAILGUN_API_KEY" if provider == "mailgun" else "SENDGRID_API_KEY"
    settings.ANYMAIL = {**settings.ANYMAIL, key: "wrong"}

    with pytest.raises(AnymailAPIError) as raised:
        alert_message().send()

    assert raised.value.status_code == 401


def test_an_invalid_recipient_is_a_400_not_a_refusal(provider: str, sim: MailSimulator) -> None:
    # anymail validates addresses itself; this one passes its parser but not the provider's.
    with pytest.raises(AnymailAPIError) as raised:
        alert_message(to=["alice@localhost"]).send()

    assert raised.value.status_code == 400
    assert sim.messages == []


def test_mailgun_unknown_domain_gets_anymails_explanation(
    settings: Settings, server: ServerHandle
) -> None:
    sim = MailSimulator(mailgun_api_key=MAILGUN_KEY, mailgun_domains=["mg.other.example"])
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    with sim.serve() as other:
        settings.ANYMAIL = {"MAILGUN_API_KEY": MAILGUN_KEY, "MAILGUN_API_URL": f"{other.url}/v3"}

        with pytest.raises(AnymailAPIError, match="Unknown sender domain 'mg.tairyo.example'"):
            alert_message().send()
