"""The `/_sim/` admin API, used by the demo and by tests in other processes."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from mail_sim import MailSimulator, ServerHandle
from mail_sim.tests.conftest import DOMAIN, MAILGUN_KEY, Receiver


def send(server: ServerHandle, to: str = "alice@acme.example") -> requests.Response:
    return requests.post(
        f"{server.url}/v3/{DOMAIN}/messages",
        auth=("api", MAILGUN_KEY),
        data={
            "from": "alerts@tairyo.example",
            "to": to,
            "subject": "down",
            "text": "t",
            "v:n": "1",
        },
        timeout=5,
    )


def admin(server: ServerHandle, method: str, route: str, body: Any = None) -> requests.Response:
    return requests.request(method, f"{server.url}/_sim/{route}", json=body, timeout=5)


def test_messages_can_be_listed_filtered_fetched_and_cleared(
    server: ServerHandle, sim: MailSimulator
) -> None:
    message_id = send(server).json()["id"]
    send(server, to="bob@acme.example")

    listed = admin(server, "GET", "messages").json()
    for_bob = admin(server, "GET", "messages?to=BOB@acme.example").json()
    one = admin(server, "GET", f"messages/{quote(message_id, safe='')}").json()
    missing = admin(server, "GET", "messages/nope")
    cleared = admin(server, "DELETE", "messages")

    assert listed["count"] == 2
    assert listed["messages"][0]["metadata"] == {"n": "1"}
    assert [m["to"] for m in for_bob["messages"]] == [["bob@acme.example"]]
    assert one["message_id"] == message_id
    assert missing.status_code == 404
    assert cleared.status_code == 204
    assert sim.messages == []


def test_faults_can_be_added_listed_and_cleared(server: ServerHandle) -> None:
    added = admin(server, "POST", "faults", {"kind": "status", "count": 2, "status": 500})
    outage = admin(server, "POST", "faults", {"kind": "rate_limit", "window_seconds": 60})
    first = send(server).status_code
    admin(server, "DELETE", "faults")

    assert added.json()["faults"][0]["remaining"] == 2
    assert outage.json()["faults"][1]["kind"] == "rate_limit"
    assert first == 429  # an outage window wins over counted faults
    assert send(server).status_code == 200
    assert admin(server, "POST", "faults", {"kind": "meltdown"}).status_code == 400


def test_tracking_outcomes_and_events_over_http(server: ServerHandle, receiver: Receiver) -> None:
    tracking = admin(server, "POST", "tracking", {"url": receiver.url, "auto": False})
    outcome = admin(
        server, "POST", "outcomes", {"pattern": "*@bounce.invalid", "events": ["failed"]}
    )
    message_id = send(server).json()["id"]

    posted = admin(server, "POST", "events", {"message_id": message_id, "event": "delivered"})
    events = admin(server, "GET", "events").json()["events"]

    assert tracking.json()["url"] == receiver.url
    assert outcome.json()["outcomes"] == [{"pattern": "*@bounce.invalid", "events": ["bounced"]}]
    assert posted.json()["events"][0]["status"] == 200
    assert [e["event"] for e in events] == ["delivered"]
    assert admin(server, "POST", "tracking", {"colour": "red"}).status_code == 400
    assert admin(server, "POST", "events", {"message_id": "nope"}).status_code == 404


def test_reset_and_health(server: ServerHandle, sim: MailSimulator) -> None:
    send(server)
    sim.fail_next(3)

    assert admin(server, "POST", "reset").status_code == 204
    assert admin(server, "GET", "health").json() == {"ok": True}
    assert sim.messages == [] and sim.faults.snapshot() == []
    assert admin(server, "GET", "nothing-here").status_code == 404
