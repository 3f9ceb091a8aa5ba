"""Mailgun's send API over real HTTP: the answers anymail parses, and what gets recorded."""

from __future__ import annotations

import json
from typing import Any

import requests

from mail_sim import MailSimulator, ServerHandle
from mail_sim.tests.conftest import DOMAIN, MAILGUN_KEY

MESSAGE = {
    "from": "Tairyo <alerts@mg.tairyo.example>",
    "to": ["Alice <alice@acme.example>", "bob@acme.example"],
    "subject": "web-1 is down",
    "text": "CRITICAL",
}


def post(server: ServerHandle, data: dict[str, Any], key: str = MAILGUN_KEY, **kw: Any) -> Any:
    return requests.post(
        f"{server.url}/v3/{kw.pop('domain', DOMAIN)}/messages",
        auth=("api", key),
        data=data,
        timeout=5,
        **kw,
    )


def test_accepted_message_answers_like_mailgun(server: ServerHandle, sim: MailSimulator) -> None:
    response = post(server, MESSAGE)

    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Queued. Thank you."
    assert body["id"].startswith("<") and body["id"].endswith(f"@{DOMAIN}>")
    [message] = sim.messages
    assert message.message_id == body["id"]
    assert message.domain == DOMAIN
    assert message.recipients == ["alice@acme.example", "bob@acme.example"]


def test_wrong_key_is_forbidden(server: ServerHandle, sim: MailSimulator) -> None:
    response = post(server, MESSAGE, key="key-wrong")

    assert (response.status_code, response.text) == (401, "Forbidden")
    assert sim.messages == []


def test_missing_from_to_or_body_is_a_400_with_mailgun_wording(server: ServerHandle) -> None:
    missing_from = {k: v for k, v in MESSAGE.items() if k != "from"}
    missing_to = {k: v for k, v in MESSAGE.items() if k != "to"}
    missing_body = {k: v for k, v in MESSAGE.items() if k != "text"}

    answers = [post(server, data) for data in (missing_from, missing_to, missing_body)]

    assert [(r.status_code, r.json()["message"]) for r in answers] == [
        (400, "'from' parameter is missing"),
        (400, "'to' parameter is missing"),
        (400, "Need at least one of 'text', 'html' or 'template' parameters specified"),
    ]


def test_invalid_recipient_address_is_refused_at_send_time(server: ServerHandle) -> None:
    response = post(server, {**MESSAGE, "cc": "not-an-address"})

    assert response.status_code == 400
    assert response.json()["message"].startswith("cc parameter is not a valid address")


def test_unknown_domain_is_404_when_domains_are_configured() -> None:
    sim = MailSimulator(mailgun_api_key=MAILGUN_KEY, mailgun_domains=[DOMAIN])
    with sim.serve() as server:
        response = post(server, MESSAGE, domain="other.example")

    assert response.status_code == 404
    assert response.json() == {"message": "Domain not found: other.example"}


def test_unknown_v3_endpoint_gets_mailguns_cryptic_200(server: ServerHandle) -> None:
    response = requests.post(
        f"{server.url}/v3/{DOMAIN}/mesages", auth=("api", MAILGUN_KEY), timeout=5
    )

    assert (response.status_code, response.text) == (200, "Mailgun Magnificent API")


def test_fields_headers_variables_and_options_are_recorded(
    server: ServerHandle, sim: MailSimulator
) -> None:
    post(
        server,
        {
            **MESSAGE,
            "html": "<p>CRITICAL</p>",
            "h:Reply-To": "Support <support@tairyo.example>",
            "h:X-Tairyo-Case": "c-1",
            "h:X-Mailgun-Variables": json.dumps({"tenant_id": "acme"}),
            "v:notification_id": "42",
            "o:tag": ["alert", "critical"],
            "o:tracking-clicks": "no",
        },
        files=[("attachment", ("graph.png", b"\x89PNG", "image/png"))],
    )

    [message] = sim.messages
    assert message.html == "<p>CRITICAL</p>"
    assert message.reply_to == ["Support <support@tairyo.example>"]
    assert message.headers["X-Tairyo-Case"] == "c-1"
    assert message.metadata == {"tenant_id": "acme", "notification_id": "42"}
    assert message.tags == ["alert", "critical"]
    assert message.options == {"o:tracking-clicks": "no"}
    [attachment] = message.attachments
    assert (attachment.filename, attachment.content_type, attachment.content) == (
        "graph.png",
        "image/png",
        b"\x89PNG",
    )


def test_batch_recipient_variables_resolve_per_recipient_metadata(
    server: ServerHandle, sim: MailSimulator
) -> None:
    # What anymail sends for merge_metadata: v:key = %recipient.v:key% plus the values.
    post(
        server,
        {
            **MESSAGE,
            "v:notification_id": "%recipient.v:notification_id%",
            "v:tenant_id": "acme",
            "recipient-variables": json.dumps(
                {
                    "alice@acme.example": {"v:notification_id": 1},
                    "bob@acme.example": {"v:notification_id": 2},
                }
            ),
        },
    )

    [message] = sim.messages
    assert message.metadata_for("alice@acme.example") == {
        "notification_id": "1",
        "tenant_id": "acme",
    }
    assert message.metadata_for("BOB@acme.example") == {"notification_id": "2", "tenant_id": "acme"}
