"""Fault injection per organization: latency, forced errors, rate limiting."""

from __future__ import annotations

import time

import httpx

from mackerel_sim import OrgKeys, ServerHandle, Simulator
from mackerel_sim.tests.conftest import START, client
from mackerel_sim.tests.matching import assert_matches, load

ERRORS = load("errors.json")
ORG = "acme-prod"


def test_latency(sim: Simulator, ro: httpx.Client) -> None:
    sim.inject(ORG, latency=0.3)
    started = time.monotonic()
    assert ro.get("/api/v0/org").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_forced_status_for_n_requests(sim: Simulator, ro: httpx.Client) -> None:
    sim.inject(ORG, status=503, count=3)
    statuses = [ro.get("/api/v0/hosts").status_code for _ in range(5)]
    assert statuses == [503, 503, 503, 200, 200]
    assert sim.faults(ORG)["injected"] == 3


def test_forced_errors_have_mackerels_error_body(sim: Simulator, ro: httpx.Client) -> None:
    sim.inject(ORG, status=500, count=1)
    response = ro.get("/api/v0/hosts")
    assert response.status_code == 500
    assert_matches(response.json(), ERRORS["any_error"])


def test_forced_errors_change_nothing(sim: Simulator, rw: httpx.Client) -> None:
    sim.inject(ORG, status=503, count=1)
    assert rw.post("/api/v0/services", json={"name": "web"}).status_code == 503
    assert rw.get("/api/v0/services").json() == {"services": []}


def test_a_fraction_of_requests_fails_reproducibly(server: ServerHandle) -> None:
    def run() -> list[int]:
        with Simulator(seed=5, start_time=START, speed=0) as sim:
            keys = sim.add_organization(ORG)
            sim.inject(ORG, status=500, fraction=0.3)
            handle = sim.serve()
            try:
                with client(handle, keys.ro_key) as c:
                    return [c.get("/api/v0/org").status_code for _ in range(40)]
            finally:
                handle.stop()

    first, second = run(), run()
    assert first == second
    assert 4 <= first.count(500) <= 20


def test_rate_limit_answers_429_with_retry_after(sim: Simulator, ro: httpx.Client) -> None:
    sim.inject(ORG, rate_limit=3, rate_limit_window=1.0, rate_limit_retry_after=2)
    responses = [ro.get("/api/v0/org") for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    assert responses[3].headers["Retry-After"] == "2"
    assert_matches(responses[3].json(), ERRORS["any_error"])
    time.sleep(1.05)
    assert ro.get("/api/v0/org").status_code == 200


def test_forced_429_carries_retry_after(sim: Simulator, ro: httpx.Client) -> None:
    sim.inject(ORG, status=429, count=1, rate_limit_retry_after=7)
    response = ro.get("/api/v0/org")
    assert (response.status_code, response.headers["Retry-After"]) == (429, "7")


def test_faults_stay_in_their_organization_and_path(
    sim: Simulator, server: ServerHandle, ro: httpx.Client
) -> None:
    other: OrgKeys = sim.add_organization("globex")
    sim.inject(ORG, status=503, path_prefix="/api/v0/alerts")
    assert ro.get("/api/v0/alerts").status_code == 503
    assert ro.get("/api/v0/hosts").status_code == 200
    with client(server, other.ro_key) as c:
        assert c.get("/api/v0/alerts").status_code == 200
    sim.clear_faults(ORG)
    assert ro.get("/api/v0/alerts").status_code == 200


def test_unknown_keys_are_not_affected(sim: Simulator, server: ServerHandle, org: OrgKeys) -> None:
    sim.inject(ORG, status=503)
    with client(server, "nope") as c:
        assert c.get("/api/v0/org").status_code == 401
