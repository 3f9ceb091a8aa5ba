"""Hosts: wrapping, filters, status, roles, retirement, bulk limits (mackerel-api.md §3)."""

from __future__ import annotations

import httpx
import pytest

from mackerel_sim import Simulator
from mackerel_sim.tests.matching import assert_matches, load

HOST = load("host.json")
ERRORS = load("errors.json")


def _create(rw: httpx.Client, name: str, **extra: object) -> str:
    response = rw.post("/api/v0/hosts", json={"name": name, "meta": {}, **extra})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def _names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["hosts"]
    return sorted(h["name"] for h in response.json()["hosts"])


def test_create_answers_id_and_get_answers_the_wrapped_host(rw: httpx.Client) -> None:
    created = rw.post("/api/v0/hosts", json=HOST["create_request"])
    assert created.status_code == 200
    assert_matches(created.json(), HOST["create_response"])
    fetched = rw.get(f"/api/v0/hosts/{created.json()['id']}")
    assert_matches(fetched.json(), HOST["get_response"])
    assert fetched.json()["host"]["id"] == created.json()["id"]


def test_registration_creates_unknown_services_and_roles(rw: httpx.Client) -> None:
    rw.post("/api/v0/hosts", json=HOST["create_request"])
    services = rw.get("/api/v0/services").json()["services"]
    assert services == [{"name": "Billing", "memo": "", "roles": ["cron", "worker"]}]


def test_unknown_host_is_404(rw: httpx.Client) -> None:
    response = rw.get("/api/v0/hosts/3k73ZJscVcW")
    assert response.status_code == 404
    assert response.json() == ERRORS["host_not_found"]


def test_list_defaults_to_working_and_standby(rw: httpx.Client) -> None:
    for status in ("working", "standby", "maintenance", "poweroff"):
        host_id = _create(rw, f"vm-{status}")
        rw.post(f"/api/v0/hosts/{host_id}/status", json={"status": status})
    retired = _create(rw, "vm-retired")
    rw.post(f"/api/v0/hosts/{retired}/retire", json={})
    assert _names(rw.get("/api/v0/hosts")) == ["vm-standby", "vm-working"]
    everything = "status=working&status=standby&status=maintenance&status=poweroff"
    assert _names(rw.get(f"/api/v0/hosts?{everything}")) == [
        "vm-maintenance",
        "vm-poweroff",
        "vm-standby",
        "vm-working",
    ]
    assert _names(rw.get("/api/v0/hosts?status=poweroff")) == ["vm-poweroff"]
    assert _names(rw.get("/api/v0/hosts.json")) == ["vm-standby", "vm-working"]


def test_list_filters(rw: httpx.Client) -> None:
    _create(rw, "web1", roleFullnames=["web:app"])
    _create(rw, "web2", roleFullnames=["web:nginx"], customIdentifier="web2-ci")
    _create(rw, "db1", roleFullnames=["db:primary", "web:app"])
    _create(rw, "lonely")
    assert _names(rw.get("/api/v0/hosts?service=web")) == ["db1", "web1", "web2"]
    assert _names(rw.get("/api/v0/hosts?service=web&role=app")) == ["db1", "web1"]
    assert _names(rw.get("/api/v0/hosts?service=web&role=app&role=nginx")) == [
        "db1",
        "web1",
        "web2",
    ]
    # `role` without `service` is ignored (§3.4).
    assert _names(rw.get("/api/v0/hosts?role=nginx")) == ["db1", "lonely", "web1", "web2"]
    assert _names(rw.get("/api/v0/hosts?name=web2")) == ["web2"]
    assert _names(rw.get("/api/v0/hosts?customIdentifier=web2-ci")) == ["web2"]
    assert _names(rw.get("/api/v0/hosts?service=nothing")) == []


def test_invalid_status_filter_is_400(rw: httpx.Client) -> None:
    assert rw.get("/api/v0/hosts?status=broken").status_code == 400


def test_status_change(rw: httpx.Client) -> None:
    host_id = _create(rw, "vm0001")
    response = rw.post(f"/api/v0/hosts/{host_id}/status", json={"status": "maintenance"})
    assert response.json() == ERRORS["success"]
    assert rw.get(f"/api/v0/hosts/{host_id}").json()["host"]["status"] == "maintenance"
    bad = rw.post(f"/api/v0/hosts/{host_id}/status", json={"status": "sleeping"})
    assert bad.status_code == 400
    assert_matches(bad.json(), ERRORS["any_error"])


def test_update_replaces_fields_but_keeps_roles(rw: httpx.Client) -> None:
    host_id = _create(rw, "vm0001", roleFullnames=["web:app"], memo="keep me", customIdentifier="x")
    response = rw.put(
        f"/api/v0/hosts/{host_id}",
        json={
            "name": "vm0001-renamed",
            "meta": {"agent-version": "0.85.0"},
            "roleFullnames": ["db:primary"],
        },
    )
    assert response.json() == {"id": host_id}
    host = rw.get(f"/api/v0/hosts/{host_id}").json()["host"]
    assert host["name"] == "vm0001-renamed"
    assert host["roles"] == {"web": ["app"], "db": ["primary"]}
    assert host["memo"] == "keep me"
    assert "customIdentifier" not in host  # omitted on PUT: overwritten to null (§3.3)


def test_role_fullnames_replace_the_role_set(rw: httpx.Client) -> None:
    host_id = _create(rw, "vm0001", roleFullnames=["web:app", "web:nginx"])
    response = rw.put(
        f"/api/v0/hosts/{host_id}/role-fullnames", json={"roleFullnames": ["db: primary"]}
    )
    assert response.json() == ERRORS["success"]
    assert rw.get(f"/api/v0/hosts/{host_id}").json()["host"]["roles"] == {"db": ["primary"]}


@pytest.mark.parametrize(
    "body",
    [
        {"meta": {}},
        {"name": "", "meta": {}},
        {"name": "has space", "meta": {}},
        {"name": "vm1", "meta": []},
        {"name": "vm1", "roleFullnames": ["no-colon"]},
        {"name": "vm1", "roleFullnames": ["-bad:app"]},
        {"name": "vm1", "interfaces": "eth0"},
        [],
    ],
)
def test_invalid_host_bodies_are_400(rw: httpx.Client, body: object) -> None:
    response = rw.post("/api/v0/hosts", json=body)
    assert response.status_code == 400
    assert_matches(response.json(), ERRORS["any_error"])


def test_invalid_json_is_400(rw: httpx.Client) -> None:
    response = rw.post(
        "/api/v0/hosts", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert_matches(response.json(), ERRORS["any_error"])


def test_retire_keeps_the_host_readable_but_unlisted(rw: httpx.Client) -> None:
    host_id = _create(rw, "vm0001")
    assert rw.post(f"/api/v0/hosts/{host_id}/retire", json={}).json() == ERRORS["success"]
    host = rw.get(f"/api/v0/hosts/{host_id}").json()["host"]
    assert_matches({k: host[k] for k in ("isRetired", "retiredAt")}, HOST["retired_extra_keys"])
    assert _names(rw.get("/api/v0/hosts")) == []
    assert rw.post(f"/api/v0/hosts/{host_id}/status", json={"status": "working"}).status_code == 404


def test_bulk_retire_limits_and_atomicity(rw: httpx.Client) -> None:
    ids = [_create(rw, f"vm{n:04d}") for n in range(3)]
    too_many = rw.post("/api/v0/hosts/bulk-retire", json={"ids": ids * 11})
    assert too_many.status_code == 400
    missing = rw.post("/api/v0/hosts/bulk-retire", json={"ids": [*ids, "3k73ZJscVcW"]})
    assert missing.status_code == 404
    assert missing.json() == ERRORS["hosts_not_found"]
    assert len(_names(rw.get("/api/v0/hosts"))) == 3  # nothing retired by the failed call
    assert rw.post("/api/v0/hosts/bulk-retire", json={"ids": ids[:2]}).json() == ERRORS["success"]
    assert _names(rw.get("/api/v0/hosts")) == ["vm0002"]


def test_bulk_status_update(rw: httpx.Client) -> None:
    ids = [_create(rw, f"vm{n:04d}") for n in range(2)]
    assert (
        rw.post(
            "/api/v0/hosts/bulk-update-statuses", json={"ids": ids * 16, "status": "standby"}
        ).status_code
        == 400
    )
    response = rw.post(
        "/api/v0/hosts/bulk-update-statuses", json={"ids": ids, "status": "poweroff"}
    )
    assert response.json() == ERRORS["success"]
    assert _names(rw.get("/api/v0/hosts")) == []


def test_thirty_ids_are_allowed(rw: httpx.Client, sim: Simulator) -> None:
    ids = [sim.add_host("acme-prod", name=f"vm{n:04d}") for n in range(30)]
    assert rw.post("/api/v0/hosts/bulk-retire", json={"ids": ids}).status_code == 200


def test_custom_identifier_lookup(rw: httpx.Client) -> None:
    host_id = _create(rw, "vm0001", customIdentifier="i-0abc/Prod")
    found = rw.get("/api/v0/hosts-by-custom-identifier/i-0abc%2FProd")
    assert found.json()["host"]["id"] == host_id
    assert rw.get("/api/v0/hosts-by-custom-identifier/i-0abc%2Fprod").status_code == 404
    insensitive = rw.get("/api/v0/hosts-by-custom-identifier/i-0abc%2Fprod?caseInsensitive=true")
    assert insensitive.json()["host"]["id"] == host_id
    duplicate = rw.post(
        "/api/v0/hosts", json={"name": "vm0002", "meta": {}, "customIdentifier": "i-0abc/Prod"}
    )
    assert duplicate.status_code == 400


def test_metric_names_and_monitored_statuses(rw: httpx.Client, sim: Simulator) -> None:
    host_id = _create(rw, "vm0001")
    now = int(sim.now())
    rw.post(
        "/api/v0/tsdb",
        json=[
            {"hostId": host_id, "name": n, "time": now, "value": 1}
            for n in ("loadavg5", "custom.a.b")
        ],
    )
    assert rw.get(f"/api/v0/hosts/{host_id}/metric-names").json() == {
        "names": ["custom.a.b", "loadavg5"]
    }
    statuses = rw.get(f"/api/v0/hosts/{host_id}/monitored-statuses").json()
    connectivity = [m["id"] for m in sim.monitors("acme-prod") if m["type"] == "connectivity"]
    assert statuses == {"monitoredStatuses": [{"monitorId": connectivity[0], "status": "OK"}]}
