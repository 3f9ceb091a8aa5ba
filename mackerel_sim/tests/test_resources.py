"""Downtimes, notification channels and alert group settings over the API (§7.3, §8)."""

from __future__ import annotations

import httpx
import pytest

from mackerel_sim import Simulator
from mackerel_sim.tests.conftest import START
from mackerel_sim.tests.matching import assert_matches, load
from mackerel_sim.tests.receiver import Receiver

ERRORS = load("errors.json")


@pytest.fixture(autouse=True)
def billing(sim: Simulator, rw: httpx.Client) -> None:
    sim.add_service("acme-prod", "Billing")
    sim.add_role("acme-prod", "Billing", "cron")


def test_downtime_crud(rw: httpx.Client) -> None:
    body = {
        "name": "monthly patching",
        "memo": "",
        "start": START,
        "duration": 120,
        "recurrence": {"type": "weekly", "interval": 1, "weekdays": ["Sunday"]},
        "serviceScopes": ["Billing"],
        "roleExcludeScopes": ["Billing:cron"],
    }
    created = rw.post("/api/v0/downtimes", json=body).json()
    assert_matches(created, {**body, "id": "<id>", "roleExcludeScopes": ["Billing: cron"]})
    assert rw.get("/api/v0/downtimes").json() == {"downtimes": [created]}
    updated = rw.put(f"/api/v0/downtimes/{created['id']}", json={**body, "duration": 60}).json()
    assert updated["duration"] == 60
    assert rw.delete(f"/api/v0/downtimes/{created['id']}").json() == updated
    assert rw.delete(f"/api/v0/downtimes/{created['id']}").status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"name": ""},
        {"duration": 0},
        {"start": "now"},
        {"recurrence": {"type": "fortnightly", "interval": 1}},
        {"recurrence": {"type": "daily", "interval": 1, "weekdays": ["Monday"]}},
        {"serviceScopes": ["Nothing"]},
        {"serviceScopes": ["Billing"], "serviceExcludeScopes": ["Billing"]},
        {"monitorScopes": ["3k73ZJscVcW"]},
    ],
)
def test_invalid_downtimes_are_400(rw: httpx.Client, change: dict[str, object]) -> None:
    body = {"name": "x", "start": START, "duration": 60, **change}
    response = rw.post("/api/v0/downtimes", json=body)
    assert response.status_code == 400
    assert_matches(response.json(), ERRORS["any_error"])


def test_a_webhook_channel_created_through_the_api_receives_webhooks(
    rw: httpx.Client, sim: Simulator, receiver: Receiver
) -> None:
    body = {
        "type": "webhook",
        "name": "Tairyo",
        "url": receiver.url,
        "enabledGraphImage": False,
        "events": ["alert", "hostStatus", "monitor"],
        "addToDefaultNotificationGroup": True,
    }
    created = rw.post("/api/v0/channels", json=body).json()
    assert_matches(
        created,
        {
            "id": "<id>",
            "type": "webhook",
            "name": "Tairyo",
            "url": receiver.url,
            "enabledGraphImage": False,
            "events": ["alert", "hostStatus", "monitor"],
            "suspendedAt": None,
        },
    )
    assert rw.get("/api/v0/channels").json() == {"channels": [created]}
    host_id = sim.add_host("acme-prod", name="vm0001")
    rw.post(f"/api/v0/hosts/{host_id}/status", json={"status": "standby"})
    assert sim.wait_for_webhooks(5)
    assert [p["event"] for p in receiver.bodies()] == ["hostStatus"]
    assert (
        rw.put(f"/api/v0/channels/{created['id']}", json={**body, "type": "email"}).status_code
        == 400
    )
    assert rw.delete(f"/api/v0/channels/{created['id']}").json() == created


@pytest.mark.parametrize(
    "body",
    [
        {"type": "pagerduty", "name": "p"},
        {"type": "webhook", "name": "w", "url": "ftp://x"},
        {"type": "webhook", "name": "w", "url": "https://x.example/", "events": ["everything"]},
        {"type": "webhook", "url": "https://x.example/"},
    ],
)
def test_invalid_channels_are_400(rw: httpx.Client, body: dict[str, object]) -> None:
    assert rw.post("/api/v0/channels", json=body).status_code == 400


def test_alert_group_settings_crud(rw: httpx.Client) -> None:
    body = {
        "name": "Billing cron jobs",
        "memo": "",
        "serviceScopes": ["Billing"],
        "roleScopes": ["Billing:cron"],
        "monitorScopes": [],
        "notificationInterval": 60,
    }
    created = rw.post("/api/v0/alert-group-settings", json=body).json()
    assert_matches(created, {**body, "id": "<id>", "roleScopes": ["Billing: cron"]})
    assert rw.get(f"/api/v0/alert-group-settings/{created['id']}").json() == created
    assert rw.get("/api/v0/alert-group-settings").json() == {"alertGroupSettings": [created]}
    assert (
        rw.put(f"/api/v0/alert-group-settings/{created['id']}", json={**body, "name": "n"}).json()[
            "name"
        ]
        == "n"
    )
    assert rw.delete(f"/api/v0/alert-group-settings/{created['id']}").status_code == 200
    assert rw.get(f"/api/v0/alert-group-settings/{created['id']}").status_code == 404
    assert (
        rw.post(
            "/api/v0/alert-group-settings", json={"name": "x", "serviceScopes": ["No"]}
        ).status_code
        == 400
    )
