"""An independent Mackerel client, not ours, cannot tell the simulator from Mackerel.

The client is PyPI's ``mackerel.api`` (1.0.2, requests-based, written against the real API by a
third party). It has no base-URL argument, but keeps the URL in its ``base_url`` attribute, so
pointing it at the simulator is one assignment; everything else is its own code, paths and
JSON handling. (``mackerel.client`` 0.2.1, the other PyPI client, can list hosts and post metrics
but has no monitors or alerts and refuses PUT, so it cannot do what this file checks.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import mackerel.api as mackerel_api  # an independent client, pinned in requirements-dev.txt
import pytest

from mackerel_sim import OrgKeys, ServerHandle, Simulator

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")


@pytest.fixture(autouse=True)
def _no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests honours proxy variables too; test traffic stays on loopback.
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def world() -> Iterator[tuple[Simulator, ServerHandle, OrgKeys, dict[str, str]]]:
    sim = Simulator(seed=7)
    org = sim.add_organization("acme-prod")
    sim.add_service(org.name, "web")
    sim.add_role(org.name, "web", "app")
    hosts = {
        name: sim.add_host(
            org.name,
            name=name,
            roles={"web": ["app"]},
            interfaces=[{"name": "eth0", "ipAddress": f"192.0.2.{index}"}],
        )
        for index, name in enumerate(("vm0001", "vm0002", "vm0003"), start=10)
    }
    with sim.serve(host="127.0.0.1", port=0) as server:
        yield sim, server, org, hosts
    sim.close()


def independent_client(server: ServerHandle, key: str) -> Any:
    client = mackerel_api.Client(api_key=key)
    client.base_url = f"{server.url}/api/v0"  # its only knob: it builds every URL from this
    return client


def test_it_lists_hosts(world: tuple[Simulator, ServerHandle, OrgKeys, dict[str, str]]) -> None:
    _, server, org, hosts = world
    client = independent_client(server, org.rw_key)

    response = client.get("/hosts", params={"service": "web", "role": ["app"]})
    assert response.status_code == 200
    listed = {host["name"]: host for host in response.json()["hosts"]}
    assert set(listed) == set(hosts)
    assert listed["vm0001"]["id"] == hosts["vm0001"]
    assert listed["vm0001"]["roles"] == {"web": ["app"]}
    assert listed["vm0001"]["interfaces"][0]["ipAddress"] == "192.0.2.10"

    one = client.get(f"/hosts/{hosts['vm0002']}").json()["host"]
    assert one["name"] == "vm0002"

    refused = independent_client(server, "not-a-key").get("/hosts")
    assert refused.status_code == 401
    assert refused.json()["error"]["message"]


def test_it_pages_alerts(world: tuple[Simulator, ServerHandle, OrgKeys, dict[str, str]]) -> None:
    sim, server, org, hosts = world
    connectivity = next(m["id"] for m in sim.monitors(org.name) if m["type"] == "connectivity")
    for _ in range(120):
        alert_id = sim.open_alert(org.name, connectivity, host_id=hosts["vm0001"])
        sim.close_alert(org.name, alert_id, reason="recovered", manual=False)
    still_open = sim.open_alert(org.name, connectivity, host_id=hosts["vm0002"])
    client = independent_client(server, org.rw_key)

    collected: list[str] = []
    params: dict[str, Any] = {"withClosed": "true", "limit": 50}
    pages = 0
    while True:
        response = client.get("/alerts", params=params)
        assert response.status_code == 200
        body = response.json()
        collected += [alert["id"] for alert in body["alerts"]]
        pages += 1
        if "nextId" not in body:
            break
        params["nextId"] = body["nextId"]
    assert pages == 3
    assert collected == [alert["id"] for alert in sim.alerts(org.name)]
    assert len(set(collected)) == 121
    assert collected[0] == still_open

    open_only = client.get("/alerts").json()
    assert [alert["id"] for alert in open_only["alerts"]] == [still_open]
    assert open_only["alerts"][0]["status"] == "CRITICAL"
    assert "nextId" not in open_only


def test_it_creates_and_updates_monitors(
    world: tuple[Simulator, ServerHandle, OrgKeys, dict[str, str]],
) -> None:
    sim, server, org, _ = world
    client = independent_client(server, org.rw_key)
    definition = {
        "type": "host",
        "name": "cpu",
        "memo": "",
        "metric": "cpu%",
        "operator": ">",
        "warning": 70,
        "critical": 90,
        "duration": 3,
        "maxCheckAttempts": 1,
        "scopes": ["web"],
        "excludeScopes": [],
        "isMute": False,
    }

    created = client.post("/monitors", data=definition)
    assert created.status_code == 200
    monitor = created.json()
    assert monitor["id"]
    assert monitor["name"] == "cpu"

    updated = client.put(f"/monitors/{monitor['id']}", data={**definition, "critical": 95})
    assert updated.status_code == 200
    assert updated.json()["critical"] == 95

    fetched = client.get(f"/monitors/{monitor['id']}").json()["monitor"]
    assert (fetched["id"], fetched["critical"], fetched["warning"]) == (monitor["id"], 95, 70)
    assert sim.monitor(org.name, monitor["id"])["critical"] == 95

    invalid = client.put(f"/monitors/{monitor['id']}", data={**definition, "duration": 11})
    assert invalid.status_code == 400
    assert invalid.json()["error"]["message"]


def test_it_posts_metrics(world: tuple[Simulator, ServerHandle, OrgKeys, dict[str, str]]) -> None:
    sim, server, org, hosts = world
    client = independent_client(server, org.rw_key)
    now = int(sim.now())
    points = [
        {"hostId": hosts["vm0001"], "name": "custom.backup.seconds", "time": now - 60, "value": 40},
        {"hostId": hosts["vm0001"], "name": "custom.backup.seconds", "time": now, "value": 42.5},
        {"hostId": hosts["vm0002"], "name": "custom.backup.seconds", "time": now, "value": 3},
    ]
    posted = client.post("/tsdb", data=points)  # its signature says dict; it sends any JSON
    assert posted.status_code == 200
    assert posted.json() == {"success": True}

    service_posted = client.post(
        "/services/web/tsdb", data=[{"name": "cron.backup.ok", "time": now, "value": 1}]
    )
    assert service_posted.status_code == 200

    latest = client.get(
        "/tsdb/latest",
        params={"hostId": [hosts["vm0001"], hosts["vm0002"]], "name": "custom.backup.seconds"},
    ).json()["tsdbLatest"]
    assert latest[hosts["vm0001"]]["custom.backup.seconds"] == {"time": now, "value": 42.5}
    assert latest[hosts["vm0002"]]["custom.backup.seconds"]["value"] == 3

    series = client.get(
        f"/hosts/{hosts['vm0001']}/metrics",
        params={"name": "custom.backup.seconds", "from": now - 300, "to": now},
    ).json()["metrics"]
    assert [point["value"] for point in series] == [40, 42.5]
    service_series = client.get(
        "/services/web/metrics", params={"name": "cron.backup.ok", "from": now - 300, "to": now}
    ).json()["metrics"]
    assert service_series == [{"time": now, "value": 1}]
