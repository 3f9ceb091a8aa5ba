"""The heartbeat and the figures reach the simulated Mackerel over HTTP, only when healthy."""

from __future__ import annotations

import socket
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from health import watch
from health.models import SelfCheck
from health.tests.canaries import beat_every_canary
from mackerel_sim import OrgKeys
from orgs import mackerel as api
from orgs.tests.simulated import SimulatedMackerel

pytestmark = pytest.mark.django_db


def _points(sim: SimulatedMackerel, keys: OrgKeys, name: str) -> list[float]:
    with api.MackerelClient(keys.rw_key, organization="ops", base_url=sim.url) as client:
        if name not in client.list_service_metric_names("tairyo"):
            return []
        now = timezone.now()
        points = client.get_service_metrics(
            "tairyo", name, start=now - timedelta(hours=1), end=now + timedelta(hours=1)
        )
    return [point.value for point in points]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_healthy_tairyo_posts_its_heartbeat_and_figures(
    mackerel: SimulatedMackerel, watcher: OrgKeys
) -> None:
    mackerel.sim.add_service(watcher.name, "tairyo")
    beat_every_canary()
    check = watch.heartbeat()
    assert check.healthy and check.problems == []
    assert check.posted_at is not None and check.post_error == ""
    assert _points(mackerel, watcher, "tairyo.heartbeat") == [1.0]
    assert _points(mackerel, watcher, "tairyo.receipts.pending") == [0.0]
    assert _points(mackerel, watcher, "tairyo.canary.age_seconds") != []


def test_a_stale_canary_holds_the_heartbeat_back_but_not_the_figures(
    mackerel: SimulatedMackerel, watcher: OrgKeys, client: Client
) -> None:
    mackerel.sim.add_service(watcher.name, "tairyo")
    beat_every_canary()
    with time_machine.travel(timedelta(minutes=5)):
        check = watch.heartbeat()
    assert not check.healthy
    assert check.posted_at is None
    assert _points(mackerel, watcher, "tairyo.heartbeat") == []
    assert _points(mackerel, watcher, "tairyo.canary.age_seconds")[0] >= 300
    # The reason is on /healthz for the operator (and in the admin for staff).
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["heartbeat"]["healthy"] is False
    assert body["heartbeat"]["problems"][0].startswith("the canary last ran 30")


def test_a_mackerel_that_does_not_answer_breaks_nothing(watcher: OrgKeys, settings: Any) -> None:
    settings.MACKEREL_API_URL = f"http://127.0.0.1:{_closed_port()}"
    beat_every_canary()
    check = watch.heartbeat()
    assert check.healthy
    assert check.posted_at is None
    assert check.post_error


def test_an_unknown_service_is_a_recorded_error(watcher: OrgKeys) -> None:
    beat_every_canary()
    check = watch.heartbeat()
    assert check.posted_at is None
    assert check.post_error


def test_without_a_key_nothing_is_posted_and_the_verdict_is_kept(
    mackerel: SimulatedMackerel, settings: Any
) -> None:
    settings.TAIRYO_SELF_MACKEREL_API_KEY = ""
    beat_every_canary()
    check = watch.heartbeat()
    assert check.healthy and check.posted_at is None and check.post_error == ""
    assert mackerel.sim.requests() == []
    assert SelfCheck.objects.count() == 1


def test_create_self_monitor_creates_the_service_and_monitor_once(
    mackerel: SimulatedMackerel, watcher: OrgKeys, settings: Any
) -> None:
    out = StringIO()
    call_command("create_self_monitor", stdout=out)
    assert "created service tairyo" in out.getvalue()
    assert "created monitor" in out.getvalue()
    (monitor,) = mackerel.sim.monitors(watcher.name)
    assert monitor["type"] == "service"
    assert monitor["service"] == "tairyo"
    assert monitor["metric"] == "tairyo.heartbeat"
    assert monitor["missingDurationCritical"] == 10

    out = StringIO()
    call_command("create_self_monitor", stdout=out)
    assert out.getvalue().startswith(f"unchanged monitor {monitor['id']}")

    settings.TAIRYO_SELF_MONITOR_MISSING_MINUTES = 30
    out = StringIO()
    call_command("create_self_monitor", stdout=out)
    assert out.getvalue().startswith(f"updated monitor {monitor['id']}")
    (monitor,) = mackerel.sim.monitors(watcher.name)
    assert monitor["missingDurationCritical"] == 30


def test_create_self_monitor_needs_the_key(settings: Any) -> None:
    settings.TAIRYO_SELF_MACKEREL_API_KEY = ""
    with pytest.raises(CommandError, match="TAIRYO_SELF_MACKEREL_API_KEY"):
        call_command("create_self_monitor")


def test_the_monitor_alerts_when_the_heartbeat_stops_and_recovers_when_it_returns(
    mackerel: SimulatedMackerel, watcher: OrgKeys
) -> None:
    """The simulator's interruption detection, driven by Tairyo's own posts (frozen clock)."""
    call_command("create_self_monitor", stdout=StringIO())
    sim = mackerel.sim
    start = sim.now()
    beat_every_canary()
    with time_machine.travel(start, tick=False):
        assert watch.heartbeat().healthy
    sim.advance(9 * 60)
    sim.tick()
    assert sim.alerts(watcher.name, with_closed=False) == []
    sim.advance(60)
    sim.tick()
    (alert,) = sim.alerts(watcher.name, with_closed=False)
    assert (alert["type"], alert["status"]) == ("service", "CRITICAL")
    beat_every_canary()
    with time_machine.travel(sim.now(), tick=False):
        beat_every_canary()
        assert watch.heartbeat().healthy
    assert sim.alerts(watcher.name, with_closed=False) == []
