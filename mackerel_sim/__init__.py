"""A standalone, faithful simulator of Mackerel's HTTP API and webhooks (stdlib only).

    from mackerel_sim import Simulator
    sim = Simulator(seed=1)
    org = sim.add_organization("acme-prod")
    with sim.serve(port=0) as server:
        ...  # point any Mackerel client at server.url with org.rw_key

See docs/mackerel-simulator.md.
"""

from __future__ import annotations

from mackerel_sim.errors import ApiError
from mackerel_sim.scenarios import SCENARIOS, ScenarioRun
from mackerel_sim.sender import Delivery
from mackerel_sim.server import ServerHandle
from mackerel_sim.simulator import OrgKeys, Simulator

__all__ = [
    "SCENARIOS",
    "ApiError",
    "Delivery",
    "OrgKeys",
    "ScenarioRun",
    "ServerHandle",
    "Simulator",
]
