"""Alert reconciliation against the Mackerel simulator over real HTTP: what webhooks missed
becomes cases (and so mails), and a webhook and a sync on the same alert make one of each."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Customer
from alerts import reconcile, services
from alerts.models import Case, CaseEvent, WebhookReceipt
from mackerel_sim import Simulator
from orgs.models import Host, Organization, SyncRun
from orgs.tests.simulated import SimulatedMackerel, mirror, simulated

pytestmark = pytest.mark.django_db
# Webhook channels point here: nothing listens, but the simulator records every body it sent.
NOWHERE = "http://127.0.0.1:9/hooks/mackerel/unused/"


def _sync(org: Organization) -> SyncRun:
    run = reconcile.sync_organization(org.pk)
    assert run is not None
    assert run.outcome == SyncRun.Outcome.SUCCESS, run.error_message
    return run


def _connectivity(sim: Simulator, org: Organization) -> str:
    return str(next(m["id"] for m in sim.monitors(org.name) if m["type"] == "connectivity"))


def _timeline(alert_id: str) -> list[tuple[str, str, str]]:
    return list(
        CaseEvent.objects.filter(case__alert_id=alert_id)
        .order_by("occurred_at", "id")
        .values_list("kind", "severity", "source")
    )


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(int(epoch), tz=UTC)


def _webhooks(sim: Simulator, org: Organization, alert_id: str) -> list[bytes]:
    """The alert's webhook bodies exactly as the simulator sent them, oldest first."""
    assert sim.wait_for_webhooks(10)
    return [
        d.body.encode()
        for d in sim.deliveries(org=org.name, event="alert")
        if d.payload["alert"]["id"] == alert_id
    ]


def _receive(org: Organization, body: bytes) -> WebhookReceipt:
    return services.accept(org, body, {}, "192.0.2.1", "alert")


def _route(org: Organization) -> Any:
    from notifications.models import Contact, Route

    route = Route.objects.create(
        organization=org,
        name="everything",
        triggers=["opened", "worsened", "improved", "closed", "renotified"],
    )
    route.contacts.add(Contact.objects.create(customer=org.customer, name="運用", email="o@a.test"))
    return route


def _plan() -> list[tuple[str, str]]:
    from notifications import planning
    from notifications.models import Notification

    planning.plan_pending()
    # One row per (timeline entry, contact), whether mailed alone or gathered into a digest.
    return list(
        Notification.objects.exclude(case_event=None)
        .order_by("id")
        .values_list("case__alert_id", "case_event__kind")
    )


def test_an_alert_no_webhook_told_of_is_opened_then_closed_by_sync_and_notified(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org)
    host_id = mackerel.add_hosts(acme_org, 2)[0]
    _route(acme_org)
    _sync(acme_org)
    alert_id = mackerel.sim.open_alert(
        acme_org.name, _connectivity(mackerel.sim, acme_org), host_id=host_id
    )
    opened_at = mackerel.sim.alert(acme_org.name, alert_id)["openedAt"]
    mackerel.sim.advance(30)

    run = _sync(acme_org)

    assert run.counts["alerts_opened"] == 1
    case = Case.objects.get(alert_id=alert_id)
    assert (case.source, case.is_open, case.severity) == ("sync", True, "critical")
    assert case.host == Host.objects.get(mackerel_id=host_id)
    assert case.service is not None and case.service.name == "web"
    assert case.monitor is not None and case.monitor_name == "connectivity"
    assert case.opened_at == _at(opened_at)
    assert _timeline(alert_id) == [("opened", "critical", "sync")]
    assert _plan() == [(alert_id, "opened")]

    mackerel.sim.advance(60)
    mackerel.sim.close_alert(acme_org.name, alert_id, manual=False)
    closed_at = mackerel.sim.alert(acme_org.name, alert_id)["closedAt"]
    run = _sync(acme_org)

    assert run.counts["alerts_closed"] == 1
    case.refresh_from_db()
    assert not case.is_open and case.closed_at == _at(closed_at)
    assert case.close_trigger == "monitor"
    assert _timeline(alert_id) == [("opened", "critical", "sync"), ("closed", "ok", "sync")]
    assert _plan() == [(alert_id, "opened"), (alert_id, "closed")]

    again = _sync(acme_org)
    assert (again.counts["alerts_opened"], again.counts["alerts_closed"]) == (0, 0)
    assert len(_timeline(alert_id)) == 2


def test_an_alert_opened_and_closed_between_two_syncs_becomes_a_case(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org)
    host_id = mackerel.add_hosts(acme_org, 1)[0]
    _route(acme_org)
    _sync(acme_org)
    monitor = _connectivity(mackerel.sim, acme_org)
    alert_id = mackerel.sim.open_alert(acme_org.name, monitor, host_id=host_id, status="WARNING")
    mackerel.sim.advance(20)
    mackerel.sim.open_alert(acme_org.name, monitor, host_id=host_id, status="CRITICAL")
    mackerel.sim.advance(20)
    mackerel.sim.close_alert(acme_org.name, alert_id, manual=True, reason="fixed")

    run = _sync(acme_org)

    assert (run.counts["alerts_opened"], run.counts["alerts_closed"]) == (1, 1)
    assert _timeline(alert_id) == [
        ("opened", "warning", "sync"),
        ("worsened", "critical", "sync"),
        ("closed", "ok", "sync"),
    ]
    case = Case.objects.get(alert_id=alert_id)
    assert case.close_trigger == "manual close"
    assert [kind for _, kind in _plan()] == ["opened", "worsened", "closed"]


def test_the_first_sync_takes_open_alerts_but_not_old_history(
    acme_org: Organization, settings: Any
) -> None:
    sim = Simulator(seed=5, speed=0, start_time=time.time() - 3600)
    server = sim.serve(port=0)
    settings.MACKEREL_API_URL = server.url
    try:
        SimulatedMackerel(sim, server.url).connect(acme_org)
        monitor = _connectivity(sim, acme_org)
        old, still_open = (sim.add_host(acme_org.name, name=f"vm{i}") for i in (1, 2))
        closed_id = sim.open_alert(acme_org.name, monitor, host_id=old)
        sim.close_alert(acme_org.name, closed_id, manual=False)
        open_id = sim.open_alert(acme_org.name, monitor, host_id=still_open)
        run = _sync(acme_org)
    finally:
        sim.close()
    assert run.counts["alerts_opened"] == 1
    assert list(Case.objects.values_list("alert_id", flat=True)) == [open_id]


def test_a_change_webhooks_missed_is_applied_with_mackerels_time(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org)
    host_id = mackerel.add_hosts(acme_org, 1)[0]
    monitor = _connectivity(mackerel.sim, acme_org)
    alert_id = mackerel.sim.open_alert(acme_org.name, monitor, host_id=host_id)
    _sync(acme_org)
    mackerel.sim.advance(45)
    mackerel.sim.change_alert(acme_org.name, alert_id, status="WARNING")
    changed_at = _at(mackerel.sim.now())

    run = _sync(acme_org)

    assert run.counts["alerts_changed"] == 1
    improved = CaseEvent.objects.get(case__alert_id=alert_id, kind="improved")
    assert (improved.severity, improved.occurred_at) == ("warning", changed_at)
    assert Case.objects.get(alert_id=alert_id).severity == "warning"


def test_alerts_mackerel_sends_no_webhook_for_open_no_case(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org)
    standby, working = mackerel.add_hosts(acme_org, 2)
    mackerel.sim.set_host_status(acme_org.name, standby, "maintenance")
    muted = mackerel.sim.monitors(acme_org.name)[0]
    monitor = _connectivity(mackerel.sim, acme_org)
    mackerel.sim.open_alert(acme_org.name, monitor, host_id=standby)
    mackerel.sim.update_monitor(acme_org.name, muted["id"], {**muted, "isMute": True})
    mackerel.sim.open_alert(acme_org.name, monitor, host_id=working)

    run = _sync(acme_org)

    assert (run.counts["alerts_silenced"], run.counts["alerts_opened"]) == (2, 0)
    assert not Case.objects.exists()


def test_a_case_open_here_and_closed_long_ago_in_mackerel_is_looked_up(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org)
    host_id = mackerel.add_hosts(acme_org, 1)[0]
    alert_id = mackerel.sim.open_alert(
        acme_org.name, _connectivity(mackerel.sim, acme_org), host_id=host_id
    )
    _sync(acme_org)
    mackerel.sim.advance(60)
    mackerel.sim.close_alert(acme_org.name, alert_id)
    # The last reconciliation is later than the alert's opening: paging stops before it.
    Organization.objects.filter(pk=acme_org.pk).update(
        alerts_reconciled_at=timezone.now() + timedelta(hours=1)
    )

    run = _sync(acme_org)

    assert run.counts["alerts_closed"] == 1
    assert not Case.objects.get(alert_id=alert_id).is_open
    paths = [r["path"] for r in mackerel.sim.requests(acme_org.name)]
    assert f"/api/v0/alerts/{alert_id}" in paths


def test_a_placeholder_host_from_a_webhook_is_filled_in_by_sync(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org, hosts=6)
    mackerel.sim.add_webhook_channel(acme_org.name, NOWHERE)
    host = next(h for h in mackerel.sim.hosts(acme_org.name) if h["status"] == "working")
    alert_id = mackerel.sim.open_alert(
        acme_org.name, _connectivity(mackerel.sim, acme_org), host_id=host["id"]
    )
    (body,) = _webhooks(mackerel.sim, acme_org, alert_id)
    services.process_receipt(_receive(acme_org, body).pk)
    placeholder = Host.objects.get(mackerel_id=host["id"])
    assert placeholder.is_placeholder and placeholder.ip_addresses == ""

    run = _sync(acme_org)

    assert mirror(acme_org) == simulated(mackerel.sim, acme_org)
    assert not Host.objects.filter(is_placeholder=True).exists()
    assert Host.objects.get(mackerel_id=host["id"]).pk == placeholder.pk
    assert run.counts["alerts_opened"] == 0
    assert _timeline(alert_id) == [("opened", "critical", "webhook")]


def test_the_webhook_of_a_change_sync_applied_first_adds_nothing(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org)
    mackerel.sim.add_webhook_channel(acme_org.name, NOWHERE)
    host_id = mackerel.add_hosts(acme_org, 1)[0]
    monitor = _connectivity(mackerel.sim, acme_org)
    alert_id = mackerel.sim.open_alert(acme_org.name, monitor, host_id=host_id)
    mackerel.sim.advance(30)
    mackerel.sim.close_alert(acme_org.name, alert_id, manual=False)

    _sync(acme_org)  # sync first: opened and closed
    for body in _webhooks(mackerel.sim, acme_org, alert_id):  # then the late webhooks
        receipt = _receive(acme_org, body)
        services.process_receipt(receipt.pk)
        receipt.refresh_from_db()
        assert receipt.status == "processed", receipt.reason

    assert _timeline(alert_id) == [("opened", "critical", "sync"), ("closed", "ok", "sync")]


def test_the_webhook_of_a_change_applied_first_leaves_sync_nothing_to_do(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org)
    mackerel.sim.add_webhook_channel(acme_org.name, NOWHERE)
    host_id = mackerel.add_hosts(acme_org, 1)[0]
    monitor = _connectivity(mackerel.sim, acme_org)
    alert_id = mackerel.sim.open_alert(acme_org.name, monitor, host_id=host_id)
    mackerel.sim.advance(30)
    mackerel.sim.close_alert(acme_org.name, alert_id, manual=False)
    for body in _webhooks(mackerel.sim, acme_org, alert_id):
        services.process_receipt(_receive(acme_org, body).pk)

    run = _sync(acme_org)

    assert (run.counts["alerts_opened"], run.counts["alerts_closed"]) == (0, 0)
    assert _timeline(alert_id) == [("opened", "critical", "webhook"), ("closed", "ok", "webhook")]


def test_a_webhook_long_after_the_change_sync_applied_is_a_renotification(
    acme_org: Organization, settings: Any
) -> None:
    # Mackerel's clock half an hour behind: the re-notification of an alert sync opened.
    sim = Simulator(seed=3, speed=0, start_time=time.time() - 1800)
    server = sim.serve(port=0)
    settings.MACKEREL_API_URL = server.url
    try:
        SimulatedMackerel(sim, server.url).connect(acme_org)
        sim.add_webhook_channel(acme_org.name, NOWHERE)
        host_id = sim.add_host(acme_org.name, name="vm0001")
        alert_id = sim.open_alert(acme_org.name, _connectivity(sim, acme_org), host_id=host_id)
        _sync(acme_org)
        (body,) = _webhooks(sim, acme_org, alert_id)
        services.process_receipt(_receive(acme_org, body).pk)
    finally:
        sim.close()
    assert _timeline(alert_id) == [
        ("opened", "critical", "sync"),
        ("renotified", "critical", "webhook"),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_webhook_and_a_sync_racing_make_one_case_and_one_entry_per_change(
    mackerel: SimulatedMackerel, acme: Customer
) -> None:
    org = Organization.objects.create(customer=acme, name="acme-prod")
    mackerel.connect(org)
    mackerel.sim.add_webhook_channel(org.name, NOWHERE)
    hosts = mackerel.add_hosts(org, 8)
    _route(org)
    _sync(org)
    monitor = _connectivity(mackerel.sim, org)
    alert_ids = []
    for round_, host_id in enumerate(hosts):
        alert_id = mackerel.sim.open_alert(org.name, monitor, host_id=host_id)
        alert_ids.append(alert_id)
        mackerel.sim.advance(10)
        if round_ % 2:
            mackerel.sim.close_alert(org.name, alert_id, manual=False)
        receipts = [_receive(org, body).pk for body in _webhooks(mackerel.sim, org, alert_id)]
        # The webhook starts a little later each round, so that the sync (which first reads
        # Mackerel) gets to the case first in some rounds and second in others.
        _race(
            lambda receipts=receipts, delay=round_ * 0.008: _process_after(delay, receipts),
            lambda: reconcile.reconcile_alerts(org.pk),
        )
        mackerel.sim.clear_deliveries()

    assert Case.objects.count() == len(alert_ids)
    for round_, alert_id in enumerate(alert_ids):
        kinds = [(kind, severity) for kind, severity, _ in _timeline(alert_id)]
        expected = [("opened", "critical")] + ([("closed", "ok")] if round_ % 2 else [])
        assert kinds == expected, (round_, _timeline(alert_id))
    assert not WebhookReceipt.objects.exclude(status="processed").exists()
    planned = _plan()
    assert len(planned) == len(set(planned)) == CaseEvent.objects.count(), "one mail per change"


def _process_after(delay: float, receipts: list[int]) -> None:
    time.sleep(delay)
    for receipt_id in receipts:
        services.process_receipt(receipt_id)


def _race(*work: Any) -> None:
    """Run the callables in threads released at the same moment; re-raise their errors."""
    from django.db import connection

    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(job: Any) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
