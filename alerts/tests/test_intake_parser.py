"""The webhook parser: every real payload understood, anything else refused with a reason."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts import intake
from alerts.tests import payloads

EXAMPLES = payloads.captured_examples()


@pytest.mark.parametrize(("name", "example"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_every_captured_example_is_understood(name: str, example: dict[str, Any]) -> None:
    event = intake.parse_payload(example)
    assert not isinstance(event, intake.UnknownEvent), name
    if example["event"] != "sample":
        assert event.org_name == "MY_ORG"  # type: ignore[union-attr]


def test_captured_examples_cover_every_event_type() -> None:
    assert {example["event"] for _, example in EXAMPLES} >= {
        "alert", "alertGroup", "hostStatus", "hostRegister", "hostRetire",
        "monitorCreate", "monitorUpdate", "monitorDelete", "sample",
    }  # fmt: skip


def test_alert_fields_are_read_with_their_documented_units() -> None:
    event = intake.parse_payload(payloads.alert(value=85.25))
    assert isinstance(event, intake.AlertEvent)
    alert = event.alert
    assert alert.id == "3k73ZJscVcW"
    assert alert.status == "critical"
    assert alert.opened_at == datetime.fromtimestamp(payloads.T0, tz=UTC)
    assert alert.status_changed_at == alert.opened_at
    assert alert.closed_at is None
    assert alert.metric_value == 85.25
    assert alert.warning_threshold == 80.5
    assert event.host is not None
    assert event.host.roles[0].fullname == "web: app"


@pytest.mark.parametrize(
    ("trigger", "normalised"),
    [
        ("monitor", "monitor"),
        ("monitoring", "monitor"),
        ("manual close", "manual close"),
        ("manual", "manual close"),
        ("delete monitor", "delete monitor"),
        ("retire host", "retire host"),
        ("delete service", "delete service"),
        ("anomaly detection manually retraining", "anomaly detection manually retraining"),
    ],
)
def test_every_documented_trigger_is_accepted(trigger: str, normalised: str) -> None:
    event = intake.parse_payload(payloads.alert(trigger=trigger))
    assert isinstance(event, intake.AlertEvent)
    assert event.alert.trigger == normalised


def test_unknown_fields_and_newer_fields_are_accepted() -> None:
    body = payloads.alert()
    body["series"] = {"name": "q", "labels": {"a": "b"}}
    body["alert"]["someFieldAddedIn2027"] = [1, 2]
    assert isinstance(intake.parse_payload(body), intake.AlertEvent)


def test_status_casing_is_lenient_and_stored_lowercase() -> None:
    event = intake.parse_payload(payloads.alert(status="CRITICAL"))
    assert isinstance(event, intake.AlertEvent)
    assert event.alert.status == "critical"


def test_sample_needs_no_organization() -> None:
    event = intake.parse_payload({"event": "sample", "message": "Sample", "imageUrl": None})
    assert isinstance(event, intake.SampleEvent)


def test_unknown_event_is_recognised_as_such() -> None:
    event = intake.parse_payload({"event": "hostMemoChanged", "orgName": "acme-prod"})
    assert isinstance(event, intake.UnknownEvent)
    assert event.event == "hostMemoChanged"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda b: b.pop("orgName"), "orgName"),
        (lambda b: b.pop("event"), "event"),
        (lambda b: b["alert"].pop("id"), "alert.id"),
        (lambda b: b["alert"].update(status="broken"), "alert.status"),
        (lambda b: b["alert"].update(isOpen="yes"), "alert.isOpen"),
        (lambda b: b["alert"].update(openedAt="yesterday"), "alert.openedAt"),
        (lambda b: b["alert"].update(openedAt=1_780_000_000_000), "epoch seconds"),
        (lambda b: b["alert"].update(metricValue=True), "alert.metricValue"),
        (lambda b: b.update(alert=[]), "alert must be a JSON object"),
        (lambda b: b["host"].update(status="exploded"), "host.status"),
        (lambda b: b["host"].pop("id"), "host.id"),
    ],
)
def test_malformed_alert_is_refused_with_a_reason(mutate: Any, reason: str) -> None:
    body = payloads.alert()
    mutate(body)
    with pytest.raises(intake.MalformedWebhook, match=reason.replace(".", r"\.")):
        intake.parse_payload(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b'{"event": "alert", "orgName": "a\\u0000b"}', "NUL"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_undecodable_body_is_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(intake.MalformedWebhook, match=reason):
        intake.decode(body)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_arbitrary_json_is_parsed_or_refused_never_crashes(value: Any) -> None:
    with contextlib.suppress(intake.MalformedWebhook):
        intake.parse_payload(value)


FIELDS = ("id", "status", "isOpen", "trigger", "openedAt", "closedAt", "statusChangedAt",
          "metricValue", "monitorName", "criticalThreshold")  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(FIELDS), value=JSON, where=st.sampled_from(["alert", "host"]))
def test_a_real_payload_with_any_field_replaced_is_parsed_or_refused(
    field: str, value: Any, where: str
) -> None:
    body = json.loads(json.dumps(payloads.alert()))
    body[where][field] = value
    with contextlib.suppress(intake.MalformedWebhook):
        intake.parse_payload(body)
