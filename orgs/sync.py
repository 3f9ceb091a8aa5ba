"""Inventory sync: Mackerel's services, roles, hosts and monitors copied into the mirrors.

One sync of an organization is a *run* (a ``SyncRun`` row) under the organization's sync lock:

* the lock is a lease on the organization's row, taken with a conditional UPDATE that succeeds
  only when the lock is free or its lease has expired, so a worker that died holding it blocks
  that organization for one lease at most, and two syncs of one organization never overlap;
* everything is read from Mackerel first, then written in one transaction with a fixed number of
  queries per batch of hosts (never one per host), so a failure half-way writes nothing;
* later phases (the alert reconciliation of ``alerts``, which sits above this app) are passed in
  by the caller and run in the same run, under the same lock, with the same client;
* errors are classified: a bad key (401/403) stops the run, a transient failure (5xx, network,
  a long Retry-After) ends its phase and lets the others run; both are recorded on the run and
  on the organization, which staff see flagged after ``SYNC_FAILING_AFTER`` failures in a row.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from orgs import mackerel
from orgs.models import Host, Monitor, Organization, Role, Service, SyncCounts, SyncRun
from portal import logcontext

logger = logging.getLogger(__name__)

# Rows per INSERT ... ON CONFLICT statement: a sync costs the same few queries for 50 hosts as
# for 1,000, and one more per further thousand.
BATCH_SIZE = 1000
# Retries inside one request (the client's rule, retry.py), and the longest Retry-After slept
# through in a worker; a longer one ends the run and the task is rescheduled instead.
CLIENT_TIMEOUT = 10.0
CLIENT_MAX_RETRIES = 3
CLIENT_BACKOFF = 0.5
CLIENT_MAX_RETRY_AFTER = 10.0
# Task-level retries of a run that failed for a transient reason, and the first wait.
MAX_RETRIES = 3
RETRY_BACKOFF = 30.0

# Errors that only a person can fix (the key): the run stops and counts as failed.
PERMANENT = frozenset(
    {
        SyncRun.ErrorKind.AUTHENTICATION,
        SyncRun.ErrorKind.PERMISSION,
        SyncRun.ErrorKind.WRONG_ORGANIZATION,
    }
)
# Errors after which every further request would fail the same way: the run stops at once.
STOPPING = PERMANENT | {SyncRun.ErrorKind.RATE_LIMITED, SyncRun.ErrorKind.TIMEOUT}
# Errors worth another try soon; the others wait for someone to fix the key or the code.
TRANSIENT = frozenset(
    {
        SyncRun.ErrorKind.RATE_LIMITED,
        SyncRun.ErrorKind.UNREACHABLE,
        SyncRun.ErrorKind.SERVER_ERROR,
        SyncRun.ErrorKind.UNEXPECTED,
        SyncRun.ErrorKind.TIMEOUT,
    }
)
# Plain English, stored in Organization.sync_error (text, not a translated label).
ERROR_SUMMARY: dict[str, str] = {
    SyncRun.ErrorKind.AUTHENTICATION: "authentication failed",
    SyncRun.ErrorKind.PERMISSION: "permission denied",
    SyncRun.ErrorKind.WRONG_ORGANIZATION: "the API key belongs to another organization",
    SyncRun.ErrorKind.RATE_LIMITED: "rate limited",
    SyncRun.ErrorKind.UNREACHABLE: "unreachable",
    SyncRun.ErrorKind.SERVER_ERROR: "server error",
    SyncRun.ErrorKind.UNEXPECTED: "unexpected answer",
    SyncRun.ErrorKind.TIMEOUT: "timed out",
    SyncRun.ErrorKind.INTERRUPTED: "interrupted",
    SyncRun.ErrorKind.INTERNAL: "internal error",
}

# Agent metadata shown on host pages and in search; the rest (block devices, file systems,
# every CPU's flags) is large and of no use to a customer reading a mail.
META_KEYS = ("agent-name", "agent-version", "kernel")
CLOUD_METADATA_KEYS = ("instance-type", "instance-id", "availability-zone", "region")

# A phase after the inventory: given the organization and the run's client, it returns counts.
Phase = Callable[[Organization, mackerel.MackerelClient], SyncCounts]


class OtherOrganizationKey(mackerel.MackerelError):
    """The API key works, but for another Mackerel organization than this one."""


# --- The lock ---------------------------------------------------------------------------------
def lease() -> timedelta:
    """How long a sync may hold its lock: past the task's hard time limit, when Celery has
    killed it for sure."""
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)


def claim(org_id: int, duration: timedelta | None = None) -> str | None:
    """Take the organization's sync lock; its token, or None when another sync holds it."""
    token = secrets.token_hex(16)
    now = timezone.now()
    taken = (
        Organization.objects.filter(pk=org_id)
        .filter(Q(sync_lock_expires_at__isnull=True) | Q(sync_lock_expires_at__lte=now))
        .update(
            sync_lock_token=token,
            sync_started_at=now,
            sync_lock_expires_at=now + (duration or lease()),
        )
    )
    if not taken:
        return None
    # A run still "running" here belonged to a worker that died: say so instead of leaving it.
    SyncRun.objects.filter(organization_id=org_id, outcome=SyncRun.Outcome.RUNNING).update(
        outcome=SyncRun.Outcome.FAILED,
        finished_at=now,
        error_kind=SyncRun.ErrorKind.INTERRUPTED,
        error_message="the sync stopped before it finished (worker lost); its lock expired",
    )
    return token


def renew(org_id: int, token: str, duration: timedelta | None = None) -> bool:
    """Extend the lease between phases; False if the lock was lost (it expired and was taken)."""
    expires = timezone.now() + (duration or lease())
    return bool(
        Organization.objects.filter(pk=org_id, sync_lock_token=token).update(
            sync_lock_expires_at=expires
        )
    )


def release(org_id: int, token: str) -> None:
    Organization.objects.filter(pk=org_id, sync_lock_token=token).update(
        sync_lock_token="", sync_lock_expires_at=None
    )


# --- Runs -------------------------------------------------------------------------------------
def client_for(org: Organization) -> mackerel.MackerelClient:
    """A client for the organization's key, with the worker-friendly limits above."""
    return mackerel.MackerelClient(
        org.get_api_key(),
        organization=org.name,
        base_url=settings.MACKEREL_API_URL,
        timeout=CLIENT_TIMEOUT,
        max_retries=CLIENT_MAX_RETRIES,
        backoff=CLIENT_BACKOFF,
        max_retry_after=CLIENT_MAX_RETRY_AFTER,
    )


def sync_inventory(org_id: int) -> SyncRun | None:
    """Sync the organization's inventory alone (no alerts); None when skipped.

    Skipped: the organization is gone, inactive or has no key, or another sync holds its lock.
    """
    return run_sync(org_id)


def run_sync(org_id: int, phases: Sequence[Phase] = ()) -> SyncRun | None:
    """One run: the inventory, then ``phases``, under the organization's lock; None if skipped."""
    org = Organization.objects.filter(pk=org_id, is_active=True).first()
    if org is None or not org.has_api_key:
        return None
    with logcontext.bind(organization=org.name):
        return _run_locked(org, phases)


def _run_locked(org: Organization, phases: Sequence[Phase]) -> SyncRun | None:
    org_id = org.pk
    token = claim(org_id)
    if token is None:
        logger.info("sync of %s skipped: another sync holds its lock", org.name)
        return None
    run = SyncRun.objects.create(customer_id=org.customer_id, organization=org)
    try:
        with client_for(org) as client:
            _run_phases(run, org, token, client, [inventory_phase, *phases])
    except Exception as exc:
        # A bug or a database failure: recorded for staff, then raised for the worker's log.
        _fail(run, SyncRun.ErrorKind.INTERNAL, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        _finish(run, token)
    return run


def _run_phases(
    run: SyncRun,
    org: Organization,
    token: str,
    client: mackerel.MackerelClient,
    phases: Sequence[Phase],
) -> None:
    succeeded = 0
    for phase in phases:
        try:
            counts = phase(org, client)
        except (mackerel.MackerelError, SoftTimeLimitExceeded) as exc:
            kind = classify(exc)
            logger.warning("sync of %s: %s: %s", org.name, ERROR_SUMMARY[kind], exc)
            _fail(run, kind, str(exc))
            if isinstance(exc, mackerel.RateLimitedError) and exc.retry_after is not None:
                run.retry_after = exc.retry_after
            if kind in STOPPING:
                break
            continue
        succeeded += 1
        run.counts = {**run.counts, **counts}
        if "hosts_seen" in counts:
            run.host_count = counts["hosts_seen"]
        if not renew(org.pk, token):
            _fail(run, SyncRun.ErrorKind.TIMEOUT, "the sync lock expired before the run ended")
            break
    if not run.error_kind:
        run.outcome = SyncRun.Outcome.SUCCESS
    elif succeeded and run.error_kind not in PERMANENT:
        run.outcome = SyncRun.Outcome.PARTIAL


def classify(exc: BaseException) -> str:
    """The ``SyncRun.ErrorKind`` of an exception from a sync."""
    kinds: list[tuple[type[BaseException], str]] = [
        (OtherOrganizationKey, SyncRun.ErrorKind.WRONG_ORGANIZATION),
        (mackerel.AuthenticationError, SyncRun.ErrorKind.AUTHENTICATION),
        (mackerel.PermissionDeniedError, SyncRun.ErrorKind.PERMISSION),
        (mackerel.RateLimitedError, SyncRun.ErrorKind.RATE_LIMITED),
        (mackerel.UnreachableError, SyncRun.ErrorKind.UNREACHABLE),
        (mackerel.ServerError, SyncRun.ErrorKind.SERVER_ERROR),
        (mackerel.MackerelError, SyncRun.ErrorKind.UNEXPECTED),
        (SoftTimeLimitExceeded, SyncRun.ErrorKind.TIMEOUT),
    ]
    return next((kind for cls, kind in kinds if isinstance(exc, cls)), SyncRun.ErrorKind.INTERNAL)


def _fail(run: SyncRun, kind: str, message: str) -> None:
    # The first error is the one worth reading; later ones are usually its consequences.
    if not run.error_kind:
        run.error_kind = kind
        run.error_message = message[:2000]
    run.outcome = SyncRun.Outcome.FAILED


def _finish(run: SyncRun, token: str) -> None:
    """Record the run and the organization's health, then let go of the lock."""
    now = timezone.now()
    run.finished_at = now
    if run.outcome == SyncRun.Outcome.RUNNING:
        run.outcome = SyncRun.Outcome.FAILED
    run.save()
    health: dict[str, Any] = {"last_sync_at": now}
    if run.outcome == SyncRun.Outcome.SUCCESS:
        health |= {"last_sync_success_at": now, "sync_error": "", "consecutive_sync_failures": 0}
    else:
        summary = ERROR_SUMMARY.get(run.error_kind, "failed")
        health |= {
            "sync_error": f"{summary}: {run.error_message}"[:2000],
            "consecutive_sync_failures": F("consecutive_sync_failures") + 1,
        }
    Organization.objects.filter(pk=run.organization_id).update(**health)
    release(run.organization_id, token)


def retry_delay(run: SyncRun | None, retries: int) -> float | None:
    """Seconds before the task tries a failed run again, or None: success, skipped, a problem
    a retry cannot fix (a bad key), or retries used up (the next scheduled sync comes anyway)."""
    if run is None or run.outcome == SyncRun.Outcome.SUCCESS or retries >= MAX_RETRIES:
        return None
    if run.error_kind not in TRANSIENT:
        return None
    if run.retry_after is not None:
        delay = run.retry_after
    else:
        step = RETRY_BACKOFF * 2.0**retries
        # Jitter so organizations failing together (Mackerel down) do not come back together.
        delay = step / 2 + random.uniform(0, step / 2)  # noqa: S311
    # A wait as long as the interval is the next scheduled sync's; a countdown in Redis that long
    # would also risk outliving the broker's visibility timeout and running twice.
    return delay if delay < settings.TAIRYO_SYNC_INTERVAL_SECONDS else None


# --- Scheduling -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Slot:
    """When, within one sync interval, an organization's sync starts."""

    org_id: int
    countdown: float


def schedule(interval: float) -> list[Slot]:
    """Every active organization with a key, spread evenly over ``interval`` with jitter.

    Ordered by id so an organization keeps roughly its place from one interval to the next.
    """
    org_ids = list(
        Organization.objects.filter(is_active=True)
        .exclude(api_key_encrypted="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    width = interval / max(len(org_ids), 1)
    return [
        Slot(org_id, index * width + random.uniform(0, width * 0.5))  # noqa: S311
        for index, org_id in enumerate(org_ids)
    ]


# --- The inventory ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Inventory:
    """Everything one sync reads from Mackerel before it writes anything."""

    organization: mackerel.Organization
    services: list[mackerel.Service]
    roles: list[mackerel.Role]
    hosts: list[mackerel.Host]
    monitors: list[mackerel.Monitor]
    fetched_at: datetime


def inventory_phase(org: Organization, client: mackerel.MackerelClient) -> SyncCounts:
    """Read the organization's inventory from Mackerel and store it in the mirrors."""
    inventory = fetch_inventory(org, client)
    return store_inventory(org, inventory)


def fetch_inventory(org: Organization, client: mackerel.MackerelClient) -> Inventory:
    fetched_at = timezone.now()
    remote = client.get_organization()
    if remote.name != org.name:
        # Sales pasted the key of another organization: its hosts must not become this one's.
        raise OtherOrganizationKey(
            organization=org.name,
            method="GET",
            path="/api/v0/org",
            status_code=200,
            detail=f"the API key belongs to Mackerel organization {remote.name!r}",
        )
    services = client.list_services()
    return Inventory(
        organization=remote,
        services=services,
        roles=[role for service in services for role in client.list_roles(service.name)],
        # Mackerel lists working and standby hosts unless asked for every status.
        hosts=client.list_hosts(statuses=mackerel.HOST_STATUSES),
        monitors=client.list_monitors(),
        fetched_at=fetched_at,
    )


def store_inventory(org: Organization, inventory: Inventory) -> SyncCounts:
    """Write the inventory in one transaction; the counts of what it saw and changed."""
    counts: SyncCounts = {}
    with transaction.atomic():
        if not org.display_name and inventory.organization.display_name:
            display_name = inventory.organization.display_name[:200]
            Organization.objects.filter(pk=org.pk, display_name="").update(
                display_name=display_name
            )
        services = _store_services(org, inventory, counts)
        roles = _store_roles(org, inventory, services, counts)
        host_ids = _store_hosts(org, inventory, counts)
        _store_host_roles(org, inventory.hosts, host_ids, roles)
        _store_monitors(org, inventory, counts)
    return counts


def _host_role_pairs(hosts: Iterable[mackerel.Host]) -> set[tuple[str, str]]:
    return {
        (service, role) for host in hosts for service, names in host.roles.items() for role in names
    }


def _store_services(org: Organization, inventory: Inventory, counts: SyncCounts) -> dict[str, int]:
    """Services by name → id. Services gone from Mackerel are marked deleted, not deleted:
    routes and cases point at them."""
    memos = {service.name: service.memo for service in inventory.services}
    # A host may name a service created after the service list was read.
    for service, _ in _host_role_pairs(inventory.hosts):
        memos.setdefault(service, "")
    existing = {s.name: s for s in Service.objects.filter(organization=org).order_by()}
    changed = [
        Service(customer_id=org.customer_id, organization=org, name=name[:100], memo=memo)
        for name, memo in memos.items()
        if name not in existing or (existing[name].memo, existing[name].is_deleted) != (memo, False)
    ]
    ids = {name: service.pk for name, service in existing.items()}
    if changed:
        Service.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["organization", "name"],
            update_fields=["memo", "is_deleted"],
        )
        ids |= {service.name: service.pk for service in changed}
    gone = [s.pk for name, s in existing.items() if name not in memos and not s.is_deleted]
    if gone:
        Service.objects.filter(pk__in=gone).update(is_deleted=True)
    counts["services"] = len(inventory.services)
    return ids


def _store_roles(
    org: Organization, inventory: Inventory, services: dict[str, int], counts: SyncCounts
) -> dict[tuple[str, str], int]:
    """Roles by (service, role) → id. Roles gone from Mackerel are deleted with their host links,
    as Mackerel does; nothing else points at a role."""
    memos = {(role.service, role.name): role.memo for role in inventory.roles}
    for pair in _host_role_pairs(inventory.hosts):
        memos.setdefault(pair, "")
    by_id = {service_id: name for name, service_id in services.items()}
    existing = {
        (by_id.get(role.service_id, ""), role.name): role
        for role in Role.objects.filter(organization=org).order_by()
    }
    changed = [
        Role(
            customer_id=org.customer_id,
            organization=org,
            service_id=services[service],
            name=name[:100],
            memo=memo,
        )
        for (service, name), memo in memos.items()
        if (service, name) not in existing or existing[(service, name)].memo != memo
    ]
    ids = {pair: role.pk for pair, role in existing.items()}
    if changed:
        Role.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["service", "name"],
            update_fields=["memo"],
        )
        ids |= {(by_id[role.service_id], role.name): role.pk for role in changed}
    gone = [role.pk for pair, role in existing.items() if pair not in memos]
    if gone:
        Role.objects.filter(pk__in=gone).delete()
    counts["roles"] = len(inventory.roles)
    return ids


# The host fields sync owns; a webhook writes name, status and memo too, the rest only sync.
HOST_FIELDS = (
    "name",
    "display_name",
    "custom_identifier",
    "status",
    "memo",
    "ip_addresses",
    "interfaces",
    "meta",
    "is_retired",
    "retired_at",
    "mackerel_created_at",
    "is_placeholder",
)


def host_values(host: mackerel.Host) -> dict[str, Any]:
    """The mirror's fields for a host as Mackerel lists it."""
    return {
        "name": host.name[:255],
        "display_name": (host.display_name or "")[:255],
        "custom_identifier": (host.custom_identifier or "")[:255],
        "status": host.status,
        "memo": host.memo,
        "ip_addresses": " ".join(host.ip_addresses),
        "interfaces": [
            {
                "name": interface.name,
                "ipAddresses": interface.ip_addresses,
                "macAddress": interface.mac_address,
            }
            for interface in host.interfaces
        ],
        "meta": meta_worth_showing(host.meta),
        # Listed hosts are never retired; one marked retired here by mistake comes back.
        "is_retired": False,
        "retired_at": None,
        "mackerel_created_at": host.created_at,
        "is_placeholder": False,
    }


def meta_worth_showing(meta: dict[str, Any]) -> dict[str, Any]:
    """The agent metadata a person reads: agent, kernel, CPU count and model, memory, cloud."""
    kept: dict[str, Any] = {key: meta[key] for key in META_KEYS if key in meta}
    cpus = meta.get("cpu")
    if isinstance(cpus, list) and cpus:
        first = cpus[0] if isinstance(cpus[0], dict) else {}
        kept["cpu"] = {"count": len(cpus), "model": first.get("model_name", "")}
    memory = meta.get("memory")
    if isinstance(memory, dict) and "total" in memory:
        kept["memory"] = {"total": memory["total"]}
    cloud = meta.get("cloud")
    if isinstance(cloud, dict):
        metadata = cloud.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        kept["cloud"] = {
            "provider": cloud.get("provider", ""),
            **{key: metadata[key] for key in CLOUD_METADATA_KEYS if key in metadata},
        }
    return kept


def _store_hosts(org: Organization, inventory: Inventory, counts: SyncCounts) -> dict[str, int]:
    """Hosts by Mackerel ID → id: new and changed ones upserted in batches, missing ones retired."""
    existing = {h.mackerel_id: h for h in Host.objects.filter(organization=org).order_by()}
    now = timezone.now()
    listed: dict[str, dict[str, Any]] = {host.id: host_values(host) for host in inventory.hosts}
    upserts = []
    created = 0
    for mackerel_id, values in sorted(listed.items()):
        current = existing.get(mackerel_id)
        if current is not None and all(
            getattr(current, key) == value for key, value in values.items()
        ):
            continue
        created += current is None
        upserts.append(
            Host(
                customer_id=org.customer_id,
                organization=org,
                mackerel_id=mackerel_id,
                synced_at=now,
                **values,
            )
        )
    ids = {mackerel_id: host.pk for mackerel_id, host in existing.items()}
    if upserts:
        # ON CONFLICT DO UPDATE: a host a webhook created a moment ago is updated, not doubled.
        Host.objects.bulk_create(
            upserts,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["organization", "mackerel_id"],
            update_fields=[*HOST_FIELDS, "synced_at", "updated_at"],
        )
        ids |= {host.mackerel_id: host.pk for host in upserts}
    missing = [
        host.pk
        for mackerel_id, host in existing.items()
        if mackerel_id not in listed and not host.is_retired
    ]
    retired = 0
    if missing:
        # A host a webhook touched after the list was read may be newer than the list: it is
        # left for the next sync to judge.
        retired = Host.objects.filter(pk__in=missing, updated_at__lt=inventory.fetched_at).update(
            is_retired=True, retired_at=now, updated_at=now
        )
    counts |= {
        "hosts_seen": len(listed),
        "hosts_created": created,
        "hosts_updated": len(upserts) - created,
        "hosts_retired": retired,
    }
    return ids


def _store_host_roles(
    org: Organization,
    hosts: Sequence[mackerel.Host],
    host_ids: dict[str, int],
    role_ids: dict[tuple[str, str], int],
) -> None:
    """The host ↔ role links of listed hosts, through the M2M table in bulk. Retired hosts keep
    the roles they had, so their old cases still read as they did."""
    through = Host.roles.through
    wanted = {
        (host_ids[host.id], role_ids[(service, role)])
        for host in hosts
        for service, names in host.roles.items()
        for role in names
    }
    listed = {host_ids[host.id] for host in hosts}
    stale = []
    present = set()
    for link_id, host_id, role_id in through.objects.filter(host__organization=org).values_list(
        "pk", "host_id", "role_id"
    ):
        present.add((host_id, role_id))
        if host_id in listed and (host_id, role_id) not in wanted:
            stale.append(link_id)
    if stale:
        through.objects.filter(pk__in=stale).delete()
    new = wanted - present
    if new:
        through.objects.bulk_create(
            [through(host_id=host_id, role_id=role_id) for host_id, role_id in sorted(new)],
            batch_size=BATCH_SIZE,
            ignore_conflicts=True,
        )


def _store_monitors(org: Organization, inventory: Inventory, counts: SyncCounts) -> None:
    """Monitors with their full definition; those gone from Mackerel are marked deleted. Check
    monitors are never listed by Mackerel, so they are left as webhooks described them."""
    existing = {m.mackerel_id: m for m in Monitor.objects.filter(organization=org).order_by()}
    now = timezone.now()
    changed = []
    for monitor in inventory.monitors:
        values = {
            "type": monitor.type[:32],
            "name": monitor.name[:255],
            "memo": monitor.memo,
            "is_mute": monitor.is_mute,
            "definition": monitor.definition,
            "deleted_at": None,
        }
        current = existing.get(monitor.id)
        if current is None or any(getattr(current, k) != v for k, v in values.items()):
            changed.append(
                Monitor(
                    customer_id=org.customer_id,
                    organization=org,
                    mackerel_id=monitor.id,
                    **values,
                )
            )
    if changed:
        Monitor.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["organization", "mackerel_id"],
            update_fields=[
                "type",
                "name",
                "memo",
                "is_mute",
                "definition",
                "deleted_at",
                "updated_at",
            ],  # fmt: skip
        )
    listed = {monitor.id for monitor in inventory.monitors}
    gone = [
        m.pk
        for mackerel_id, m in existing.items()
        if mackerel_id not in listed and m.deleted_at is None and m.type != "check"
    ]
    deleted = Monitor.objects.filter(pk__in=gone).update(deleted_at=now) if gone else 0
    counts |= {"monitors": len(inventory.monitors), "monitors_deleted": deleted}
