"""Metadata and graph definitions, which mackerel-agent uses (mackerel-api.md §3.2, §5.4)."""

from __future__ import annotations

import httpx
import pytest

from mackerel_sim import OrgKeys, Simulator
from mackerel_sim.tests.matching import assert_matches, load

ERRORS = load("errors.json")


@pytest.fixture
def host_id(sim: Simulator, org: OrgKeys) -> str:
    return sim.add_host("acme-prod", name="vm0001", roles={"web": ["app"]})


@pytest.mark.parametrize(
    "owner", ["/api/v0/hosts/HOST", "/api/v0/services/web", "/api/v0/services/web/roles/app"]
)
def test_metadata_round_trip(rw: httpx.Client, host_id: str, owner: str) -> None:
    base = owner.replace("HOST", host_id)
    value = {"rack": "A-12", "担当": "インフラ", "ports": [80, 443]}
    assert rw.put(f"{base}/metadata/inventory", json=value).json() == ERRORS["success"]
    fetched = rw.get(f"{base}/metadata/inventory")
    assert fetched.json() == value
    assert fetched.headers["Last-Modified"].endswith("GMT")
    assert rw.get(f"{base}/metadata").json() == {"metadata": [{"namespace": "inventory"}]}
    assert rw.delete(f"{base}/metadata/inventory").json() == ERRORS["success"]
    assert rw.get(f"{base}/metadata/inventory").status_code == 404


def test_metadata_limits(rw: httpx.Client, host_id: str) -> None:
    base = f"/api/v0/hosts/{host_id}/metadata"
    assert rw.put(f"{base}/mackerel-x", json={}).status_code == 400
    assert rw.put(f"{base}/big", json="x" * (100 * 1024)).status_code == 400
    for n in range(50):
        assert rw.put(f"{base}/ns{n}", json=n).status_code == 200
    assert rw.put(f"{base}/one-too-many", json=1).status_code == 400
    assert rw.get("/api/v0/hosts/3k73ZJscVcW/metadata").json() == ERRORS["host_not_found"]


def test_graph_definitions(rw: httpx.Client, host_id: str) -> None:
    body = [
        {
            "name": "custom.cron.#",
            "displayName": "cron",
            "unit": "seconds",
            "metrics": [
                {"name": "custom.cron.#.duration", "displayName": "duration", "isStacked": False}
            ],
        }
    ]
    assert rw.post("/api/v0/graph-defs/create", json=body).json() == ERRORS["success"]
    assert (
        rw.post("/api/v0/graph-defs/create", json=[{**body[0], "name": "cron.x"}]).status_code
        == 400
    )
    assert (
        rw.post("/api/v0/graph-defs/create", json=[{**body[0], "unit": "furlongs"}]).status_code
        == 400
    )
    assert (
        rw.request("DELETE", "/api/v0/graph-defs", json={"name": "custom.cron.#"}).json()
        == ERRORS["success"]
    )
    missing = rw.request("DELETE", "/api/v0/graph-defs", json={"name": "custom.cron.#"})
    assert missing.status_code == 400
    assert_matches(missing.json(), ERRORS["any_error"])
    assert rw.delete("/api/v0/services/web/graph-defs/custom.x").json() == ERRORS["success"]
