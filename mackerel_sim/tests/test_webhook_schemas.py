"""Every kind of webhook the simulator sends validates against the shared JSON Schemas.

The schemas are stricter than Mackerel's contract. Their README lists exactly what to relax
(newer documented fields, any number for metric values and thresholds, the documented trigger
values, optional notificationInterval); `relax()` applies those relaxations one field at a time
and nothing else, so any other deviation still fails.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mackerel_sim import Simulator
from mackerel_sim.tests.conftest import START
from mackerel_sim.tests.matching import load
from mackerel_sim.tests.receiver import Receiver

SCHEMAS = Path(
    os.environ.get(
        "MACKEREL_WEBHOOK_SCHEMAS",
        Path(__file__).resolve().parents[3] / "shared" / "mackerel-webhook-schemas",
    )
)
SCHEMA_FOR_EVENT = {
    "alert": "alert.json",
    "alertGroup": "alertgroup.json",
    "hostStatus": "host-status.json",
    "hostRegister": "host-register.json",
    "hostRetire": "host-retire.json",
    "monitorCreate": "monitor-create.json",
    "monitorUpdate": "monitor-update.json",
    "monitorDelete": "monitor-delete.json",
    "sample": "sample.json",
}
# README, third point: every trigger the documentation lists (mackerel-api.md §7.2, §9.3).
DOCUMENTED_TRIGGERS = [
    "monitor",
    "monitoring",
    "manual close",
    "delete monitor",
    "retire host",
    "delete service",
    "anomaly detection manually retraining",
    "attach external monitoring to a different service",
    "manual",
    "monitorDelete",
    "hostRetire",
]
# README, first point: fields documented after the schemas were captured (mackerel-api.md).
NEWER_ALERT_FIELDS = {"statusChangedAt": {"type": "integer"}}  # §9.3, documented since 2025
QUERY_SERIES = {  # §7.1 and §9.4: a query monitor's alert names its series
    "type": "object",
    "properties": {"name": {"type": "string"}, "labels": {"type": "object"}},
    "required": ["name", "labels"],
}
NEWER_MONITOR_FIELDS = {  # §6.2
    "alertStatusOnGone": {"enum": ["CRITICAL", "WARNING"]},  # absent from monitor-delete.json only
    "expectedStatusCode": {"type": "integer"},
    "dualstack": {"enum": ["ipv4", "ipv6", "auto"]},
    "trainingPeriodFrom": {"type": "integer"},
    "evaluateBackwardMinutes": {"type": "integer"},
    "query": {"type": "string"},
    "legend": {"type": "string"},
}
ALERT_NUMBERS = ("metricValue", "criticalThreshold", "warningThreshold")
MONITOR_NUMBERS = ("warning", "critical", "responseTimeWarning", "responseTimeCritical")


def raw_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return schema


def _relax_alert(schema: dict[str, Any]) -> None:
    alert = schema["properties"]["alert"]["properties"]
    for key, sub in NEWER_ALERT_FIELDS.items():
        assert key not in alert
        alert[key] = sub
    schema["properties"]["series"] = QUERY_SERIES
    schema["definitions"]["type"]["enum"].append("query")
    for key in ALERT_NUMBERS:
        assert alert[key]["type"] == "integer"
        alert[key]["type"] = "number"
    alert["trigger"]["enum"] = DOCUMENTED_TRIGGERS


def _relax_monitor(name: str, schema: dict[str, Any]) -> None:
    monitor = schema["properties"]["monitor"]
    for key in MONITOR_NUMBERS:
        assert monitor["properties"][key]["type"] == "integer"
        monitor["properties"][key]["type"] = "number"
    for key, sub in NEWER_MONITOR_FIELDS.items():
        monitor["properties"].setdefault(key, sub)
    monitor["properties"]["type"]["enum"].append("query")
    if name == "monitor-create.json":
        monitor["required"].remove("notificationInterval")


def relax(name: str) -> dict[str, Any]:
    """The schema with exactly the README's relaxations applied, field by field."""
    schema = copy.deepcopy(raw_schema(name))
    if name == "alert.json":
        _relax_alert(schema)
    elif name.startswith("monitor-"):
        _relax_monitor(name, schema)
    return schema


def validator(name: str) -> jsonschema.protocols.Validator:
    schema = relax(name)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def errors_of(payload: dict[str, Any]) -> list[str]:
    found = validator(SCHEMA_FOR_EVENT[payload["event"]]).iter_errors(payload)
    return [f"{list(e.absolute_path)}: {e.message}" for e in found]


# No skip when the schemas are missing: a check that silently does not run is no check.


@pytest.mark.parametrize("name", sorted(set(SCHEMA_FOR_EVENT.values())))
def test_relaxed_schemas_accept_every_captured_example(name: str) -> None:
    for example in raw_schema(name).get("examples", []):
        assert errors_of(example) == []


def test_relaxations_are_needed() -> None:
    """Without them, documented payloads fail: the relaxations are not decoration."""
    strict = raw_schema("alert.json")
    payload = raw_schema("alert.json")["examples"][0]
    payload["alert"]["statusChangedAt"] = payload["alert"]["openedAt"]
    assert not jsonschema.Draft201909Validator(strict).is_valid(payload)
    assert errors_of(payload) == []


def _closing_triggers(sim: Simulator) -> None:
    """Alerts closed by retiring their host, deleting their monitor and their service."""
    org = "acme-prod"
    host_id = sim.add_host(org, name="vm9000", roles={"Billing": ["cron"]})
    sim.host_down(org, host_id)
    sim.retire_host(org, host_id)
    monitor = {"type": "expression", "name": "x", "expression": "1", "operator": ">", "critical": 0}
    monitor_id = sim.add_monitor(org, monitor)
    sim.open_alert(org, monitor_id, value=1)
    sim.delete_monitor(org, monitor_id)
    service_monitor = {**load("monitors.json")["service"]["request"], "service": "Billing"}
    sim.open_alert(org, sim.add_monitor(org, service_monitor), value=0)
    sim.delete_service(org, "Billing")


def _every_webhook(sim: Simulator, url: str) -> None:
    """Drive the simulator through every event type and every monitor type."""
    sim.build_demo(["acme-prod"], hosts_per_org=6)
    sim.add_webhook_channel("acme-prod", url)
    run = sim.run_scenario("every-event", org="acme-prod", wait=True)
    assert run.errors == []
    sim.add_service("acme-prod", "Billing")
    sim.add_role("acme-prod", "Billing", "cron")
    for kind, spec in load("monitors.json").items():
        if kind.startswith("_"):
            continue
        monitor_id = sim.add_monitor("acme-prod", spec["request"])
        sim.update_monitor("acme-prod", monitor_id, spec["request"], user="alice@example.com")
        sim.delete_monitor("acme-prod", monitor_id)
    for run_name in ("flapping", "cron-failure", "hosts-register-retire", "network-outage"):
        assert sim.run_scenario(run_name, wait=True).errors == []
    _closing_triggers(sim)


def test_every_webhook_the_simulator_sends_validates(receiver: Receiver) -> None:
    with Simulator(seed=11, start_time=START, speed=0) as sim:
        _every_webhook(sim, receiver.url)
        assert sim.wait_for_webhooks(20)
    payloads = receiver.bodies()
    failures = {
        json.dumps(p, ensure_ascii=False)[:300]: errors_of(p) for p in payloads if errors_of(p)
    }
    assert failures == {}
    events = {p["event"] for p in payloads}
    assert events == set(SCHEMA_FOR_EVENT)
    alert_types = {p["type"] for p in payloads if p["event"] == "alert"}
    assert alert_types == {
        "connectivity",
        "host",
        "service",
        "external",
        "check",
        "expression",
        "anomalyDetection",
        "query",
    }
    triggers = {p["alert"]["trigger"] for p in payloads if p["event"] == "alert"}
    assert triggers == {
        "monitor",
        "manual close",
        "retire host",
        "delete monitor",
        "delete service",
    }
