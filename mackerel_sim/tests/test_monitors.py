"""Monitors of every type: wrapping, validation, full replacement (mackerel-api.md §6)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mackerel_sim import OrgKeys, Simulator
from mackerel_sim.tests.matching import assert_matches, load

MONITORS = load("monitors.json")
TYPES = [k for k in MONITORS if not k.startswith("_")]
ERRORS = load("errors.json")


@pytest.fixture
def billing(sim: Simulator, org: OrgKeys) -> None:
    sim.add_service("acme-prod", "Billing")
    sim.add_role("acme-prod", "Billing", "cron")


@pytest.mark.usefixtures("billing")
@pytest.mark.parametrize("kind", TYPES)
def test_every_type_round_trips(rw: httpx.Client, kind: str) -> None:
    created = rw.post("/api/v0/monitors", json=MONITORS[kind]["request"])
    assert created.status_code == 200, created.text
    assert_matches(created.json(), MONITORS[kind]["response"])  # unwrapped (§6.1)
    monitor_id = created.json()["id"]
    assert rw.get(f"/api/v0/monitors/{monitor_id}").json() == {"monitor": created.json()}
    listed = rw.get("/api/v0/monitors").json()
    assert list(listed) == ["monitors"]
    assert created.json() in listed["monitors"]
    updated = rw.put(
        f"/api/v0/monitors/{monitor_id}", json={**MONITORS[kind]["request"], "isMute": True}
    )
    assert updated.json() == {**created.json(), "isMute": True}
    deleted = rw.delete(f"/api/v0/monitors/{monitor_id}")
    assert deleted.json() == updated.json()
    assert rw.get(f"/api/v0/monitors/{monitor_id}").status_code == 404


def test_list_is_ordered_by_type_then_name(rw: httpx.Client, sim: Simulator) -> None:
    for name in ("b", "a"):
        rw.post(
            "/api/v0/monitors",
            json={"type": "expression", "name": name, "expression": "1", "operator": ">"},
        )
    names = [(m["type"], m["name"]) for m in rw.get("/api/v0/monitors").json()["monitors"]]
    assert names == [("connectivity", "connectivity"), ("expression", "a"), ("expression", "b")]


HOST_BODY: dict[str, Any] = {
    "type": "host",
    "name": "cpu",
    "metric": "loadavg5",
    "operator": ">",
    "critical": 5,
}


@pytest.mark.usefixtures("billing")
@pytest.mark.parametrize(
    "body",
    [
        {"name": "no type"},
        {"type": "check", "name": "checks are not managed here"},
        {**HOST_BODY, "name": ""},
        {**HOST_BODY, "memo": "x" * 2049},
        {**HOST_BODY, "duration": 0},
        {**HOST_BODY, "duration": 11},
        {**HOST_BODY, "maxCheckAttempts": 11},
        {**HOST_BODY, "metric": "cpu%", "critical": 101},
        {**HOST_BODY, "operator": ">="},
        {**HOST_BODY, "operator": None},
        {**HOST_BODY, "warning": "80"},
        {**HOST_BODY, "scopes": ["Nothing"]},
        {**HOST_BODY, "excludeScopes": ["Billing:nothing"]},
        {**HOST_BODY, "notificationInterval": 5},
        {"type": "service", "name": "s", "service": "Nothing", "metric": "m", "operator": ">"},
        {
            "type": "service",
            "name": "s",
            "service": "Billing",
            "metric": "m",
            "operator": ">",
            "missingDurationCritical": 15,
        },
        {
            "type": "service",
            "name": "s",
            "service": "Billing",
            "metric": "m",
            "operator": ">",
            "missingDurationCritical": 10090,
        },
        {"type": "external", "name": "e", "url": "ftp://example.com/"},
        {"type": "external", "name": "e", "url": "https://example.com/", "method": "PATCH"},
        {
            "type": "external",
            "name": "e",
            "url": "https://example.com/",
            "responseTimeCritical": 100,
        },
        {"type": "expression", "name": "x", "expression": "avg(roleSlots(", "operator": ">"},
        {"type": "anomalyDetection", "name": "a", "scopes": ["Billing:cron"]},
        {
            "type": "anomalyDetection",
            "name": "a",
            "scopes": ["Billing:cron"],
            "warningSensitivity": "paranoid",
        },
        {
            "type": "anomalyDetection",
            "name": "a",
            "scopes": ["Billing"],
            "warningSensitivity": "normal",
        },
        {
            "type": "anomalyDetection",
            "name": "a",
            "scopes": ["Billing:cron"],
            "warningSensitivity": "normal",
            "trainingPeriodFrom": 4102444800,
        },
        {"type": "query", "name": "q", "operator": ">"},
        [],
    ],
)
def test_invalid_monitors_are_400(rw: httpx.Client, body: object) -> None:
    response = rw.post("/api/v0/monitors", json=body)
    assert response.status_code == 400, response.text
    assert_matches(response.json(), ERRORS["any_error"])


def test_update_is_a_full_replacement_with_documented_exceptions(
    rw: httpx.Client, billing: None
) -> None:
    host = rw.post(
        "/api/v0/monitors", json={**HOST_BODY, "scopes": ["Billing"], "isMute": True}
    ).json()
    replaced = rw.put(f"/api/v0/monitors/{host['id']}", json=HOST_BODY).json()
    assert replaced["scopes"] == [] and replaced["isMute"] is False
    assert (
        rw.put(f"/api/v0/monitors/{host['id']}", json={**HOST_BODY, "type": "service"}).status_code
        == 400
    )

    conn = rw.post(
        "/api/v0/monitors", json={"type": "connectivity", "alertStatusOnGone": "WARNING"}
    ).json()
    kept = rw.put(f"/api/v0/monitors/{conn['id']}", json={"type": "connectivity"}).json()
    assert kept["alertStatusOnGone"] == "WARNING"

    headers = [{"name": "X-Check", "value": "1"}]
    ext = {"type": "external", "name": "e", "url": "https://example.com/"}
    created = rw.post("/api/v0/monitors", json={**ext, "headers": headers}).json()
    assert rw.put(f"/api/v0/monitors/{created['id']}", json=ext).json()["headers"] == headers
    cleared = rw.put(f"/api/v0/monitors/{created['id']}", json={**ext, "headers": []}).json()
    assert cleared["headers"] == []


def test_unknown_monitor_is_404(rw: httpx.Client) -> None:
    for response in (
        rw.get("/api/v0/monitors/3k73ZJscVcW"),
        rw.put("/api/v0/monitors/3k73ZJscVcW", json=HOST_BODY),
        rw.delete("/api/v0/monitors/3k73ZJscVcW"),
    ):
        assert response.status_code == 404
        assert_matches(response.json(), ERRORS["any_error"])


def test_check_monitors_are_not_listed(rw: httpx.Client, sim: Simulator) -> None:
    host_id = sim.add_host("acme-prod", name="vm0001")
    report = {
        "source": {"type": "host", "hostId": host_id},
        "name": "backup",
        "status": "OK",
        "message": "",
        "occurredAt": int(sim.now()),
    }
    rw.post("/api/v0/monitoring/checks/report", json={"reports": [report]})
    assert [m["type"] for m in rw.get("/api/v0/monitors").json()["monitors"]] == ["connectivity"]
