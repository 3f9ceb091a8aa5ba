"""Injected faults, seen by a plain HTTP client: errors, outages, rate limits, hangs, resets."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from mail_sim import MailSimulator, ServerHandle
from mail_sim.tests.conftest import DOMAIN, MAILGUN_KEY, SENDGRID_KEY

MAILGUN_MESSAGE = {"from": "a@tairyo.example", "to": "b@acme.example", "subject": "s", "text": "t"}
SENDGRID_MESSAGE: dict[str, Any] = {
    "personalizations": [{"to": [{"email": "b@acme.example"}]}],
    "from": {"email": "a@tairyo.example"},
    "subject": "s",
    "content": [{"type": "text/plain", "value": "t"}],
}


def mailgun(server: ServerHandle, timeout: float = 5) -> Any:
    return requests.post(
        f"{server.url}/v3/{DOMAIN}/messages",
        auth=("api", MAILGUN_KEY),
        data=MAILGUN_MESSAGE,
        timeout=timeout,
    )


def sendgrid(server: ServerHandle) -> Any:
    return requests.post(
        f"{server.url}/v3/mail/send",
        json=SENDGRID_MESSAGE,
        headers={"Authorization": f"Bearer {SENDGRID_KEY}"},
        timeout=5,
    )


def test_fail_next_answers_the_status_n_times_then_recovers(
    server: ServerHandle, sim: MailSimulator
) -> None:
    sim.fail_next(2, status=502)

    statuses = [
        mailgun(server).status_code,
        sendgrid(server).status_code,
        mailgun(server).status_code,
    ]

    assert statuses == [502, 502, 200]
    assert len(sim.messages) == 1


def test_fail_for_is_an_outage_window(server: ServerHandle, sim: MailSimulator) -> None:
    sim.fail_for(0.3)

    during = [mailgun(server).status_code for _ in range(3)]
    time.sleep(0.35)

    assert during == [503, 503, 503]
    assert mailgun(server).status_code == 200


def test_rate_limit_sends_429_with_retry_after(server: ServerHandle, sim: MailSimulator) -> None:
    sim.rate_limit_next(2, retry_after=7)

    limited_mailgun, limited_sendgrid = mailgun(server), sendgrid(server)

    assert limited_mailgun.status_code == limited_sendgrid.status_code == 429
    assert limited_mailgun.headers["Retry-After"] == limited_sendgrid.headers["Retry-After"] == "7"
    assert limited_sendgrid.json()["errors"][0]["message"] == "too many requests"
    assert sim.messages == []


def test_hang_outlives_the_client_timeout_and_records_nothing(
    server: ServerHandle, sim: MailSimulator
) -> None:
    sim.hang_next(1, seconds=0.5)
    started = time.monotonic()

    with pytest.raises(requests.ReadTimeout):
        mailgun(server, timeout=0.1)

    assert time.monotonic() - started < 0.4
    assert mailgun(server).status_code == 200
    time.sleep(0.5)  # let the hung request finish: it must not have been accepted
    assert len(sim.messages) == 1


def test_hang_with_accept_delivers_mail_the_client_thinks_failed(
    server: ServerHandle, sim: MailSimulator
) -> None:
    sim.hang_next(1, seconds=0.4, accept=True)

    with pytest.raises(requests.ReadTimeout):
        mailgun(server, timeout=0.1)

    [message] = sim.wait_for_messages(1, timeout=2)
    assert message.recipients == ["b@acme.example"]


def test_stopping_the_server_releases_hung_requests(sim: MailSimulator) -> None:
    server = sim.serve()
    sim.hang_next(1, seconds=60)
    with pytest.raises(requests.ReadTimeout):
        mailgun(server, timeout=0.1)
    started = time.monotonic()

    server.stop()

    assert time.monotonic() - started < 2


def test_disconnect_closes_the_connection_without_an_answer(
    server: ServerHandle, sim: MailSimulator
) -> None:
    sim.disconnect_next(1)

    with pytest.raises(requests.ConnectionError):
        mailgun(server)

    assert mailgun(server).status_code == 200


def test_faults_are_spent_in_order_and_cleared(server: ServerHandle, sim: MailSimulator) -> None:
    sim.fail_next(1, status=500)
    sim.rate_limit_next(1)
    sim.fail_next(5)

    first, second = mailgun(server).status_code, mailgun(server).status_code
    sim.clear()

    assert (first, second) == (500, 429)
    assert mailgun(server).status_code == 200
