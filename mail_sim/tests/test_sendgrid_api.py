"""SendGrid's v3 send API over real HTTP: 202 and X-Message-Id, and its error shapes."""

from __future__ import annotations

from typing import Any

import requests

from mail_sim import MailSimulator, ServerHandle
from mail_sim.tests.conftest import SENDGRID_KEY

MESSAGE: dict[str, Any] = {
    "personalizations": [
        {
            "to": [{"email": "alice@acme.example", "name": "Alice"}],
            "custom_args": {"anymail_id": "0b5e-uuid"},
        }
    ],
    "from": {"email": "alerts@tairyo.example", "name": "Tairyo"},
    "reply_to_list": [{"email": "support@tairyo.example"}],
    "subject": "web-1 is down",
    "content": [
        {"type": "text/plain", "value": "CRITICAL"},
        {"type": "text/html", "value": "<p>CRITICAL</p>"},
    ],
    "custom_args": {"notification_id": "42"},
    "headers": {"X-Tairyo-Case": "c-1"},
    "categories": ["alert"],
    "tracking_settings": {"click_tracking": {"enable": False}},
}


def post(server: ServerHandle, body: Any, key: str = SENDGRID_KEY, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.post(f"{server.url}/v3/mail/send", json=body, headers=headers, timeout=5, **kw)


def test_accepted_message_is_202_with_a_message_id(
    server: ServerHandle, sim: MailSimulator
) -> None:
    response = post(server, MESSAGE)

    assert response.status_code == 202
    assert response.content == b""
    [message] = sim.messages
    assert response.headers["X-Message-Id"] == message.message_id
    assert message.from_email == "Tairyo <alerts@tairyo.example>"
    assert message.to == ["Alice <alice@acme.example>"]
    assert message.reply_to == ["support@tairyo.example"]
    assert (message.subject, message.text, message.html) == (
        "web-1 is down",
        "CRITICAL",
        "<p>CRITICAL</p>",
    )
    assert message.headers == {"X-Tairyo-Case": "c-1"}
    assert message.metadata == {"notification_id": "42"}
    assert message.tags == ["alert"]
    assert message.message_id_for("alice@acme.example") == "0b5e-uuid"
    assert message.options == {"tracking_settings": {"click_tracking": {"enable": False}}}


def test_bad_or_missing_key_is_401_with_sendgrid_errors(server: ServerHandle) -> None:
    wrong, missing = post(server, MESSAGE, key="SG.wrong"), post(server, MESSAGE, key="")

    assert wrong.status_code == missing.status_code == 401
    assert wrong.json()["errors"][0]["message"] == (
        "The provided authorization grant is invalid, expired, or revoked"
    )
    assert missing.json()["errors"][0]["message"] == "authorization required"


def test_invalid_body_lists_every_error_with_its_field(
    server: ServerHandle, sim: MailSimulator
) -> None:
    body = {
        "personalizations": [{"to": [{"email": "nobody"}]}],
        "content": [{"type": "text/plain", "value": ""}],
    }

    response = post(server, body)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [
        "personalizations.0.to.0.email",
        "from.email",
        "subject",
        "content.0.value",
    ]
    assert all(e["message"] and e["help"].startswith("http://sendgrid.com/") for e in errors)
    assert sim.messages == []


def test_missing_personalizations_and_non_string_custom_args(server: ServerHandle) -> None:
    no_personalizations = post(server, {**MESSAGE, "personalizations": []})
    numeric_args = post(server, {**MESSAGE, "custom_args": {"notification_id": 42}})
    not_json = post(server, None, data=b"{not json")

    assert no_personalizations.json()["errors"][0]["field"] == "personalizations"
    assert numeric_args.json() == {
        "errors": [{"message": "Bad Request", "field": None, "help": None}]
    }
    assert not_json.status_code == 400


def test_template_sends_need_no_subject_or_content(server: ServerHandle) -> None:
    body = {k: v for k, v in MESSAGE.items() if k not in ("subject", "content")}

    assert post(server, {**body, "template_id": "d-123"}).status_code == 202
