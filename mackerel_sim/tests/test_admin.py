"""The admin API under /_sim drives the same simulator a Python caller does."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mackerel_sim import ServerHandle, Simulator
from mackerel_sim.tests.conftest import START, client
from mackerel_sim.tests.receiver import Receiver


def test_drive_a_world_over_http(
    server: ServerHandle, admin: httpx.Client, receiver: Receiver, sim: Simulator
) -> None:
    keys = admin.post("/_sim/orgs", json={"name": "acme-prod"}).json()
    assert set(keys) == {"name", "id", "rwKey", "roKey"}
    org = "/_sim/orgs/acme-prod"
    admin.post(f"{org}/services", json={"name": "web", "memo": "公開 Web"})
    admin.post(f"{org}/services/web/roles", json={"name": "app"})
    channel = admin.post(
        f"{org}/channels", json={"url": receiver.url, "events": ["alert", "hostStatus"]}
    ).json()
    assert channel["type"] == "webhook"
    host_id = admin.post(
        f"{org}/hosts",
        json={
            "name": "vm0001",
            "roles": {"web": ["app"]},
            "interfaces": [{"name": "eth0", "ipAddress": "192.0.2.10"}],
        },
    ).json()["id"]
    admin.post(f"{org}/hosts/{host_id}/memo", json={"memo": "メモ"})
    admin.post(f"{org}/hosts/{host_id}/down")
    with client(server, keys["roKey"]) as api:
        host = api.get(f"/api/v0/hosts/{host_id}").json()["host"]
        assert (host["memo"], host["roles"]) == ("メモ", {"web": ["app"]})
        [alert] = api.get("/api/v0/alerts").json()["alerts"]
    assert (
        admin.post(f"{org}/alerts/{alert['id']}/status", json={"status": "WARNING"}).json()[
            "status"
        ]
        == "WARNING"
    )
    closed = admin.post(
        f"{org}/alerts/{alert['id']}/close", json={"reason": "fixed", "user": "alice@example.com"}
    )
    assert closed.json()["status"] == "OK"
    admin.post(f"{org}/hosts/{host_id}/status", json={"status": "standby"})
    assert admin.post("/_sim/webhooks/flush", json={"timeout": 5}).json()["idle"] is True
    deliveries = admin.get("/_sim/webhooks/deliveries?org=acme-prod").json()["deliveries"]
    assert [d["event"] for d in deliveries] == ["alert", "alert", "alert", "hostStatus"]
    assert deliveries[0]["status"] == 200 and deliveries[0]["body"]["alert"]["isOpen"] is True
    assert (
        admin.get("/_sim/webhooks/deliveries?event=hostStatus").json()["deliveries"][0]["url"]
        == receiver.url
    )
    state = admin.get("/_sim/state").json()
    assert [o["name"] for o in state["organizations"]] == ["acme-prod"]
    assert [r["path"] for r in sim.requests("acme-prod")] == [
        f"/api/v0/hosts/{host_id}",
        "/api/v0/alerts",
    ]


def test_monitors_alerts_downtimes_and_group_settings(admin: httpx.Client) -> None:
    admin.post("/_sim/orgs", json={"name": "acme-prod", "defaultMonitors": False})
    org = "/_sim/orgs/acme-prod"
    monitor = admin.post(
        f"{org}/monitors",
        json={"type": "expression", "name": "e", "expression": "1", "operator": ">", "critical": 0},
    ).json()
    alert = admin.post(f"{org}/alerts", json={"monitorId": monitor["id"], "value": 2}).json()
    assert (alert["type"], alert["status"]) == ("expression", "CRITICAL")
    assert (
        admin.post(
            f"{org}/downtimes", json={"name": "d", "start": START, "duration": 10}
        ).status_code
        == 200
    )
    assert admin.post(f"{org}/alert-group-settings", json={"name": "g"}).status_code == 200
    bad = admin.post(f"{org}/monitors", json={"type": "expression"})
    assert bad.status_code == 400


def test_faults_over_http(server: ServerHandle, admin: httpx.Client) -> None:
    keys = admin.post(
        "/_sim/orgs", json={"name": "acme-prod", "rwKey": "rw-key-1", "roKey": "ro-key-1"}
    ).json()
    assert (keys["rwKey"], keys["roKey"]) == ("rw-key-1", "ro-key-1")
    faults = admin.post(
        "/_sim/orgs/acme-prod/faults", json={"status": 503, "count": 1, "latency": 0}
    ).json()
    assert (faults["status"], faults["count"]) == (503, 1)
    with client(server, "ro-key-1") as api:
        assert [api.get("/api/v0/org").status_code for _ in range(2)] == [503, 200]
    admin.post("/_sim/orgs/acme-prod/faults", json={"rateLimit": 1, "retryAfter": 3})
    with client(server, "ro-key-1") as api:
        statuses = [api.get("/api/v0/org") for _ in range(2)]
        assert statuses[1].status_code == 429 and statuses[1].headers["Retry-After"] == "3"
    admin.delete("/_sim/orgs/acme-prod/faults")
    assert admin.get("/_sim/orgs/acme-prod/faults").json()["rateLimit"] is None


def test_scenarios_clock_rate_and_demo(admin: httpx.Client, sim: Simulator) -> None:
    orgs = admin.post("/_sim/demo", json={"orgs": ["acme-prod", "globex"], "hostsPerOrg": 5}).json()
    assert [o["name"] for o in orgs["organizations"]] == ["acme-prod", "globex"]
    names = [s["name"] for s in admin.get("/_sim/scenarios").json()["scenarios"]]
    assert "network-outage" in names and "every-event" in names
    run = admin.post("/_sim/scenarios/network-outage", json={"hosts": 4, "wait": True}).json()
    assert (run["state"], run["applied"], len(run["plan"])) == ("done", 8, 8)
    assert admin.get(f"/_sim/runs/{run['id']}").json()["state"] == "done"
    assert admin.get("/_sim/runs").json()["runs"][0]["id"] == run["id"]
    assert admin.post("/_sim/scenarios/earthquake", json={}).status_code == 400
    clock = admin.post("/_sim/clock", json={"advance": 60}).json()
    assert clock["now"] >= START + 60
    assert admin.post("/_sim/webhooks/rate", json={"perSecond": 50}).json()["perSecond"] == 50
    assert sim.sender.rate == 50


def test_state_round_trips_into_a_new_simulator(admin: httpx.Client, sim: Simulator) -> None:
    sim.build_demo(["acme-prod"], hosts_per_org=4)
    host_id = sim.hosts("acme-prod")[0]["id"]
    sim.post_host_metrics(
        "acme-prod", [{"hostId": host_id, "name": "loadavg5", "time": START, "value": 1.5}]
    )
    key = sim.organization("acme-prod").rw_key
    admin.put(
        f"/api/v0/hosts/{host_id}/metadata/rack", json={"rack": "A-12"}, headers={"X-Api-Key": key}
    )
    dump = admin.get("/_sim/state?metrics=true").json()
    assert dump["organizations"][0]["metadata"][0]["value"] == {"rack": "A-12"}
    assert dump["organizations"][0]["hostMetrics"][host_id] == {"loadavg5": [[START, 1.5]]}
    with Simulator(seed=99, start_time=START, speed=0) as other:
        other.load_state(dump)
        assert other.dump_state(include_metrics=True)["organizations"] == dump["organizations"]
        assert other.organization("acme-prod") == sim.organization("acme-prod")


@pytest.fixture
def guarded() -> Iterator[ServerHandle]:
    with Simulator(seed=1, admin_token="s3cret") as sim:
        handle = sim.serve()
        yield handle
        handle.stop()


def test_admin_token(guarded: ServerHandle) -> None:
    with client(guarded, None) as c:
        assert c.get("/_sim/health").status_code == 401
        assert c.get("/_sim/health", headers={"X-Sim-Admin-Token": "s3cret"}).status_code == 200


def test_unknown_admin_paths_and_organizations(admin: httpx.Client) -> None:
    assert admin.get("/_sim/nothing").status_code == 404
    assert admin.post("/_sim/orgs/ghost/hosts", json={"name": "vm1"}).status_code == 404
    assert admin.post("/_sim/orgs", json={"name": "bad name"}).status_code == 400
