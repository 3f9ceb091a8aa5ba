"""The Mackerel simulator fires real webhooks over HTTP at a live Tairyo during an outage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from alerts import services
from alerts.models import Case, CaseEvent, WebhookReceipt
from mackerel_sim import Simulator
from orgs.models import Host, Organization

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
HOSTS_PER_ORG = 150


@pytest.fixture
def simulator(
    live_server: Any, acme_org: Organization, globex_org: Organization
) -> Iterator[Simulator]:
    """Acme and Globex in a simulated Mackerel whose webhooks point at this Tairyo."""
    sim = Simulator(seed=7, speed=0)
    for org in (acme_org, globex_org):
        sim.add_organization(org.name)
        sim.add_service(org.name, "web")
        sim.add_role(org.name, "web", "app")
        for index in range(HOSTS_PER_ORG):
            sim.add_host(org.name, name=f"{org.name}-vm{index:04d}", roles={"web": ["app"]},
                         memo=f"{org.name} のサーバ {index}")  # fmt: skip
        token = org.rotate_webhook_token(grace=timedelta(0))
        sim.add_webhook_channel(org.name, f"{live_server.url}/hooks/mackerel/{token}/")
    sim.start()
    yield sim
    sim.close()


def _process_all() -> None:
    for receipt_id in WebhookReceipt.objects.filter(status="pending").values_list("pk", flat=True):
        services.process_receipt(receipt_id)


def _timelines() -> dict[str, list[tuple[str, str]]]:
    timelines: dict[str, list[tuple[str, str]]] = {}
    for event in CaseEvent.objects.select_related("case").order_by("occurred_at", "id"):
        timelines.setdefault(event.case.alert_id, []).append((event.kind, event.severity))
    return timelines


def test_outage_of_hundreds_of_hosts_makes_one_case_per_alert_and_replays_change_nothing(
    simulator: Simulator, acme_org: Organization
) -> None:
    run = simulator.run_scenario("network-outage", hosts=240, within=60, down_for=300, wait=True)
    assert not run.errors
    assert simulator.wait_for_webhooks(timeout=120)
    deliveries = list(simulator.deliveries(event="alert"))
    assert deliveries, "the outage sent alert webhooks"
    assert all(d.ok for d in deliveries), {d.status for d in deliveries}

    _process_all()
    alert_ids = {d.payload["alert"]["id"] for d in deliveries}
    assert len(alert_ids) == 240
    assert Case.objects.count() == 240
    assert set(Case.objects.values_list("alert_id", flat=True)) == alert_ids
    timelines = _timelines()
    assert all(t == [("opened", "critical"), ("closed", "ok")] for t in timelines.values()), {
        alert: t
        for alert, t in timelines.items()
        if t != [("opened", "critical"), ("closed", "ok")]
    }
    assert not Case.objects.filter(is_open=True).exists()
    for case in Case.objects.select_related("host", "organization"):
        assert case.host is not None
        assert case.host.name.startswith(case.organization.name)
        assert case.service is not None and case.service.name == "web"
    assert Host.objects.count() == 240

    before = (_timelines(), sorted(Case.objects.values_list("alert_id", "severity", "is_open")))
    for delivery in deliveries:  # every webhook delivered a second time
        response = requests.post(
            delivery.url,
            data=delivery.body,
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 200
    _process_all()
    after = (_timelines(), sorted(Case.objects.values_list("alert_id", "severity", "is_open")))
    assert before == after
    assert WebhookReceipt.objects.filter(status="processed").count() == len(deliveries) * 2


def test_every_kind_of_webhook_is_taken_in(simulator: Simulator, acme_org: Organization) -> None:
    simulator.run_scenario("every-event", org=acme_org.name, wait=True)
    simulator.send_sample(acme_org.name)
    assert simulator.wait_for_webhooks(timeout=60)
    sent = simulator.deliveries(org=acme_org.name)
    assert {d.event for d in sent} >= {
        "alert", "hostStatus", "hostRegister", "hostRetire",
        "monitorCreate", "monitorUpdate", "monitorDelete", "sample",
    }  # fmt: skip
    assert all(d.ok for d in sent), [(d.event, d.status, d.response_body) for d in sent if not d.ok]
    _process_all()
    statuses = dict(
        WebhookReceipt.objects.values_list("event", "status").order_by("event").distinct()
    )
    assert set(statuses.values()) <= {"processed"}, statuses
    types = {json.loads(d.body)["type"] for d in sent if d.event == "alert"}
    assert Case.objects.filter(organization=acme_org).values(
        "monitor_type"
    ).distinct().count() == len(types)
