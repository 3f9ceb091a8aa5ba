"""Running syncs: the beat fan-out, the per-organization task and its retries, the command,
staff pages, and a real worker doing it all against the simulator."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import Customer, User
from alerts import reconcile, tasks
from alerts.models import Case
from orgs import sync
from orgs.models import Organization, SyncRun
from orgs.tests.simulated import SimulatedMackerel

pytestmark = pytest.mark.django_db


def test_beat_enqueues_one_sync_per_organization_spread_over_the_interval(
    mackerel: SimulatedMackerel,
    acme_org: Organization,
    globex_org: Organization,
    redis_client: Any,
    settings: Any,
) -> None:
    mackerel.connect(acme_org)
    mackerel.connect(globex_org)
    Organization.objects.create(customer=acme_org.customer, name="no-key-yet")
    settings.TAIRYO_SYNC_INTERVAL_SECONDS = 300

    assert tasks.schedule_syncs() == 2

    messages = [json.loads(m) for m in redis_client.lrange("sync", 0, -1)]
    assert len(messages) == 2
    assert {m["headers"]["task"] for m in messages} == {"alerts.tasks.sync_organization"}
    assert sorted(m["headers"]["argsrepr"] for m in messages) == sorted(
        [f"({acme_org.pk},)", f"({globex_org.pk},)"]
    )
    assert all(m["headers"]["eta"] and m["headers"]["expires"] for m in messages)
    assert not redis_client.llen("intake"), "syncs never wait behind webhooks"


def test_the_task_retries_a_transient_failure_and_stops_at_a_bad_key(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org, hosts=3)
    # More 500s than the client's own retries: the inventory fails, the alerts are still
    # reconciled (a partial run), and the task tries again.
    mackerel.sim.inject(acme_org.name, status=500, count=sync.CLIENT_MAX_RETRIES + 1)

    tasks.sync_organization.apply(args=(acme_org.pk,), throw=False)

    runs = list(SyncRun.objects.order_by("started_at").values_list("outcome", "error_kind"))
    assert runs == [("partial", "server_error"), ("success", "")]
    acme_org.refresh_from_db()
    assert acme_org.consecutive_sync_failures == 0

    mackerel.sim.inject(acme_org.name, status=403, count=100)
    tasks.sync_organization.apply(args=(acme_org.pk,), throw=False)
    assert SyncRun.objects.filter(error_kind="permission").count() == 1, "not retried"


def test_sync_mackerel_syncs_every_organization_with_a_progress_bar(
    mackerel: SimulatedMackerel, acme_org: Organization, globex_org: Organization
) -> None:
    mackerel.connect(acme_org, hosts=4)
    mackerel.connect(globex_org, hosts=2)
    out, err = io.StringIO(), io.StringIO()

    call_command("sync_mackerel", "--all", stdout=out, stderr=err)

    assert "[" + "#" * 30 + "] 2/2" in err.getvalue()
    assert "acme-prod: success, 4 hosts (4 new" in out.getvalue()
    assert "globex-prod: success, 2 hosts" in out.getvalue()
    assert "2 organizations in" in out.getvalue()


def test_sync_mackerel_reports_failures_and_unknown_names(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org)
    mackerel.sim.inject(acme_org.name, status=401)
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 of 1 organizations"):
        call_command("sync_mackerel", "--org", acme_org.name, stdout=out, stderr=io.StringIO())
    assert "acme-prod: failed" in out.getvalue()
    with pytest.raises(CommandError, match="no such organization: nowhere"):
        call_command("sync_mackerel", "--org", "nowhere", stderr=io.StringIO())


def test_staff_see_sync_health_and_every_run(
    mackerel: SimulatedMackerel,
    acme_org: Organization,
    support_user: User,
    login: Callable[[User], Client],
) -> None:
    mackerel.connect(acme_org)
    mackerel.sim.inject(acme_org.name, status=401)
    for _ in range(3):
        reconcile.sync_organization(acme_org.pk)
    run = SyncRun.objects.first()
    assert run is not None
    client = login(support_user)

    listing = client.get("/admin/orgs/organization/?sync_failing=yes")
    detail = client.get(f"/admin/orgs/organization/{acme_org.pk}/change/")
    runs = client.get("/admin/orgs/syncrun/?outcome__exact=failed")
    one = client.get(f"/admin/orgs/syncrun/{run.pk}/change/")

    for response in (listing, detail, runs, one):
        assert response.status_code == 200
    assert "acme-prod" in listing.content.decode()
    assert "authentication failed: " in detail.content.decode()
    assert f"organization__id__exact={acme_org.pk}" in detail.content.decode()
    assert runs.content.decode().count("/admin/orgs/syncrun/") >= 3
    assert client.get("/admin/orgs/syncrun/add/").status_code == 403
    assert client.post(f"/admin/orgs/syncrun/{run.pk}/delete/").status_code == 403


@pytest.mark.slow
def test_a_real_worker_syncs_every_organization_from_beats_fan_out(
    mackerel: SimulatedMackerel,
    acme: Customer,
    globex: Customer,
    start_worker: Callable[..., Any],
    redis_client: Any,
) -> None:
    orgs = [
        Organization.objects.create(customer=acme, name="acme-prod"),
        Organization.objects.create(customer=globex, name="globex-prod"),
    ]
    for org in orgs:
        mackerel.connect(org, hosts=20)
    host = next(h["id"] for h in mackerel.sim.hosts("acme-prod") if h["status"] == "working")
    monitor = next(
        m["id"] for m in mackerel.sim.monitors("acme-prod") if m["type"] == "connectivity"
    )
    alert_id = mackerel.sim.open_alert("acme-prod", monitor, host_id=host)
    start_worker(MACKEREL_API_URL=mackerel.url)
    # The syncs expire two seconds after their slot; a worker still starting on a busy machine
    # would let them lapse. The canary's heartbeat says the worker is taking tasks.
    from health import tasks as health_tasks
    from health.models import Heartbeat

    health_tasks.canary.delay()
    deadline = time.monotonic() + 60
    while not Heartbeat.objects.filter(name="canary").exists():
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.1)

    assert reconcile.schedule_syncs(interval=2) == 2

    deadline = time.monotonic() + 60
    while SyncRun.objects.filter(outcome="success").count() < 2:
        assert time.monotonic() < deadline, list(SyncRun.objects.values())
        time.sleep(0.2)
    assert {run.organization.name for run in SyncRun.objects.all()} == {o.name for o in orgs}
    assert all(run.host_count == 20 for run in SyncRun.objects.all())
    assert Case.objects.get(alert_id=alert_id).source == "sync"
