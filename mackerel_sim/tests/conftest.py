"""A fresh simulator per test, served over real HTTP, with clients for both keys."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from mackerel_sim import OrgKeys, ServerHandle, Simulator
from mackerel_sim.tests.receiver import Receiver

# Building an SSL context costs ~0.1 s per client; plain-HTTP clients can all share one.
SSL_CONTEXT = ssl.create_default_context()
# 2024-06-10T06:13:20Z: a fixed start, so timestamps are reproducible.
START = 1718000000


@pytest.fixture
def sim() -> Iterator[Simulator]:
    simulator = Simulator(seed=1, start_time=START, speed=0)
    yield simulator
    simulator.close()


@pytest.fixture
def org(sim: Simulator) -> OrgKeys:
    return sim.add_organization("acme-prod")


@pytest.fixture
def server(sim: Simulator) -> Iterator[ServerHandle]:
    handle = sim.serve(port=0)
    yield handle
    handle.stop()


def client(server: ServerHandle, key: str | None) -> httpx.Client:
    headers = {"X-Api-Key": key} if key is not None else {}
    # trust_env=False: never send loopback traffic through a proxy from the environment.
    return httpx.Client(
        base_url=server.url, headers=headers, trust_env=False, timeout=10, verify=SSL_CONTEXT
    )


@pytest.fixture
def rw(server: ServerHandle, org: OrgKeys) -> Iterator[httpx.Client]:
    with client(server, org.rw_key) as c:
        yield c


@pytest.fixture
def ro(server: ServerHandle, org: OrgKeys) -> Iterator[httpx.Client]:
    with client(server, org.ro_key) as c:
        yield c


@pytest.fixture
def admin(server: ServerHandle) -> Iterator[httpx.Client]:
    with client(server, None) as c:
        yield c


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r
