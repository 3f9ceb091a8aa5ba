"""Inventory sync against the Mackerel simulator over real HTTP (no mocks)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.models import Customer
from orgs import sync
from orgs.models import Host, Monitor, Organization, Role, Service, SyncRun
from orgs.tests.simulated import SimulatedMackerel, mirror, simulated

pytestmark = pytest.mark.django_db


def _sync(org: Organization) -> SyncRun:
    run = sync.sync_inventory(org.pk)
    assert run is not None
    org.refresh_from_db()
    return run


def _live(hosts: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    return {key: host for key, host in hosts.items() if not host["isRetired"]}


def test_full_sync_makes_the_host_mirror_match_the_simulator(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org, hosts=40)
    ids = [host["id"] for host in mackerel.sim.hosts(acme_org.name)]
    # Mackerel's default host list hides these two statuses: sync must ask for them.
    mackerel.sim.set_host_status(acme_org.name, ids[0], "maintenance")
    mackerel.sim.set_host_status(acme_org.name, ids[1], "poweroff")

    run = _sync(acme_org)

    assert run.outcome == SyncRun.Outcome.SUCCESS, run.error_message
    assert mirror(acme_org) == simulated(mackerel.sim, acme_org)
    assert {"working", "standby", "maintenance", "poweroff"} <= set(
        Host.objects.values_list("status", flat=True)
    )
    assert run.host_count == 40
    assert run.counts["hosts_created"] == 40
    assert acme_org.last_sync_success_at == acme_org.last_sync_at == run.finished_at
    assert acme_org.sync_error == ""
    assert not acme_org.sync_lock_token
    sim_services = {s["name"] for s in mackerel.sim.dump_state()["organizations"][0]["services"]}
    assert set(Service.objects.values_list("name", flat=True)) == sim_services
    assert set(Monitor.objects.values_list("mackerel_id", flat=True)) == {
        monitor["id"] for monitor in mackerel.sim.monitors(acme_org.name)
    }
    for monitor in Monitor.objects.all():
        assert monitor.definition == mackerel.sim.monitor(acme_org.name, monitor.mackerel_id)
    host = Host.objects.exclude(meta={}).first()
    assert host is not None and host.synced_at is not None
    assert set(host.meta) >= {"agent-version", "kernel", "cpu", "memory"}
    assert host.mackerel_created_at is not None


def test_memos_statuses_retired_and_new_hosts_are_picked_up_between_syncs(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org, hosts=12)
    _sync(acme_org)
    ids = [host["id"] for host in mackerel.sim.hosts(acme_org.name)]
    mackerel.sim.set_host_memo(acme_org.name, ids[0], "DB 移行済み、3/1 に停止予定")
    mackerel.sim.set_host_status(acme_org.name, ids[1], "standby")
    mackerel.sim.retire_host(acme_org.name, ids[2])
    new = mackerel.sim.add_host(acme_org.name, name="vm9999", memo="新しい")

    run = _sync(acme_org)

    assert mirror(acme_org) == simulated(mackerel.sim, acme_org)
    counts = run.counts
    assert (counts["hosts_created"], counts["hosts_retired"], run.host_count) == (1, 1, 12)
    assert counts["hosts_updated"] >= 1
    retired = Host.objects.get(mackerel_id=ids[2])
    assert retired.is_retired and retired.retired_at is not None
    assert retired.roles.exists(), "a retired host keeps its roles for its old cases"
    assert Host.objects.get(mackerel_id=new).memo == "新しい"

    again = _sync(acme_org)
    assert (again.counts["hosts_created"], again.counts["hosts_updated"]) == (0, 0)
    assert again.counts["hosts_retired"] == 0


def test_services_roles_and_monitors_deleted_in_mackerel(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    keys = mackerel.connect(acme_org)
    mackerel.add_hosts(acme_org, 2, service="web")
    mackerel.add_hosts(acme_org, 2, service="db")
    monitor_id = mackerel.sim.add_monitor(
        acme_org.name,
        {"type": "host", "name": "cpu", "metric": "cpu%", "operator": ">", "warning": 80,
         "critical": 90, "duration": 3},
    )  # fmt: skip
    _sync(acme_org)
    assert set(Role.objects.values_list("service__name", "name")) == {("web", "app"), ("db", "app")}
    assert Monitor.objects.get(mackerel_id=monitor_id).definition["critical"] == 90

    mackerel.sim.delete_service(acme_org.name, "db")
    mackerel.sim.delete_monitor(acme_org.name, monitor_id)
    assert keys.ro_key
    run = _sync(acme_org)

    assert run.counts["monitors_deleted"] == 1
    assert Monitor.objects.get(mackerel_id=monitor_id).deleted_at is not None
    assert Service.objects.get(name="db").is_deleted
    assert set(Role.objects.values_list("service__name", "name")) == {("web", "app")}
    assert mirror(acme_org) == simulated(mackerel.sim, acme_org)


def test_a_revoked_key_fails_that_organization_and_no_other(
    mackerel: SimulatedMackerel, acme_org: Organization, globex_org: Organization
) -> None:
    mackerel.connect(acme_org, hosts=5)
    mackerel.connect(globex_org, hosts=5)
    _sync(acme_org)
    # Revoked midway: services and roles were read, the host list answers 401.
    mackerel.sim.inject(acme_org.name, status=401, path_prefix="/api/v0/hosts")
    mackerel.sim.set_host_memo(acme_org.name, mackerel.sim.hosts(acme_org.name)[0]["id"], "x")

    failed = _sync(acme_org)
    other = _sync(globex_org)

    assert failed.outcome == SyncRun.Outcome.FAILED
    assert failed.error_kind == SyncRun.ErrorKind.AUTHENTICATION
    with translation.override("en"):
        assert failed.get_error_kind_display() == "authentication failed"
    assert "401" in failed.error_message
    assert acme_org.sync_error.startswith("authentication failed: ")
    assert acme_org.consecutive_sync_failures == 1 and not acme_org.sync_failing
    assert acme_org.last_sync_success_at is not None
    assert acme_org.last_sync_success_at < acme_org.last_sync_at  # type: ignore[operator]
    assert not Host.objects.filter(organization=acme_org, is_retired=True).exists()
    assert "x" not in Host.objects.filter(organization=acme_org).values_list("memo", flat=True)
    assert other.outcome == SyncRun.Outcome.SUCCESS
    assert sync.retry_delay(failed, 0) is None, "a bad key is not retried"

    _sync(acme_org)
    _sync(acme_org)
    assert acme_org.sync_failing

    mackerel.sim.clear_faults(acme_org.name)
    _sync(acme_org)
    assert (acme_org.consecutive_sync_failures, acme_org.sync_error) == (0, "")


def test_a_wrong_key_is_an_authentication_failure(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org)
    acme_org.set_api_key("not-the-key-of-anyone")
    acme_org.save()
    run = _sync(acme_org)
    assert (run.outcome, run.error_kind) == ("failed", "authentication")
    assert run.host_count is None


def test_a_key_of_another_organization_writes_nothing(
    mackerel: SimulatedMackerel, acme_org: Organization, globex_org: Organization
) -> None:
    mackerel.connect(acme_org)
    globex_keys = mackerel.connect(globex_org, hosts=3)
    acme_org.set_api_key(globex_keys.ro_key)
    acme_org.save()
    run = _sync(acme_org)
    assert (run.outcome, run.error_kind) == ("failed", "wrong_organization")
    assert "globex-prod" in run.error_message
    assert not Host.objects.filter(organization=acme_org).exists()


def test_a_short_retry_after_is_waited_out(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org, hosts=3)
    mackerel.sim.inject(acme_org.name, status=429, count=2, rate_limit_retry_after=1)
    started = time.monotonic()
    run = _sync(acme_org)
    assert run.outcome == SyncRun.Outcome.SUCCESS
    assert time.monotonic() - started >= 2
    assert [r["status"] for r in mackerel.sim.requests(acme_org.name)][:3] == [429, 429, 200]


def test_a_long_retry_after_ends_the_run_and_reschedules_it(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org, hosts=3)
    mackerel.sim.inject(acme_org.name, status=429, count=100, rate_limit_retry_after=120)
    started = time.monotonic()
    run = _sync(acme_org)
    assert time.monotonic() - started < 5, "a worker does not sleep through a long Retry-After"
    assert (run.outcome, run.error_kind) == ("failed", "rate_limited")
    assert run.retry_after == 120
    assert sync.retry_delay(run, 0) == 120
    assert sync.retry_delay(run, sync.MAX_RETRIES) is None
    run.retry_after = 3600
    assert sync.retry_delay(run, 0) is None, "the next scheduled sync comes sooner"
    assert acme_org.sync_error.startswith("rate limited: ")


def test_server_errors_are_retried_and_then_reported(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org, hosts=3)
    mackerel.sim.inject(acme_org.name, status=503, count=2)
    assert _sync(acme_org).outcome == SyncRun.Outcome.SUCCESS

    mackerel.sim.inject(acme_org.name, status=500, count=100)
    run = _sync(acme_org)
    assert (run.outcome, run.error_kind) == ("failed", "server_error")
    delay = sync.retry_delay(run, 0)
    assert delay is not None and sync.RETRY_BACKOFF / 2 <= delay <= sync.RETRY_BACKOFF
    assert acme_org.sync_error.startswith("server error: ")


def test_an_unreachable_mackerel_is_reported(
    mackerel: SimulatedMackerel, acme_org: Organization, settings: object
) -> None:
    mackerel.connect(acme_org)
    settings.MACKEREL_API_URL = "http://127.0.0.1:9"  # type: ignore[attr-defined]
    run = _sync(acme_org)
    assert (run.outcome, run.error_kind) == ("failed", "unreachable")


def test_query_count_does_not_grow_with_the_number_of_hosts(
    mackerel: SimulatedMackerel, acme_org: Organization, globex_org: Organization
) -> None:
    counts = []
    for org, size in ((acme_org, 50), (globex_org, 300)):
        mackerel.connect(org)
        ids = mackerel.add_hosts(org, size)
        with CaptureQueriesContext(connection) as first:
            assert _sync(org).outcome == "success"
        for host_id in ids[:5]:
            mackerel.sim.set_host_memo(org.name, host_id, "changed")
        for host_id in ids[5:7]:
            mackerel.sim.retire_host(org.name, host_id)
        mackerel.sim.add_host(org.name, name=f"{org.name}-new", roles={"web": ["app"]})
        with CaptureQueriesContext(connection) as second:
            run = _sync(org)
        assert (run.counts["hosts_updated"], run.counts["hosts_retired"]) == (5, 2)
        counts.append((len(first), len(second)))
    assert counts[0] == counts[1], counts
    assert counts[0][0] <= 30, counts


def test_a_second_sync_of_the_same_organization_is_skipped(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org)
    token = sync.claim(acme_org.pk)
    assert token is not None
    assert sync.sync_inventory(acme_org.pk) is None
    assert sync.claim(acme_org.pk) is None
    sync.release(acme_org.pk, "not-the-holder")
    assert sync.sync_inventory(acme_org.pk) is None, "only the holder releases the lock"
    sync.release(acme_org.pk, token)
    assert _sync(acme_org).outcome == "success"
    assert SyncRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_syncs_at_once_run_one_after_the_other_never_together(
    mackerel: SimulatedMackerel, acme: Customer
) -> None:
    org = Organization.objects.create(customer=acme, name="acme-prod")
    mackerel.connect(org, hosts=5)
    mackerel.sim.inject(org.name, latency=0.3)  # every request slow: the sync takes seconds
    results: list[SyncRun | None] = []
    worker = threading.Thread(target=lambda: results.append(sync.sync_inventory(org.pk)))
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not Organization.objects.filter(pk=org.pk).exclude(sync_lock_token="").exists():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert sync.sync_inventory(org.pk) is None
    finally:
        worker.join(timeout=30)
    assert results[0] is not None and results[0].outcome == "success"
    assert SyncRun.objects.count() == 1


def test_a_lock_left_by_a_dead_worker_expires(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org)
    SyncRun.objects.create(customer=acme_org.customer, organization=acme_org)
    Organization.objects.filter(pk=acme_org.pk).update(
        sync_lock_token="dead-worker",
        sync_started_at=timezone.now() - sync.lease(),
        sync_lock_expires_at=timezone.now() + timedelta(seconds=30),
    )
    assert sync.sync_inventory(acme_org.pk) is None, "a live lease is respected"

    Organization.objects.filter(pk=acme_org.pk).update(
        sync_lock_expires_at=timezone.now() - timedelta(seconds=1)
    )
    run = _sync(acme_org)

    assert run.outcome == SyncRun.Outcome.SUCCESS
    dead = SyncRun.objects.exclude(pk=run.pk).get()
    assert (dead.outcome, dead.error_kind) == ("failed", "interrupted")
    assert dead.finished_at is not None


def test_the_lease_outlasts_the_task_time_limit(settings: object) -> None:
    assert sync.lease() > timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)  # type: ignore[attr-defined]


def test_organizations_without_a_key_or_inactive_are_not_synced(
    mackerel: SimulatedMackerel, acme_org: Organization, globex_org: Organization
) -> None:
    assert sync.sync_inventory(acme_org.pk) is None
    mackerel.connect(globex_org)
    Organization.objects.filter(pk=globex_org.pk).update(is_active=False)
    assert sync.sync_inventory(globex_org.pk) is None
    assert sync.sync_inventory(0) is None
    assert [slot.org_id for slot in sync.schedule(300)] == []


def test_syncs_are_spread_over_the_interval(acme: Customer) -> None:
    for index in range(6):
        org = Organization.objects.create(customer=acme, name=f"org-{index}")
        org.set_api_key(f"key-{index}-0123456789")
        org.save()
    slots = sync.schedule(300)
    assert len(slots) == 6
    countdowns = [slot.countdown for slot in slots]
    assert countdowns == sorted(countdowns)
    assert all(index * 50 <= c < index * 50 + 25 for index, c in enumerate(countdowns))


def test_saving_an_organization_keeps_what_sync_wrote(
    mackerel: SimulatedMackerel, acme_org: Organization
) -> None:
    mackerel.connect(acme_org)
    stale = Organization.objects.get(pk=acme_org.pk)
    _sync(acme_org)
    stale.memo = "edited in the admin while sync ran"
    stale.save()
    fresh = Organization.objects.get(pk=acme_org.pk)
    assert fresh.memo == "edited in the admin while sync ran"
    assert fresh.last_sync_success_at is not None
    assert fresh.has_api_key
