"""Services and roles: wrapping, naming rules, deletes (mackerel-api.md §1.6, §4)."""

from __future__ import annotations

import httpx
import pytest

from mackerel_sim import Simulator
from mackerel_sim.tests.matching import assert_matches, load

SERVICES = load("services.json")
ERRORS = load("errors.json")


def test_create_list_and_roles(rw: httpx.Client) -> None:
    created = rw.post("/api/v0/services", json={"name": "Billing", "memo": "billing team"})
    assert created.json() == SERVICES["create_response"]
    rw.post("/api/v0/services/Billing/roles", json={"name": "cron"})
    role = rw.post(
        "/api/v0/services/Billing/roles", json={"name": "worker", "memo": "queue workers"}
    )
    assert role.json() == SERVICES["role_create_response"]
    assert rw.get("/api/v0/services").json() == SERVICES["list_response"]
    assert rw.get("/api/v0/services/Billing/roles").json() == SERVICES["roles_response"]


@pytest.mark.parametrize("name", ["ab", "A-b_9", "x" * 63, "9lives"])
def test_valid_names(rw: httpx.Client, name: str) -> None:
    assert rw.post("/api/v0/services", json={"name": name}).status_code == 200
    assert rw.post(f"/api/v0/services/{name}/roles", json={"name": name}).status_code == 200


@pytest.mark.parametrize("name", ["a", "-web", "_web", "web!", "x" * 64, "ウェブ", "", None, 12])
def test_invalid_names_are_400(rw: httpx.Client, name: object) -> None:
    response = rw.post("/api/v0/services", json={"name": name})
    assert response.status_code == 400
    assert_matches(response.json(), ERRORS["any_error"])
    rw.post("/api/v0/services", json={"name": "web"})
    assert rw.post("/api/v0/services/web/roles", json={"name": name}).status_code == 400


def test_duplicates_are_400(rw: httpx.Client) -> None:
    rw.post("/api/v0/services", json={"name": "web"})
    assert rw.post("/api/v0/services", json={"name": "web"}).status_code == 400
    rw.post("/api/v0/services/web/roles", json={"name": "app"})
    assert rw.post("/api/v0/services/web/roles", json={"name": "app"}).status_code == 400


def test_unknown_service_is_404(rw: httpx.Client) -> None:
    for response in (
        rw.get("/api/v0/services/nothing/roles"),
        rw.post("/api/v0/services/nothing/roles", json={"name": "app"}),
        rw.delete("/api/v0/services/nothing"),
        rw.get("/api/v0/services/nothing/metric-names"),
    ):
        assert response.status_code == 404
        assert response.json() == ERRORS["service_not_found"]
    assert rw.delete("/api/v0/services/nothing/roles/app").status_code == 404


def test_delete_answers_what_was_deleted_and_cascades(rw: httpx.Client, sim: Simulator) -> None:
    host_id = sim.add_host("acme-prod", name="vm0001", roles={"web": ["app"], "db": ["primary"]})
    monitor = rw.post(
        "/api/v0/monitors",
        json={
            "type": "service",
            "name": "rps",
            "service": "web",
            "metric": "rps",
            "operator": "<",
            "critical": 1,
        },
    ).json()
    sim.open_alert("acme-prod", monitor["id"], value=0)
    deleted = rw.delete("/api/v0/services/web")
    assert deleted.json() == {"name": "web", "memo": "", "roles": ["app"]}
    assert [s["name"] for s in rw.get("/api/v0/services").json()["services"]] == ["db"]
    assert rw.get(f"/api/v0/hosts/{host_id}").json()["host"]["roles"] == {"db": ["primary"]}
    assert rw.get(f"/api/v0/monitors/{monitor['id']}").status_code == 404
    assert rw.get("/api/v0/alerts").json() == {"alerts": []}


def test_delete_role(rw: httpx.Client, sim: Simulator) -> None:
    host_id = sim.add_host("acme-prod", name="vm0001", roles={"web": ["app", "nginx"]})
    assert rw.delete("/api/v0/services/web/roles/app").json() == {"name": "app", "memo": ""}
    assert rw.get(f"/api/v0/hosts/{host_id}").json()["host"]["roles"] == {"web": ["nginx"]}
