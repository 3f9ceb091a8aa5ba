"""Webhooks: payloads as documented, when they are sent and how deliveries behave (§9)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mackerel_sim import OrgKeys, Simulator
from mackerel_sim.tests.conftest import START
from mackerel_sim.tests.matching import assert_matches, load
from mackerel_sim.tests.receiver import Receiver

HOOKS = load("webhooks.json")
MONITORS = load("monitors.json")
ORG = "example-org"


@pytest.fixture
def org(sim: Simulator) -> OrgKeys:
    keys = sim.add_organization(ORG)
    sim.add_service(ORG, "Billing")
    sim.add_role(ORG, "Billing", "cron")
    return keys


def _delivered(
    sim: Simulator, receiver: Receiver, event: str | None = None
) -> list[dict[str, Any]]:
    assert sim.wait_for_webhooks(5)
    return receiver.bodies(event)


def test_connectivity_alert_open_and_close(
    sim: Simulator, org: OrgKeys, receiver: Receiver
) -> None:
    host_id = sim.add_host(ORG, name="vm0001", roles={"Billing": ["cron"]})
    sim.add_webhook_channel(ORG, receiver.url)
    sim.host_down(ORG, host_id)
    sim.advance(300)
    sim.host_up(ORG, host_id)
    opened, closed = _delivered(sim, receiver, "alert")
    assert opened["type"] == "connectivity" and opened["message"] == "unreachable"
    assert opened["alert"]["status"] == "critical" and opened["alert"]["isOpen"] is True
    assert opened["alert"]["closedAt"] is None
    assert opened["alert"]["createdAt"] == START * 1000  # milliseconds, unlike every other time
    assert opened["alert"]["openedAt"] == START
    assert opened["host"]["roles"][0]["fullname"] == "Billing: cron"
    assert opened["user"] is None and opened["alert"]["trigger"] == "monitor"
    assert closed["alert"]["status"] == "ok" and closed["alert"]["isOpen"] is False
    assert closed["alert"]["closedAt"] == START + 300
    assert closed["alert"]["id"] == opened["alert"]["id"]


def test_check_alert_matches_the_documented_example(
    sim: Simulator, org: OrgKeys, receiver: Receiver
) -> None:
    host_id = sim.add_host(ORG, name="batch01.example.internal", roles={"Billing": ["cron"]})
    sim.add_webhook_channel(ORG, receiver.url, ["alert"])
    report = load("check_report.json")["request"]["reports"][0]
    sim.report_checks(
        ORG, [{**report, "source": {"type": "host", "hostId": host_id}, "occurredAt": START}]
    )
    [payload] = _delivered(sim, receiver)
    assert_matches(payload, HOOKS["alert_check_open"])
    assert payload["host"]["url"] == f"https://mackerel.io/orgs/{ORG}/hosts/{host_id}"
    assert (
        payload["alert"]["url"] == f"https://mackerel.io/orgs/{ORG}/alerts/{payload['alert']['id']}"
    )


def test_manual_close_matches_the_documented_example(
    sim: Simulator, org: OrgKeys, receiver: Receiver
) -> None:
    host_id = sim.add_host(ORG, name="db01")
    monitor_id = sim.add_monitor(
        ORG, {**MONITORS["host"]["request"], "scopes": [], "excludeScopes": []}
    )
    sim.add_webhook_channel(ORG, receiver.url, ["alert"], enabled_graph_image=True)
    alert_id = sim.open_alert(ORG, monitor_id, host_id=host_id, value=85.2, status="WARNING")
    sim.advance(900)
    sim.close_alert(ORG, alert_id, reason="disk cleaned", user="alice@example.com")
    opened, closed = _delivered(sim, receiver)
    assert opened["message"] == "disk usage 85.2 > 80" and opened["alert"]["metricValue"] == 85.2
    assert_matches(closed, HOOKS["alert_host_manual_close"])
    assert str(closed["imageUrl"]).startswith("https://mackerel.io/embed/public/alert/")


def test_service_alert_carries_the_service(
    sim: Simulator, org: OrgKeys, receiver: Receiver
) -> None:
    monitor_id = sim.add_monitor(ORG, MONITORS["service"]["request"])
    sim.add_webhook_channel(ORG, receiver.url, ["alert"])
    sim.open_alert(ORG, monitor_id, value=0.5)
    [payload] = _delivered(sim, receiver)
    assert_matches(payload["service"], HOOKS["service_object"])
    assert "host" not in payload
    assert (
        payload["alert"]["metricValue"] == 0.5 and payload["message"] == "tairyo.heartbeat 0.5 < 1"
    )


def test_host_events_match_the_documented_examples(
    sim: Simulator, org: OrgKeys, receiver: Receiver
) -> None:
    sim.add_webhook_channel(ORG, receiver.url)
    host_id = sim.add_host(ORG, name="batch01")
    sim.set_host_status(ORG, host_id, "maintenance", user="alice@example.com")
    sim.retire_host(ORG, host_id)
    register, status, retire = _delivered(sim, receiver)
    assert_matches(register, HOOKS["host_register"])
    assert_matches(status, HOOKS["host_status"])
    assert_matches(retire, HOOKS["host_retire"])


def test_monitor_events_and_sample(sim: Simulator, org: OrgKeys, receiver: Receiver) -> None:
    sim.add_webhook_channel(
        ORG, receiver.url, ["monitorUpdate"]
    )  # per-event names fold into "monitor"
    body = {**MONITORS["host"]["request"], "memo": "", "excludeScopes": []}
    monitor_id = sim.add_monitor(ORG, body)
    sim.update_monitor(ORG, monitor_id, body, user="alice@example.com")
    sim.delete_monitor(ORG, monitor_id)
    sim.send_sample(ORG)
    create, update, delete, sample = _delivered(sim, receiver)
    assert [create["event"], delete["event"]] == ["monitorCreate", "monitorDelete"]
    assert_matches(update, HOOKS["monitor_update"])
    assert sample == HOOKS["sample"]


def test_alert_groups_replace_individual_alerts_on_their_channels(
    sim: Simulator, org: OrgKeys, receiver: Receiver
) -> None:
    host_id = sim.add_host(ORG, name="batch01", roles={"Billing": ["cron"]})
    monitor_id = sim.add_monitor(
        ORG, {"type": "host", "name": "load", "metric": "loadavg5", "operator": ">", "critical": 1}
    )
    sim.add_alert_group_setting(ORG, {"name": "Billing cron jobs", "roleScopes": ["Billing:cron"]})
    with Receiver() as plain:
        sim.add_webhook_channel(ORG, receiver.url, ["alert", "alertGroup"])
        sim.add_webhook_channel(ORG, plain.url, ["alert"])
        alert_id = sim.open_alert(ORG, monitor_id, host_id=host_id, value=3)
        sim.close_alert(ORG, alert_id, manual=False)
        grouped = _delivered(sim, receiver)
        assert [p["event"] for p in grouped] == ["alertGroup", "alertGroup"]
        assert_matches(grouped[0], HOOKS["alert_group"])
        assert (grouped[1]["alertGroup"]["status"], grouped[1]["alertGroup"]["closedAt"]) == (
            "OK",
            START,
        )
        assert [p["alert"]["isOpen"] for p in plain.bodies()] == [True, False]


def test_renotification_follows_the_notification_interval(
    sim: Simulator, org: OrgKeys, receiver: Receiver
) -> None:
    host_id = sim.add_host(ORG, name="vm0001")
    monitor_id = sim.add_monitor(
        ORG, {"type": "connectivity", "name": "ping", "notificationInterval": 10}
    )
    sim.delete_monitor(ORG, next(m["id"] for m in sim.monitors(ORG) if m["name"] == "connectivity"))
    sim.add_webhook_channel(ORG, receiver.url, ["alert"])
    sim.host_down(ORG, host_id)
    sim.advance(599)
    assert len(_delivered(sim, receiver)) == 1
    sim.advance(1)
    sim.advance(600)
    sent = _delivered(sim, receiver)
    assert len(sent) == 3
    assert {p["alert"]["id"] for p in sent} == {sent[0]["alert"]["id"]}
    assert all(p["alert"]["isOpen"] for p in sent)
    assert sim.alerts(ORG)[0]["monitorId"] == monitor_id


def test_a_fast_clock_makes_renotification_fast(receiver: Receiver) -> None:
    with Simulator(seed=2, speed=1200, tick_interval=0.05) as fast:
        fast.add_organization(ORG, default_monitors=False)
        host_id = fast.add_host(ORG, name="vm0001")
        fast.add_monitor(ORG, {"type": "connectivity", "notificationInterval": 10})
        fast.add_webhook_channel(ORG, receiver.url, ["alert"])
        fast.start()
        fast.host_down(ORG, host_id)
        assert len(receiver.wait_for(3, timeout=5)) >= 3  # 10 simulated minutes = 0.5 s


def test_muted_standby_and_downtime_send_nothing(
    sim: Simulator, org: OrgKeys, receiver: Receiver
) -> None:
    muted_monitor = sim.add_monitor(
        ORG,
        {
            "type": "expression",
            "name": "m",
            "expression": "1",
            "operator": ">",
            "critical": 0,
            "isMute": True,
        },
    )
    standby = sim.add_host(ORG, name="vm-standby", status="standby")
    in_downtime = sim.add_host(ORG, name="vm-dt", roles={"Billing": ["cron"]})
    sim.add_downtime(
        ORG, {"name": "patching", "start": START - 60, "duration": 60, "serviceScopes": ["Billing"]}
    )
    sim.add_webhook_channel(ORG, receiver.url, ["alert"])
    sim.open_alert(ORG, muted_monitor, value=1)
    sim.host_down(ORG, standby)
    sim.host_down(ORG, in_downtime)
    assert len(sim.alerts(ORG, with_closed=False)) == 3  # alerts open, notifications do not
    assert _delivered(sim, receiver) == []
    sim.advance(3600)  # the downtime is over: the next change is notified again
    sim.host_up(ORG, in_downtime)
    assert [p["host"]["name"] for p in _delivered(sim, receiver)] == ["vm-dt"]


def test_recurring_downtime(sim: Simulator, org: OrgKeys, receiver: Receiver) -> None:
    host_id = sim.add_host(ORG, name="vm0001")
    daily = {"type": "daily", "interval": 1}
    sim.add_downtime(
        ORG, {"name": "nightly", "start": START - 86400 * 3, "duration": 30, "recurrence": daily}
    )
    sim.add_webhook_channel(ORG, receiver.url, ["alert"])
    sim.host_down(ORG, host_id)
    assert _delivered(sim, receiver) == []
    sim.advance(1800)
    sim.host_up(ORG, host_id)
    assert len(_delivered(sim, receiver)) == 1


def test_channel_events_filter_what_is_sent(
    sim: Simulator, org: OrgKeys, receiver: Receiver
) -> None:
    host_id = sim.add_host(ORG, name="vm0001")
    sim.add_webhook_channel(ORG, receiver.url, ["hostStatus"])
    sim.host_down(ORG, host_id)
    sim.set_host_status(ORG, host_id, "standby")
    assert [p["event"] for p in _delivered(sim, receiver)] == ["hostStatus"]


def test_basic_auth_from_the_url(sim: Simulator, org: OrgKeys, receiver: Receiver) -> None:
    sim.add_webhook_channel(ORG, receiver.url.replace("http://", "http://tairyo:p%40ss@"))
    sim.send_sample(ORG)
    assert sim.wait_for_webhooks(5)
    [received] = receiver.received
    expected = "Basic " + base64.b64encode(b"tairyo:p@ss").decode()
    assert received.headers["Authorization"] == expected
    assert received.headers["Content-Type"] == "application/json"


def test_deliveries_are_recorded_including_failures(
    sim: Simulator, org: OrgKeys, receiver: Receiver
) -> None:
    receiver.behaviour.status = 500
    good = sim.add_webhook_channel(ORG, receiver.url)
    dead = sim.add_webhook_channel(ORG, "http://127.0.0.1:9/nowhere")
    sim.send_sample(ORG)
    assert sim.wait_for_webhooks(10)
    [failed] = sim.deliveries(channel_id=good)
    assert (failed.url, failed.status, failed.event, failed.ok) == (
        receiver.url,
        500,
        "sample",
        False,
    )
    assert failed.payload == HOOKS["sample"] and failed.response_body == "ok"
    [unreachable] = sim.deliveries(channel_id=dead)
    assert unreachable.status is None and unreachable.error


@pytest.fixture
def strict() -> Iterator[Simulator]:
    with Simulator(
        seed=3,
        start_time=START,
        speed=0,
        webhook_retries=2,
        webhook_retry_delay=0.01,
        suspend_after=5,
    ) as s:
        s.add_organization(ORG)
        yield s


def test_retries_and_suspension(strict: Simulator, receiver: Receiver) -> None:
    receiver.behaviour.status = 503
    channel = strict.add_webhook_channel(ORG, receiver.url)
    strict.send_sample(ORG)
    assert strict.wait_for_webhooks(5)
    assert [d.attempt for d in strict.deliveries()] == [1, 2, 3]
    strict.send_sample(ORG)
    assert strict.wait_for_webhooks(5)
    assert strict.channel(ORG, channel)["suspendedAt"] == START  # five failures in a row
    strict.send_sample(ORG)
    assert strict.wait_for_webhooks(5)
    assert len(strict.deliveries()) == 5  # nothing sent to a suspended channel


def test_sending_never_blocks_the_api(
    sim: Simulator, org: OrgKeys, receiver: Receiver, rw: httpx.Client
) -> None:
    receiver.behaviour.delay = 0.6
    sim.add_webhook_channel(ORG, receiver.url)
    host_id = sim.add_host(ORG, name="vm0001")
    started = time.monotonic()
    for status in ("standby", "working", "standby"):
        assert (
            rw.post(f"/api/v0/hosts/{host_id}/status", json={"status": status}).status_code == 200
        )
    assert time.monotonic() - started < 0.5  # one blocked call alone would take 0.6 s
    receiver.behaviour.delay = 0
    assert len(receiver.wait_for(1, timeout=5)) >= 1


def test_sending_rate_is_controllable(sim: Simulator, org: OrgKeys, receiver: Receiver) -> None:
    sim.add_webhook_channel(ORG, receiver.url)
    sim.set_webhook_rate(20)
    started = time.monotonic()
    for _ in range(10):
        sim.send_sample(ORG)
    assert sim.wait_for_webhooks(5)
    assert time.monotonic() - started >= 0.4  # 10 at 20/s: the last leaves after 0.45 s
    sim.set_webhook_rate(None)


def test_a_shorter_interval_applies_to_open_alerts(
    sim: Simulator, org: OrgKeys, receiver: Receiver
) -> None:
    host_id = sim.add_host(ORG, name="vm0001")
    connectivity = next(m for m in sim.monitors(ORG) if m["type"] == "connectivity")
    body = {k: v for k, v in connectivity.items() if k != "id"}
    sim.update_monitor(ORG, connectivity["id"], {**body, "notificationInterval": 120})
    sim.add_webhook_channel(ORG, receiver.url, ["alert"])
    sim.host_down(ORG, host_id)
    sim.update_monitor(ORG, connectivity["id"], {**body, "notificationInterval": 10})
    sim.advance(600)
    assert len(_delivered(sim, receiver)) == 2
