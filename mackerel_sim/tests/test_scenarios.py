"""Scenarios: what each one does, and that a seed always plays the same way."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from mackerel_sim import SCENARIOS, Simulator
from mackerel_sim.tests.conftest import START
from mackerel_sim.tests.receiver import Receiver

ORGS = ["acme-prod", "globex", "initech"]


def world(seed: int, receiver: Receiver | None = None) -> Simulator:
    sim = Simulator(seed=seed, start_time=START, speed=0)
    sim.build_demo(ORGS, hosts_per_org=20)
    if receiver is not None:
        for org in ORGS:
            sim.add_webhook_channel(org, receiver.url)
    return sim


def alert_events(receiver: Receiver) -> list[tuple[str, str, bool]]:
    return [(p["orgName"], p["type"], p["alert"]["isOpen"]) for p in receiver.bodies("alert")]


def test_host_down_and_back(receiver: Receiver) -> None:
    with world(1, receiver) as sim:
        run = sim.run_scenario("host-down-up", org="globex", down_for=120, wait=True)
        assert (run.state, run.errors) == ("done", [])
        assert sim.wait_for_webhooks(5)
        assert alert_events(receiver) == [
            ("globex", "connectivity", True),
            ("globex", "connectivity", False),
        ]
        opened, closed = receiver.bodies("alert")
        assert closed["alert"]["closedAt"] - opened["alert"]["openedAt"] == 120


def test_flapping_monitor(receiver: Receiver) -> None:
    with world(1, receiver) as sim:
        run = sim.run_scenario("flapping", flaps=3, period=60, wait=True)
        assert run.errors == []
        assert sim.wait_for_webhooks(5)
        assert [is_open for _, kind, is_open in alert_events(receiver) if kind == "host"] == [
            True,
            False,
        ] * 3


def test_cron_check_failure(receiver: Receiver) -> None:
    with world(1, receiver) as sim:
        sim.run_scenario("cron-failure", recover_after=None, notification_interval=10, wait=True)
        sim.advance(600)  # still failing: re-notified
        assert sim.wait_for_webhooks(5)
        checks = [p for p in receiver.bodies("alert") if p["type"] == "check"]
        assert [c["alert"]["isOpen"] for c in checks] == [True, True]
        assert checks[0]["message"].startswith("command exited with code: 1")


def test_memo_change() -> None:
    with world(1) as sim:
        run = sim.run_scenario(
            "memo-change", org="initech", memo="新しいメモ / new memo", wait=True
        )
        host_id = run.plan[0].args["hostId"]
        assert sim.host("initech", host_id)["memo"] == "新しいメモ / new memo"


def test_hosts_registered_and_retired(receiver: Receiver) -> None:
    with world(1, receiver) as sim:
        run = sim.run_scenario("hosts-register-retire", org="acme-prod", count=3, wait=True)
        assert run.errors == []
        assert sim.wait_for_webhooks(5)
        registered = [p["host"]["name"] for p in receiver.bodies("hostRegister")]
        assert registered == [p["host"]["name"] for p in receiver.bodies("hostRetire")]
        assert registered == ["vm0061", "vm0062", "vm0063"]  # after the 60 demo hosts


def test_network_outage_across_organizations(receiver: Receiver) -> None:
    with world(1, receiver) as sim:
        run = sim.run_scenario(
            "network-outage", hosts=25, orgs=2, within=60, down_for=300, rate=500, wait=True
        )
        assert run.errors == []
        downs = [s for s in run.plan if s.action == "host_down"]
        assert len(downs) == 25 and len({s.org for s in downs}) == 2
        assert max(s.at for s in downs) <= 60
        assert sim.wait_for_webhooks(10)
        events = Counter(alert_events(receiver))
        opened = sum(
            n for (_, kind, is_open), n in events.items() if kind == "connectivity" and is_open
        )
        closed = sum(
            n for (_, kind, is_open), n in events.items() if kind == "connectivity" and not is_open
        )
        assert opened == closed == 25
        assert sim.sender.rate == 500


def test_the_outage_plays_in_real_time_at_the_chosen_speed(receiver: Receiver) -> None:
    with Simulator(seed=4, speed=120) as sim:
        sim.build_demo(
            ["acme-prod"], hosts_per_org=10, webhook_url=receiver.url, webhook_events=["alert"]
        )
        started = time.monotonic()
        run = sim.run_scenario("network-outage", hosts=5, within=30, down_for=60, recover_within=30)
        assert run.wait(timeout=10)
        assert 0.4 <= time.monotonic() - started < 3  # 60-90 simulated seconds at 120x
        assert sim.wait_for_webhooks(5)
        assert len(receiver.bodies("alert")) == 10


def test_demo_background_is_gentle() -> None:
    with world(1) as sim:
        run = sim.run_scenario("demo-background", every=600, duration=7200, wait=True)
        downs = [s for s in run.plan if s.action == "host_down"]
        assert 5 <= len(downs) <= 24
        assert sim.alerts("acme-prod", with_closed=False) == []  # every host came back


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_seed_same_plan_and_same_webhooks(name: str) -> None:
    def play(seed: int) -> tuple[list[dict[str, object]], list[object]]:
        with Receiver() as receiver, world(seed, receiver) as sim:
            params = {"duration": 3600} if name == "demo-background" else {}
            run = sim.run_scenario(name, wait=True, **params)
            assert run.errors == []
            assert sim.wait_for_webhooks(10)
            return [s.to_json() for s in run.plan], [r.body for r in receiver.received]

    first, again, other = play(7), play(7), play(8)
    assert first == again
    assert first[0] != other[0] or name == "every-event"


def test_unknown_scenarios_and_parameters_are_refused() -> None:
    with world(1) as sim:
        with pytest.raises(ValueError, match="unknown scenario"):
            sim.run_scenario("earthquake")
        with pytest.raises(ValueError, match="unknown parameters"):
            sim.run_scenario("host-down-up", magnitude=9)


def test_a_running_scenario_can_be_stopped() -> None:
    with Simulator(seed=1, speed=1) as sim:
        sim.build_demo(["acme-prod"], hosts_per_org=3)
        run = sim.run_scenario("host-down-up", down_for=3600)
        time.sleep(0.1)
        run.stop()
        assert run.wait(timeout=2)
        assert (run.state, run.applied) == ("stopped", 1)
