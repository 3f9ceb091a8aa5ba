"""Alerts: shapes per type, newest-first paging without overlap, close, memo, logs (§7)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mackerel_sim import OrgKeys, Simulator
from mackerel_sim.tests.matching import assert_matches, load

ALERTS = load("alerts.json")
MONITORS = load("monitors.json")
ERRORS = load("errors.json")
ORG = "acme-prod"


@pytest.fixture
def hosts(sim: Simulator, org: OrgKeys) -> list[str]:
    """240 hosts down one second apart: 240 open connectivity alerts, oldest first."""
    ids = []
    for n in range(240):
        host_id = sim.add_host(ORG, name=f"vm{n:04d}")
        sim.host_down(ORG, host_id)
        sim.advance(1)
        ids.append(host_id)
    return ids


def _all_pages(rw: httpx.Client, query: str, limit: int = 100) -> list[list[dict[str, Any]]]:
    pages, next_id = [], None
    while True:
        suffix = f"&nextId={next_id}" if next_id else ""
        body = rw.get(f"/api/v0/alerts?{query}limit={limit}{suffix}").json()
        pages.append(body["alerts"])
        if next_id is not None:
            assert body["alerts"][0]["id"] == next_id  # a page starts at its cursor (§1.5)
        next_id = body.get("nextId")
        if next_id is None:
            return pages


def test_open_alerts_page_newest_first_without_overlap(
    rw: httpx.Client, sim: Simulator, hosts: list[str]
) -> None:
    for alert in sim.alerts(ORG)[:100]:
        sim.close_alert(ORG, str(alert["id"]), reason="done")
    pages = _all_pages(rw, "")
    assert [len(p) for p in pages] == [100, 40]
    alerts = [a for page in pages for a in page]
    assert len({a["id"] for a in alerts}) == 140
    assert all(a["status"] == "CRITICAL" for a in alerts)
    opened = [a["openedAt"] for a in alerts]
    assert opened == sorted(opened, reverse=True)


def test_with_closed_pages_everything(rw: httpx.Client, sim: Simulator, hosts: list[str]) -> None:
    for alert in sim.alerts(ORG)[::2]:
        sim.close_alert(ORG, str(alert["id"]))
    pages = _all_pages(rw, "withClosed=true&")
    assert [len(p) for p in pages] == [100, 100, 40]
    ids = [a["id"] for page in pages for a in page]
    assert ids == [a["id"] for a in sim.alerts(ORG)]


def test_small_pages_and_a_new_alert_between_pages(
    rw: httpx.Client, sim: Simulator, hosts: list[str]
) -> None:
    first = rw.get("/api/v0/alerts?limit=7").json()
    assert len(first["alerts"]) == 7
    newcomer = sim.add_host(ORG, name="vm9999")
    sim.host_down(ORG, newcomer)  # a newer alert must not shift the following pages
    second = rw.get(f"/api/v0/alerts?limit=7&nextId={first['nextId']}").json()
    expected = [a["id"] for a in sim.alerts(ORG)[1:15]]
    assert [a["id"] for a in first["alerts"] + second["alerts"]] == expected


@pytest.mark.parametrize("query", ["limit=101", "limit=0", "limit=ten", "nextId=3k73ZJscVcW"])
def test_bad_paging_is_400(rw: httpx.Client, query: str) -> None:
    response = rw.get(f"/api/v0/alerts?{query}")
    assert response.status_code == 400
    assert_matches(response.json(), ERRORS["any_error"])


def test_limit_100_is_allowed_and_no_next_id_on_the_last_page(
    rw: httpx.Client, sim: Simulator
) -> None:
    sim.add_organization("small")
    assert rw.get("/api/v0/alerts?limit=100").json() == {"alerts": []}


def test_alert_shape_of_every_type(rw: httpx.Client, sim: Simulator, org: OrgKeys) -> None:
    sim.add_service(ORG, "Billing")
    sim.add_role(ORG, "Billing", "cron")
    host_id = sim.add_host(ORG, name="vm0001", roles={"Billing": ["cron"]})
    monitors = {
        kind: sim.add_monitor(ORG, MONITORS[kind]["request"])
        for kind in MONITORS
        if not kind.startswith("_")
    }
    options: dict[str, dict[str, object]] = {
        "connectivity": {"host_id": host_id},
        "host": {"host_id": host_id, "value": 95.5},
        "service": {"value": 0},
        "external": {"message": "HTTP request failed - status is 500"},
        "expression": {"value": 12},
        "anomalyDetection": {"host_id": host_id},
        "query": {
            "value": 93.25,
            "series": {"name": "container.cpu.utilization", "labels": {"k8s.node.name": "n1"}},
        },
    }
    for kind, monitor_id in monitors.items():
        alert_id = sim.open_alert(ORG, monitor_id, **options[kind])  # type: ignore[arg-type]
        fetched = rw.get(f"/api/v0/alerts/{alert_id}")
        assert_matches(fetched.json(), ALERTS["open"][kind])  # unwrapped (§7.2)
    report = load("check_report.json")["request"]
    report["reports"][0]["source"]["hostId"] = host_id
    report["reports"][0]["occurredAt"] = int(sim.now())
    rw.post("/api/v0/monitoring/checks/report", json=report)
    check = [a for a in rw.get("/api/v0/alerts").json()["alerts"] if a["type"] == "check"]
    assert_matches(check, [ALERTS["open"]["check"]])


def test_unknown_alert_is_404(rw: httpx.Client) -> None:
    for response in (
        rw.get("/api/v0/alerts/3k73ZJscVcW"),
        rw.post("/api/v0/alerts/3k73ZJscVcW/close", json={"reason": "x"}),
        rw.get("/api/v0/alerts/3k73ZJscVcW/logs"),
    ):
        assert response.status_code == 404
        assert_matches(response.json(), ERRORS["any_error"])


def test_close_memo_and_logs(rw: httpx.Client, sim: Simulator, org: OrgKeys) -> None:
    host_id = sim.add_host(ORG, name="vm0001")
    sim.host_down(ORG, host_id)
    alert_id = rw.get("/api/v0/alerts").json()["alerts"][0]["id"]
    assert rw.post(f"/api/v0/alerts/{alert_id}/close", json={}).status_code == 400
    memo = rw.put(f"/api/v0/alerts/{alert_id}", json={"memo": "looked at it"})
    assert_matches(memo.json(), ALERTS["memo_response"])
    assert (
        rw.put(f"/api/v0/alerts/{alert_id}", json={"memo": "x" * (80 * 1024 + 1)}).status_code
        == 413
    )
    sim.advance(60)
    closed = rw.post(f"/api/v0/alerts/{alert_id}/close", json={"reason": "maintenance done"})
    expected = {**ALERTS["closed_connectivity"], "memo": "looked at it"}
    assert_matches(closed.json(), expected)
    assert rw.get(f"/api/v0/alerts/{alert_id}").json() == closed.json()
    assert rw.get("/api/v0/alerts").json() == {"alerts": []}
    logs = rw.get(f"/api/v0/alerts/{alert_id}/logs").json()
    assert_matches(logs, {"logs": [ALERTS["log"], ALERTS["log"]]})
    assert [(log["status"], log["trigger"]) for log in logs["logs"]] == [
        ("OK", "manual"),
        ("CRITICAL", "monitoring"),
    ]
    page = rw.get(f"/api/v0/alerts/{alert_id}/logs?limit=1").json()
    assert page["nextId"] == logs["logs"][1]["id"]
    rest = rw.get(f"/api/v0/alerts/{alert_id}/logs?limit=1&nextId={page['nextId']}").json()
    assert rest == {"logs": [logs["logs"][1]]}


def test_host_coming_back_closes_its_connectivity_alert(
    rw: httpx.Client, sim: Simulator, org: OrgKeys
) -> None:
    host_id = sim.add_host(ORG, name="vm0001")
    sim.host_down(ORG, host_id)
    sim.host_down(ORG, host_id)  # still one alert
    assert len(rw.get("/api/v0/alerts").json()["alerts"]) == 1
    sim.host_up(ORG, host_id)
    closed = rw.get("/api/v0/alerts?withClosed=true").json()["alerts"]
    assert [(a["status"], "closedAt" in a) for a in closed] == [("OK", True)]


def test_maintenance_freezes_connectivity_alerts(
    rw: httpx.Client, sim: Simulator, org: OrgKeys
) -> None:
    host_id = sim.add_host(ORG, name="vm0001")
    sim.host_down(ORG, host_id)
    sim.set_host_status(ORG, host_id, "maintenance")
    sim.host_up(ORG, host_id)
    assert len(rw.get("/api/v0/alerts").json()["alerts"]) == 1  # not monitored, so not closed
    sim.set_host_status(ORG, host_id, "working")
    assert rw.get("/api/v0/alerts").json() == {"alerts": []}


def test_retiring_a_host_closes_its_alerts(rw: httpx.Client, sim: Simulator, org: OrgKeys) -> None:
    host_id = sim.add_host(ORG, name="vm0001")
    sim.host_down(ORG, host_id)
    rw.post(f"/api/v0/hosts/{host_id}/retire", json={})
    assert rw.get("/api/v0/alerts").json() == {"alerts": []}
