"""Host and service metrics, and the monitor logic they drive (mackerel-api.md §5, §6.2)."""

from __future__ import annotations

import httpx
import pytest

from mackerel_sim import OrgKeys, Simulator
from mackerel_sim.tests.matching import assert_matches, load

ERRORS = load("errors.json")
ORG = "acme-prod"


@pytest.fixture
def host_id(sim: Simulator, org: OrgKeys) -> str:
    return sim.add_host(ORG, name="vm0001", roles={"web": ["app"]})


def test_post_and_read_host_metrics(rw: httpx.Client, sim: Simulator, host_id: str) -> None:
    now = int(sim.now())
    points = [
        {"hostId": host_id, "name": "custom.cron.duration", "time": now - 120 + 60 * n, "value": v}
        for n, v in enumerate([3, 4.5, 2])
    ]
    assert rw.post("/api/v0/tsdb", json=list(reversed(points))).json() == ERRORS["success"]
    ranged = rw.get(
        f"/api/v0/hosts/{host_id}/metrics?name=custom.cron.duration&from={now - 90}&to={now}"
    )
    assert ranged.json() == {
        "metrics": [{"time": now - 60, "value": 4.5}, {"time": now, "value": 2}]
    }
    latest = rw.get(f"/api/v0/tsdb/latest?hostId={host_id}&name=custom.cron.duration&name=loadavg5")
    assert latest.json() == {
        "tsdbLatest": {host_id: {"custom.cron.duration": {"time": now, "value": 2}}}
    }


def test_re_posting_overwrites_and_day_old_points_are_dropped(
    rw: httpx.Client, sim: Simulator, host_id: str
) -> None:
    now = int(sim.now())
    rw.post("/api/v0/tsdb", json=[{"hostId": host_id, "name": "m", "time": now, "value": 1}])
    rw.post("/api/v0/tsdb", json=[{"hostId": host_id, "name": "m", "time": now, "value": 7}])
    old = rw.post(
        "/api/v0/tsdb", json=[{"hostId": host_id, "name": "m", "time": now - 86401, "value": 9}]
    )
    assert old.status_code == 200
    values = rw.get(f"/api/v0/hosts/{host_id}/metrics?name=m&from=0&to={now}").json()
    assert values == {"metrics": [{"time": now, "value": 7}]}


@pytest.mark.parametrize(
    "points",
    [
        {"hostId": "x"},
        [{"name": "m", "time": 1, "value": 1}],
        [{"hostId": "HOST", "name": "bad name!", "time": 1, "value": 1}],
        [{"hostId": "HOST", "name": "m", "time": 1, "value": True}],
        [{"hostId": "HOST", "name": "m", "time": "now", "value": 1}],
    ],
)
def test_invalid_metric_posts_are_400(rw: httpx.Client, host_id: str, points: object) -> None:
    body = (
        points
        if not isinstance(points, list)
        else [{**p, **({"hostId": host_id} if p.get("hostId") == "HOST" else {})} for p in points]
    )
    response = rw.post("/api/v0/tsdb", json=body)
    assert response.status_code == 400
    assert_matches(response.json(), ERRORS["any_error"])


def test_nan_is_not_json(rw: httpx.Client, host_id: str) -> None:
    body = f'[{{"hostId": "{host_id}", "name": "m", "time": 1, "value": NaN}}]'
    assert rw.post("/api/v0/tsdb", content=body.encode()).status_code == 400


def test_unknown_host_metric_and_missing_parameters(
    rw: httpx.Client, sim: Simulator, host_id: str
) -> None:
    unknown = rw.post(
        "/api/v0/tsdb",
        json=[{"hostId": "3k73ZJscVcW", "name": "m", "time": int(sim.now()), "value": 1}],
    )
    assert unknown.json() == ERRORS["host_not_found"]
    assert rw.get(f"/api/v0/hosts/{host_id}/metrics?name=nothing&from=0&to=1").status_code == 404
    assert rw.get(f"/api/v0/hosts/{host_id}/metrics?name=m").status_code == 400
    assert rw.get("/api/v0/tsdb/latest?name=m").status_code == 400


def test_service_metrics(rw: httpx.Client, sim: Simulator, host_id: str) -> None:
    now = int(sim.now())
    body = [{"name": "tairyo.heartbeat", "time": now, "value": 1}]
    assert rw.post("/api/v0/services/web/tsdb", json=body).json() == ERRORS["success"]
    assert rw.get("/api/v0/services/web/metric-names").json() == {"names": ["tairyo.heartbeat"]}
    read = rw.get(f"/api/v0/services/web/metrics?name=tairyo.heartbeat&from={now}&to={now}")
    assert read.json() == {"metrics": [{"time": now, "value": 1}]}
    assert rw.post("/api/v0/services/nothing/tsdb", json=body).json() == ERRORS["service_not_found"]


def test_host_monitor_opens_after_max_check_attempts_and_closes_on_ok(
    rw: httpx.Client, sim: Simulator, host_id: str
) -> None:
    monitor = {
        "type": "host",
        "name": "load",
        "metric": "loadavg5",
        "operator": ">",
        "warning": 4,
        "critical": 8,
        "duration": 1,
        "maxCheckAttempts": 2,
        "scopes": ["web"],
    }
    rw.post("/api/v0/monitors", json=monitor)

    def post(value: float) -> list[dict[str, object]]:
        sim.advance(60)
        rw.post(
            "/api/v0/tsdb",
            json=[{"hostId": host_id, "name": "loadavg5", "time": int(sim.now()), "value": value}],
        )
        return [a for a in rw.get("/api/v0/alerts").json()["alerts"] if a["type"] == "host"]

    assert post(9) == []  # first failing evaluation: not yet
    assert [(a["status"], a["value"]) for a in post(9.5)] == [("CRITICAL", 9.5)]
    assert [(a["status"], a["value"]) for a in post(5)] == [("WARNING", 5)]
    assert post(1) == []
    old = rw.post(
        "/api/v0/tsdb",
        json=[{"hostId": host_id, "name": "loadavg5", "time": int(sim.now()) - 600, "value": 99}],
    )
    assert old.status_code == 200
    assert post(2) == []  # an old point never raises an alert


def test_host_monitor_averages_duration_points_and_respects_scopes(
    rw: httpx.Client, sim: Simulator, host_id: str
) -> None:
    other = sim.add_host(ORG, name="vm0002", roles={"db": ["primary"]})
    rw.post(
        "/api/v0/monitors",
        json={
            "type": "host",
            "name": "load",
            "metric": "loadavg5",
            "operator": ">",
            "critical": 5,
            "duration": 3,
            "scopes": ["web: app"],
        },
    )
    for value in (2, 3, 11):  # average 5.33
        sim.advance(60)
        for target in (host_id, other):
            rw.post(
                "/api/v0/tsdb",
                json=[
                    {"hostId": target, "name": "loadavg5", "time": int(sim.now()), "value": value}
                ],
            )
    alerts = [a for a in rw.get("/api/v0/alerts").json()["alerts"] if a["type"] == "host"]
    assert [(a["hostId"], round(a["value"], 2)) for a in alerts] == [(host_id, 5.33)]


def test_service_monitor_interruption(rw: httpx.Client, sim: Simulator, host_id: str) -> None:
    rw.post(
        "/api/v0/monitors",
        json={
            "type": "service",
            "name": "heartbeat",
            "service": "web",
            "metric": "tairyo.heartbeat",
            "operator": "<",
            "critical": 1,
            "missingDurationCritical": 10,
        },
    )
    rw.post(
        "/api/v0/services/web/tsdb",
        json=[{"name": "tairyo.heartbeat", "time": int(sim.now()), "value": 1}],
    )
    sim.advance(9 * 60)
    assert rw.get("/api/v0/alerts").json() == {"alerts": []}
    sim.advance(60)
    assert [a["type"] for a in rw.get("/api/v0/alerts").json()["alerts"]] == ["service"]
    rw.post(
        "/api/v0/services/web/tsdb",
        json=[{"name": "tairyo.heartbeat", "time": int(sim.now()), "value": 1}],
    )
    assert rw.get("/api/v0/alerts").json() == {"alerts": []}
