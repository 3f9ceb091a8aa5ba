"""Check monitoring: reports open and close check alerts (mackerel-api.md §6.4, §10)."""

from __future__ import annotations

import httpx
import pytest

from mackerel_sim import OrgKeys, Simulator
from mackerel_sim.tests.matching import assert_matches, load

ERRORS = load("errors.json")
REPORT = load("check_report.json")
ORG = "acme-prod"


@pytest.fixture
def host_id(sim: Simulator, org: OrgKeys) -> str:
    return sim.add_host(ORG, name="batch01")


def _report(host_id: str, status: str, occurred_at: float, **extra: object) -> dict[str, object]:
    return {
        "source": {"type": "host", "hostId": host_id},
        "name": "nightly-backup",
        "status": status,
        "message": f"backup {status.lower()}",
        "occurredAt": int(occurred_at),
        **extra,
    }


def _check_alerts(rw: httpx.Client) -> list[dict[str, object]]:
    return [a for a in rw.get("/api/v0/alerts").json()["alerts"] if a["type"] == "check"]


def test_documented_report_opens_a_check_alert(
    rw: httpx.Client, sim: Simulator, host_id: str
) -> None:
    body = REPORT["request"]
    body["reports"][0]["source"]["hostId"] = host_id
    body["reports"][0]["occurredAt"] = int(sim.now())
    assert rw.post("/api/v0/monitoring/checks/report", json=body).json() == REPORT["response"]
    [alert] = _check_alerts(rw)
    assert (alert["hostId"], alert["message"]) == (host_id, body["reports"][0]["message"])
    checks = rw.get("/api/v0/monitoring/checks").json()
    assert checks == {"checks": [{"id": alert["monitorId"], "name": "nightly-backup"}]}
    assert rw.get(f"/api/v0/monitoring/checks/{alert['monitorId']}").json() == {
        "check": checks["checks"][0]
    }


def test_max_check_attempts_and_recovery(rw: httpx.Client, sim: Simulator, host_id: str) -> None:
    post = rw.post
    post(
        "/api/v0/monitoring/checks/report",
        json={"reports": [_report(host_id, "WARNING", sim.now(), maxCheckAttempts=2)]},
    )
    assert _check_alerts(rw) == []
    sim.advance(60)
    post(
        "/api/v0/monitoring/checks/report",
        json={"reports": [_report(host_id, "CRITICAL", sim.now(), maxCheckAttempts=2)]},
    )
    assert [a["status"] for a in _check_alerts(rw)] == ["CRITICAL"]
    sim.advance(60)
    post("/api/v0/monitoring/checks/report", json={"reports": [_report(host_id, "OK", sim.now())]})
    assert _check_alerts(rw) == []


def test_stale_and_out_of_order_reports_are_ignored(
    rw: httpx.Client, sim: Simulator, host_id: str
) -> None:
    now = sim.now()
    stale = rw.post(
        "/api/v0/monitoring/checks/report",
        json={"reports": [_report(host_id, "CRITICAL", now - 6 * 3600)]},
    )
    assert stale.json() == ERRORS["success"]
    assert _check_alerts(rw) == []
    rw.post(
        "/api/v0/monitoring/checks/report", json={"reports": [_report(host_id, "CRITICAL", now)]}
    )
    rw.post(
        "/api/v0/monitoring/checks/report", json={"reports": [_report(host_id, "OK", now - 60)]}
    )
    assert [a["status"] for a in _check_alerts(rw)] == ["CRITICAL"]


@pytest.mark.parametrize(
    "change",
    [
        {"status": "BROKEN"},
        {"name": "has.dot"},
        {"source": {"type": "service", "hostId": "x"}},
        {"message": "x" * 1025},
        {"maxCheckAttempts": 11},
        {"occurredAt": None},
    ],
)
def test_invalid_reports_are_400(
    rw: httpx.Client, sim: Simulator, host_id: str, change: dict[str, object]
) -> None:
    response = rw.post(
        "/api/v0/monitoring/checks/report",
        json={"reports": [{**_report(host_id, "OK", sim.now()), **change}]},
    )
    assert response.status_code == 400
    assert_matches(response.json(), ERRORS["any_error"])


def test_at_most_100_reports(rw: httpx.Client, sim: Simulator, host_id: str) -> None:
    reports = [_report(host_id, "OK", sim.now())] * 101
    assert rw.post("/api/v0/monitoring/checks/report", json={"reports": reports}).status_code == 400


def test_checks_page_ascending(rw: httpx.Client, sim: Simulator, host_id: str) -> None:
    reports = [{**_report(host_id, "OK", sim.now()), "name": f"check-{n}"} for n in range(5)]
    rw.post("/api/v0/monitoring/checks/report", json={"reports": reports})
    first = rw.get("/api/v0/monitoring/checks?limit=3").json()
    second = rw.get(f"/api/v0/monitoring/checks?limit=3&nextId={first['nextId']}").json()
    ids = [c["id"] for c in first["checks"] + second["checks"]]
    assert ids == sorted(ids) and len(set(ids)) == 5 and "nextId" not in second


def test_agent_update_forgets_unlisted_checks_without_open_alerts(
    rw: httpx.Client, sim: Simulator, host_id: str
) -> None:
    reports = [
        {**_report(host_id, status, sim.now()), "name": name}
        for name, status in (("kept", "OK"), ("dropped", "OK"), ("failing", "CRITICAL"))
    ]
    rw.post("/api/v0/monitoring/checks/report", json={"reports": reports})
    rw.put(
        f"/api/v0/hosts/{host_id}",
        json={"name": "batch01", "meta": {}, "checks": [{"name": "kept"}]},
    )
    names = sorted(c["name"] for c in rw.get("/api/v0/monitoring/checks").json()["checks"])
    assert names == ["failing", "kept"]
