"""Processing stored webhooks into cases, their timeline and the mirrors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from alerts import services
from alerts.models import AlertGroup, Case, CaseEvent, WebhookReceipt
from alerts.tests import payloads
from alerts.tests.payloads import T0
from orgs.models import Host, Monitor, Organization

pytestmark = pytest.mark.django_db
Deliver = Callable[..., WebhookReceipt]


def timeline(alert_id: str = "3k73ZJscVcW") -> list[tuple[str, str, bool]]:
    case = Case.objects.get(alert_id=alert_id)
    return [(e.kind, e.severity, e.applied) for e in case.events.all()]


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def test_alert_opens_a_case_keyed_by_the_alert_id(deliver: Deliver, acme_org: Organization) -> None:
    receipt = deliver(payloads.alert(value=95.25))
    assert receipt.status == WebhookReceipt.Status.PROCESSED
    case = Case.objects.get()
    assert case.alert_id == "3k73ZJscVcW"
    assert case.organization == acme_org
    assert case.customer_id == acme_org.customer_id
    assert case.is_open
    assert case.severity == "critical"
    assert case.metric_value == 95.25
    assert case.critical_threshold == 90
    assert case.monitor_name == "CPU %"
    assert case.monitor_type == "host"
    assert case.opened_at == at(T0)
    assert case.mackerel_url.endswith("/alerts/3k73ZJscVcW")
    assert case.host is not None
    assert case.host.name == "vm0001"
    assert case.host.memo == "本番 DB サーバ"
    assert case.service is not None
    assert case.service.name == "web"
    assert case.source == Case.Source.WEBHOOK
    assert timeline() == [("opened", "critical", True)]


def test_unknown_host_is_created_as_a_placeholder_with_its_roles(deliver: Deliver) -> None:
    deliver(payloads.alert())
    host = Host.objects.get()
    assert host.is_placeholder
    assert [role.fullname for role in host.roles.all()] == ["web: app"]


def test_service_alert_takes_its_service_from_the_payload(deliver: Deliver) -> None:
    body = payloads.alert(monitor_type="service", with_host=False)
    body["service"] = {"id": "3sV1cE2iDab", "name": "billing", "memo": "", "roles": []}
    deliver(body)
    case = Case.objects.get()
    assert case.host is None
    assert case.service is not None
    assert case.service.name == "billing"


def test_life_of_a_case_worsen_improve_close(deliver: Deliver) -> None:
    deliver(payloads.alert(status="warning", changed=T0))
    deliver(payloads.alert(status="critical", changed=T0 + 60))
    deliver(payloads.alert(status="warning", changed=T0 + 120))
    deliver(payloads.closing(at=T0 + 180))
    assert timeline() == [
        ("opened", "warning", True),
        ("worsened", "critical", True),
        ("improved", "warning", True),
        ("closed", "ok", True),
    ]
    case = Case.objects.get()
    assert not case.is_open
    assert case.severity == "ok"
    assert case.closed_at == at(T0 + 180)
    assert case.close_trigger == "monitor"
    events = list(case.events.all())
    assert events[1].previous_severity == "warning"


def test_replaying_every_webhook_changes_nothing(deliver: Deliver) -> None:
    bodies = [
        payloads.alert(status="warning", changed=T0),
        payloads.alert(status="critical", changed=T0 + 60),
        payloads.closing(at=T0 + 180),
    ]
    for body in bodies:
        deliver(body)
    before = (timeline(), Case.objects.values().get())
    for body in bodies + bodies:
        receipt = deliver(body)
        assert receipt.status == WebhookReceipt.Status.PROCESSED
        assert "no change" in receipt.reason
    after = (timeline(), Case.objects.values().get())
    assert before[0] == after[0]
    assert {k: v for k, v in before[1].items() if k != "updated_at"} == {
        k: v for k, v in after[1].items() if k != "updated_at"
    }


def test_close_arriving_before_its_open_ends_closed(deliver: Deliver) -> None:
    deliver(payloads.closing(at=T0 + 300))
    deliver(payloads.alert(status="critical", changed=T0))
    case = Case.objects.get()
    assert not case.is_open
    assert case.opened_at == at(T0)
    assert timeline() == [("opened", "critical", False), ("closed", "ok", True)]


def test_older_change_arriving_late_does_not_regress_the_case(deliver: Deliver) -> None:
    deliver(payloads.alert(status="warning", changed=T0))
    deliver(payloads.alert(status="critical", changed=T0 + 120))
    deliver(payloads.alert(status="unknown", changed=T0 + 60))  # happened before the critical
    case = Case.objects.get()
    assert case.severity == "critical"
    assert timeline() == [
        ("opened", "warning", True),
        ("worsened", "unknown", False),
        ("worsened", "critical", True),
    ]


def test_same_status_later_is_a_renotification_sooner_is_a_duplicate(deliver: Deliver) -> None:
    with time_machine.travel(at(T0 + 5), tick=False):
        deliver(payloads.alert())
    with time_machine.travel(at(T0 + 65), tick=False):
        deliver(payloads.alert())  # a minute later: a replay
    with time_machine.travel(at(T0 + 605), tick=False):
        deliver(payloads.alert())  # ten minutes later: Mackerel's re-notification
    assert timeline() == [("opened", "critical", True), ("renotified", "critical", True)]


@pytest.mark.parametrize(
    ("trigger", "kept"),
    [("manual close", "manual close"), ("delete monitor", "delete monitor"),
     ("retire host", "retire host"), ("monitoring", "monitor")],
)  # fmt: skip
def test_close_records_why_the_alert_closed(deliver: Deliver, trigger: str, kept: str) -> None:
    deliver(payloads.alert())
    closing = payloads.closing(trigger=trigger)
    closing["user"] = {"id": "7uS3rI4dXyz", "screenName": "alice@example.com"}
    deliver(closing)
    case = Case.objects.get()
    assert case.close_trigger == kept
    last = case.events.last()
    assert last is not None
    assert last.user == "alice@example.com"


def test_timestamps_fall_back_without_status_changed_at(deliver: Deliver) -> None:
    deliver(payloads.alert(changed=None))
    deliver(payloads.closing(at=T0 + 90) | {})
    assert timeline() == [("opened", "critical", True), ("closed", "ok", True)]


def test_host_events_update_the_host_mirror(deliver: Deliver) -> None:
    host = payloads.host(status="working")
    deliver({"orgName": "acme-prod", "event": "hostRegister", "host": host, "user": None})
    assert Host.objects.get().status == "working"
    host["status"] = "maintenance"
    host["memo"] = "メンテナンス中"
    deliver({"orgName": "acme-prod", "event": "hostStatus", "fromStatus": "working", "host": host})
    mirrored = Host.objects.get()
    assert (mirrored.status, mirrored.memo) == ("maintenance", "メンテナンス中")
    deliver({"orgName": "acme-prod", "event": "hostRetire", "host": host, "user": None})
    assert Host.objects.get().is_retired


def test_monitor_events_update_the_monitor_mirror(deliver: Deliver) -> None:
    monitor = {"id": "5pQw3rT8yZa", "type": "host", "name": "disk", "metric": "disk%",
               "operator": ">", "warning": 80, "critical": 90, "isMute": False}  # fmt: skip
    deliver({"orgName": "acme-prod", "event": "monitorCreate", "monitor": monitor})
    deliver(
        {"orgName": "acme-prod", "event": "monitorUpdate", "monitor": monitor | {"critical": 95}}
    )
    mirrored = Monitor.objects.get()
    assert mirrored.definition["critical"] == 95
    assert mirrored.deleted_at is None
    deliver({"orgName": "acme-prod", "event": "monitorDelete", "monitor": monitor})
    assert Monitor.objects.get().deleted_at is not None


def test_case_links_its_monitor_by_name(deliver: Deliver) -> None:
    monitor = {"id": "5pQw3rT8yZa", "type": "host", "name": "CPU %", "isMute": False}
    deliver({"orgName": "acme-prod", "event": "monitorCreate", "monitor": monitor})
    deliver(payloads.alert())
    case = Case.objects.get()
    assert case.monitor is not None
    assert case.monitor.mackerel_id == "5pQw3rT8yZa"


def test_sample_is_acknowledged_as_a_successful_test(deliver: Deliver) -> None:
    receipt = deliver({"event": "sample", "message": "Sample Notification from Mackerel"})
    assert receipt.status == WebhookReceipt.Status.PROCESSED
    assert "test notification" in receipt.reason


def test_unknown_event_is_kept_and_marked_ignored(deliver: Deliver) -> None:
    receipt = deliver({"orgName": "acme-prod", "event": "dashboardCreate"})
    assert receipt.status == WebhookReceipt.Status.IGNORED
    assert "dashboardCreate" in receipt.reason


def test_alert_group_is_recorded_and_links_cases(deliver: Deliver) -> None:
    deliver(payloads.alert("aaaaaaaaaa1", opened=T0))
    deliver(payloads.alert("aaaaaaaaaa2", opened=T0 + 30))
    deliver(payloads.alert("aaaaaaaaaa3", opened=T0 - 3600))
    deliver({
        "orgName": "acme-prod", "event": "alertGroup", "imageUrl": None,
        "alertGroup": {"id": "6gR1pA2bCde", "url": "https://mackerel.io/orgs/acme-prod/alert-groups/6gR1pA2bCde",
                       "status": "CRITICAL", "createdAt": T0 + 60, "closedAt": None},
        "alertGroupSetting": {"id": "6gS3eT4tInG", "name": "Web tier", "memo": "", "url": ""},
    })  # fmt: skip
    group = AlertGroup.objects.get()
    assert group.status == "critical"
    assert sorted(group.cases.values_list("alert_id", flat=True)) == ["aaaaaaaaaa1", "aaaaaaaaaa2"]


def test_receipt_processed_twice_is_processed_once(acme_org: Organization) -> None:
    receipt = services.accept(acme_org, payloads.encode(payloads.alert()), {}, None, "alert")
    services.process_receipt(receipt.pk)
    services.process_receipt(receipt.pk)
    assert CaseEvent.objects.count() == 1
    receipt.refresh_from_db()
    assert receipt.attempts == 1


def test_organization_mismatch_found_at_processing_is_rejected(acme_org: Organization) -> None:
    receipt = services.accept(
        acme_org, payloads.encode(payloads.alert(org="globex-prod")), {}, None, "alert"
    )
    services.process_receipt(receipt.pk)
    receipt.refresh_from_db()
    assert receipt.status == WebhookReceipt.Status.REJECTED
    assert not Case.objects.exists()


def test_sweep_reenqueues_only_old_pending_receipts(acme_org: Organization) -> None:
    old = services.accept(acme_org, payloads.encode(payloads.alert()), {}, None, "alert")
    WebhookReceipt.objects.filter(pk=old.pk).update(
        received_at=old.received_at - timedelta(minutes=5)
    )
    services.accept(acme_org, payloads.encode(payloads.alert("x2")), {}, None, "alert")
    assert services.sweep() == 1


def test_receipt_gives_up_after_repeated_failures(acme_org: Organization) -> None:
    receipt = services.accept(acme_org, payloads.encode(payloads.alert()), {}, None, "alert")
    WebhookReceipt.objects.filter(pk=receipt.pk).update(attempts=services.MAX_ATTEMPTS)
    services.process_receipt(receipt.pk)
    receipt.refresh_from_db()
    assert receipt.status == WebhookReceipt.Status.FAILED
    assert "gave up" in receipt.reason


def test_every_captured_alert_example_makes_a_case(
    deliver: Deliver, acme_org: Organization
) -> None:
    for name, example in payloads.captured_examples():
        body: dict[str, Any] = {**example}
        if "orgName" in body:
            body["orgName"] = "acme-prod"
        receipt = deliver(body)
        assert receipt.status == WebhookReceipt.Status.PROCESSED, (name, receipt.reason)
    assert Case.objects.filter(alert_id="ALERT_ID").exists()


@pytest.mark.django_db(transaction=True)
def test_receipt_briefly_locked_by_another_drain_is_still_processed(
    acme_org: Organization,
) -> None:
    """A drain's claim keeps the lock of a row it found already claimed until it commits; the
    drain that claimed it waits for that, instead of leaving the receipt to the sweep."""
    import threading

    import psycopg
    from django.db import connection

    receipt = services.accept(acme_org, payloads.encode(payloads.alert()), {}, None, "alert")
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
    )
    locked = threading.Event()

    def hold_the_row() -> None:
        with other.transaction():
            other.execute(
                "SELECT id FROM alerts_webhookreceipt WHERE id = %s FOR UPDATE", [receipt.pk]
            )
            locked.set()
            threading.Event().wait(0.5)

    assert services._claim_batch(100) == [receipt.pk]  # this drain's claim
    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(5)
        services._process_claimed(receipt.pk)
    finally:
        holder.join()
        other.close()
    receipt.refresh_from_db()
    assert receipt.status == WebhookReceipt.Status.PROCESSED
    assert Case.objects.filter(alert_id="3k73ZJscVcW").exists()
