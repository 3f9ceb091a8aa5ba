"""End to end: real workers post heartbeats to the simulated Mackerel over HTTP; when every
worker stops, the heartbeat stops and the monitor made by create_self_monitor opens an alert."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from health import tasks
from mackerel_sim import OrgKeys, ServerHandle, Simulator
from orgs import mackerel

OPS = "tairyo-ops"


@pytest.fixture
def live_mackerel(settings: Any) -> Iterator[tuple[Simulator, ServerHandle, OrgKeys]]:
    """The simulator on real time (speed 1): Tairyo's timestamps are the simulator's."""
    sim = Simulator(seed=5)
    server = sim.serve(port=0)
    keys = sim.add_organization(OPS, default_monitors=False)
    settings.MACKEREL_API_URL = server.url
    settings.TAIRYO_SELF_MACKEREL_API_KEY = keys.rw_key
    yield sim, server, keys
    sim.close()


def _heartbeats(server: ServerHandle, keys: OrgKeys) -> list[int]:
    with mackerel.MackerelClient(keys.ro_key, organization=OPS, base_url=server.url) as client:
        if "tairyo.heartbeat" not in client.list_service_metric_names("tairyo"):
            return []
        now = timezone.now()
        points = client.get_service_metrics(
            "tairyo", "tairyo.heartbeat", start=now - timedelta(hours=1), end=now
        )
    return [int(point.time.timestamp()) for point in points]


def _beat_for(seconds: float, until: Callable[[], bool] = lambda: False) -> None:
    """What beat does, at one-second intervals: a canary on each watched queue, then the
    heartbeat task."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():
        for queue in settings.TAIRYO_CANARY_QUEUES:
            tasks.canary.apply_async((queue,), queue=queue)
        tasks.heartbeat.delay()
        time.sleep(1)


@pytest.mark.slow
def test_mackerel_alerts_when_every_worker_stops(
    start_worker: Callable[..., subprocess.Popen[bytes]],
    live_mackerel: tuple[Simulator, ServerHandle, OrgKeys],
    redis_client: Any,
) -> None:
    sim, server, keys = live_mackerel
    out = StringIO()
    call_command("create_self_monitor", stdout=out)
    assert "created monitor" in out.getvalue()
    (monitor,) = sim.monitors(OPS)

    worker = start_worker(MACKEREL_API_URL=server.url, TAIRYO_SELF_MACKEREL_API_KEY=keys.rw_key)
    _beat_for(60, until=lambda: len(_heartbeats(server, keys)) >= 3)
    assert len(_heartbeats(server, keys)) >= 3, "no heartbeats reached Mackerel"
    assert sim.alerts(OPS, with_closed=True) == []

    worker.terminate()
    worker.wait(timeout=30)
    before = _heartbeats(server, keys)
    _beat_for(4)  # beat carries on; nobody takes the tasks
    assert _heartbeats(server, keys) == before, "a heartbeat arrived with no worker running"

    # Ten minutes of silence pass on Mackerel's side (interruption detection counts minutes).
    sim.advance(monitor["missingDurationCritical"] * 60)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not sim.alerts(OPS, with_closed=False):
        time.sleep(0.2)
    (alert,) = sim.alerts(OPS, with_closed=False)
    assert (alert["type"], alert["status"], alert["monitorId"]) == (
        "service",
        "CRITICAL",
        monitor["id"],
    )
