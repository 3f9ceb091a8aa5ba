"""Keys, permissions and unknown paths (mackerel-api.md §1.2, §1.3, §12.1)."""

from __future__ import annotations

import httpx
import pytest

from mackerel_sim import OrgKeys, ServerHandle, Simulator
from mackerel_sim.tests.conftest import SSL_CONTEXT, client
from mackerel_sim.tests.matching import assert_matches, load

ERRORS = load("errors.json")

# Every write endpoint; the IDs need not exist: permission is checked first.
WRITES = [
    ("POST", "/api/v0/hosts", {"name": "vm0001", "meta": {}}),
    ("PUT", "/api/v0/hosts/HOST", {"name": "vm0001", "meta": {}}),
    ("POST", "/api/v0/hosts/HOST/status", {"status": "standby"}),
    ("PUT", "/api/v0/hosts/HOST/role-fullnames", {"roleFullnames": []}),
    ("POST", "/api/v0/hosts/HOST/retire", {}),
    ("POST", "/api/v0/hosts/bulk-retire", {"ids": []}),
    ("POST", "/api/v0/hosts/bulk-update-statuses", {"ids": [], "status": "standby"}),
    ("POST", "/api/v0/tsdb", []),
    ("POST", "/api/v0/services", {"name": "web"}),
    ("DELETE", "/api/v0/services/web", None),
    ("POST", "/api/v0/services/web/roles", {"name": "app"}),
    ("DELETE", "/api/v0/services/web/roles/app", None),
    ("POST", "/api/v0/services/web/tsdb", []),
    ("POST", "/api/v0/monitors", {"type": "connectivity"}),
    ("PUT", "/api/v0/monitors/MON", {"type": "connectivity"}),
    ("DELETE", "/api/v0/monitors/MON", None),
    ("POST", "/api/v0/monitoring/checks/report", {"reports": []}),
    ("PUT", "/api/v0/alerts/ALERT", {"memo": "x"}),
    ("POST", "/api/v0/alerts/ALERT/close", {"reason": "x"}),
    ("POST", "/api/v0/downtimes", {}),
    ("POST", "/api/v0/channels", {}),
    ("POST", "/api/v0/alert-group-settings", {}),
    ("PUT", "/api/v0/hosts/HOST/metadata/ns", {}),
    ("DELETE", "/api/v0/services/web/metadata/ns", None),
    ("POST", "/api/v0/graph-defs/create", []),
    ("DELETE", "/api/v0/graph-defs", {"name": "custom.x"}),
]


def test_unknown_key_is_401_with_mackerels_message(server: ServerHandle, org: OrgKeys) -> None:
    with client(server, "not-a-key") as c:
        response = c.get("/api/v0/hosts")
    assert response.status_code == 401
    assert response.json() == ERRORS["unauthorized"]


def test_missing_key_is_401(server: ServerHandle, org: OrgKeys) -> None:
    with client(server, None) as c:
        response = c.get("/api/v0/org")
    assert response.status_code == 401
    assert response.json() == ERRORS["unauthorized"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v0/nothing-here"), ("GET", "/api/v1/hosts"), ("DELETE", "/api/v0/hosts/X")],
)
def test_unknown_path_or_method_is_404_even_without_key(
    server: ServerHandle, method: str, path: str
) -> None:
    with client(server, None) as c:
        response = c.request(method, path)
    assert response.status_code == 404
    assert response.json() == ERRORS["unknown_path"]


def test_read_only_key_reads(ro: httpx.Client) -> None:
    response = ro.get("/api/v0/org")
    assert response.status_code == 200
    assert response.json() == load("org.json")["response"]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_read_only_key_cannot_write(
    ro: httpx.Client, sim: Simulator, method: str, path: str, body: object
) -> None:
    before = sim.dump_state()
    response = ro.request(method, path, json=body) if body is not None else ro.request(method, path)
    assert response.status_code == 403
    assert_matches(response.json(), ERRORS["any_error"])
    assert sim.dump_state() == before


def test_header_name_is_case_insensitive(server: ServerHandle, org: OrgKeys) -> None:
    with httpx.Client(base_url=server.url, trust_env=False, verify=SSL_CONTEXT) as c:
        response = c.get("/api/v0/org", headers={"X-API-KEY": org.rw_key})
    assert response.status_code == 200


def test_a_key_sees_only_its_own_organization(
    sim: Simulator, server: ServerHandle, org: OrgKeys
) -> None:
    other = sim.add_organization("globex")
    theirs = sim.add_host("globex", name="vm0100")
    with client(server, org.ro_key) as c:
        assert c.get(f"/api/v0/hosts/{theirs}").json() == ERRORS["host_not_found"]
        assert c.get("/api/v0/hosts").json() == {"hosts": []}
    with client(server, other.ro_key) as c:
        assert c.get("/api/v0/org").json()["name"] == "globex"
        assert [h["id"] for h in c.get("/api/v0/hosts").json()["hosts"]] == [theirs]
