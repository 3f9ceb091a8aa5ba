from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mackerel_sim import OrgKeys
from orgs.tests.simulated import SimulatedMackerel, mackerel

__all__ = ["mackerel", "watcher"]

WATCHER = "tairyo-ops"


@pytest.fixture
def watcher(mackerel: SimulatedMackerel, settings: Any) -> Iterator[OrgKeys]:
    """The operator's own Mackerel organization in the simulator, with Tairyo's settings
    pointing the heartbeat at it."""
    keys = mackerel.sim.add_organization(WATCHER, default_monitors=False)
    settings.TAIRYO_SELF_MACKEREL_API_KEY = keys.rw_key
    settings.TAIRYO_SELF_MACKEREL_SERVICE = "tairyo"
    yield keys
