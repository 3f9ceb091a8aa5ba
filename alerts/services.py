"""Intake and processing of Mackerel webhooks."""

from __future__ import annotations

import contextlib
import functools
import logging
from dataclasses import dataclass, field
from datetime import timedelta

import redis
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from alerts import cases, intake
from alerts.models import AlertGroup, Case, CaseEvent, WebhookReceipt
from orgs import mirrors
from orgs.models import Organization
from portal import coalescing, logcontext

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
PLANNER_TASK = "notifications.tasks.plan_notifications"
# Outbound webhooks read the same timeline entries; woken the same way, by name.
WEBHOOK_PLANNER_TASK = "webhooks.tasks.plan_webhooks"


def accept(
    org: Organization,
    body: bytes,
    headers: dict[str, str],
    remote_addr: str | None,
    event: str,
    *,
    wake: bool = True,
) -> WebhookReceipt:
    """Store a webhook as received (one insert) and have a worker process it after commit.

    ``wake=False`` leaves the wake-up to the caller: the webhook view sends it once its answer
    is on its way (``AnsweredFirst``).
    """
    receipt = WebhookReceipt.objects.create(
        customer_id=org.customer_id,
        organization=org,
        event=event,
        body=body.decode("utf-8"),
        headers=headers,
        remote_addr=remote_addr,
    )
    if wake:
        transaction.on_commit(wake_processing)
    return receipt


WAKE_KEY = "tairyo:intake:wake"
_redis: redis.Redis | None = None


def _wake_flag() -> redis.Redis:
    global _redis  # noqa: PLW0603 -- one connection pool per process, made on first use
    if _redis is None:
        _redis = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
    return _redis


def wake_processing() -> bool:
    """Have a worker drain the pending receipts; True if a wake-up was published.

    Publishing a Celery message cost a quarter of the intake's CPU. During a storm one wake-up
    per TAIRYO_INTAKE_WAKE_MS is enough, since the woken worker drains every pending receipt;
    a Redis flag (SET NX with expiry) says whether one is already on its way. If Redis is away,
    the sweep finds the receipts (nothing is lost).
    """
    window = settings.TAIRYO_INTAKE_WAKE_MS
    if window and not settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            if not _wake_flag().set(WAKE_KEY, "1", nx=True, px=window):
                return False
        except redis.RedisError:
            logger.warning("could not reach Redis to wake the intake; the sweep will")
            return False
    from alerts import tasks

    try:
        tasks.process_pending.apply_async(retry=False)
    except Exception:  # the broker's errors vary by transport; the receipts are safe either way
        logger.warning("could not wake the intake; the sweep will", exc_info=True)
        return False
    return True


def process_pending(batch: int = 100) -> int:
    """Process every pending receipt, oldest first, until none is left; how many were done."""
    done = 0
    while True:
        ids = _claim_batch(batch)
        if not ids:
            # Let the next webhook publish a wake-up, then look once more: a receipt committed
            # while the flag was still set is seen now.
            _clear_wake_flag()
            ids = _claim_batch(batch)
            if not ids:
                return done
        for receipt_id in ids:
            with logcontext.bind(receipt=receipt_id):
                try:
                    _process_claimed(receipt_id)
                except Exception:
                    # Recorded on the receipt; the sweep retries it. The rest of the batch goes on.
                    logger.exception("receipt %s failed", receipt_id)
        done += len(ids)


def _claim_batch(batch: int) -> list[int]:
    """Claim up to ``batch`` receipts nobody has tried yet, oldest first.

    Several drains run at once during a storm; each takes rows no other drain holds (SKIP
    LOCKED) and marks them attempted, so no receipt is claimed twice.
    """
    with transaction.atomic():
        ids = list(
            WebhookReceipt.objects.select_for_update(skip_locked=True)
            .filter(status=WebhookReceipt.Status.PENDING, attempts=0)
            .order_by("received_at", "pk")
            .values_list("pk", flat=True)[:batch]
        )
        WebhookReceipt.objects.filter(pk__in=ids).update(attempts=1)
    return ids


def _clear_wake_flag() -> None:
    if settings.TAIRYO_INTAKE_WAKE_MS and not settings.CELERY_TASK_ALWAYS_EAGER:
        # If Redis is away, the flag expires by itself within the window.
        with contextlib.suppress(redis.RedisError):
            _wake_flag().delete(WAKE_KEY)


def reject(
    org: Organization,
    body: bytes,
    headers: dict[str, str],
    remote_addr: str | None,
    *,
    event: str,
    reason: str,
) -> WebhookReceipt:
    """Keep a webhook that could not be understood, for support to see why."""
    return WebhookReceipt.objects.create(
        customer_id=org.customer_id,
        organization=org,
        event=event,
        # Kept readable, not byte-exact: PostgreSQL text cannot hold NUL.
        body=body.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
        headers=headers,
        remote_addr=remote_addr,
        status=WebhookReceipt.Status.REJECTED,
        reason=reason,
        processed_at=timezone.now(),
    )


def enqueue(receipt_id: int) -> None:
    """Wake a worker; if Redis is away, the sweep finds the receipt later (nothing is lost)."""
    from alerts import tasks

    try:
        tasks.process_receipt.apply_async((receipt_id,), retry=False)
    except Exception:  # the broker's errors vary by transport; the receipt is safe either way
        logger.warning("could not enqueue receipt %s; the sweep will", receipt_id, exc_info=True)


@dataclass
class Outcome:
    """What processing a receipt did, recorded on the receipt."""

    status: str = WebhookReceipt.Status.PROCESSED
    reason: str = ""
    entries: list[CaseEvent] = field(default_factory=list)


def process_receipt(receipt_id: int) -> None:
    """Turn a stored webhook into case changes or mirror updates, at most once.

    The receipt, the case, its timeline entry and the mirrors change in one transaction; a
    crash leaves the receipt pending for the sweep to retry.
    """
    claimed = WebhookReceipt.objects.filter(
        pk=receipt_id, status=WebhookReceipt.Status.PENDING
    ).update(attempts=F("attempts") + 1)
    if claimed:
        with logcontext.bind(receipt=receipt_id):
            _process_claimed(receipt_id)


def _process_claimed(receipt_id: int) -> None:
    try:
        with transaction.atomic():
            _process_locked(receipt_id)
    except Exception as exc:
        reason = f"attempt failed: {type(exc).__name__}: {exc}"[:1000]
        WebhookReceipt.objects.filter(pk=receipt_id).update(reason=reason)
        raise


def _process_locked(receipt_id: int) -> None:
    # Lock the receipt row only: locking the joined organization too would make every other
    # receipt of that organization wait for this one. Waiting, not skipping: another drain's
    # claim may hold the row for a moment (its SELECT ... FOR UPDATE keeps the lock of a row it
    # found already claimed until it commits), and skipping left the receipt for the sweep. A
    # worker that waited for another processing it finds it no longer pending.
    receipt = (
        WebhookReceipt.objects.select_for_update(of=("self",))
        .select_related("organization")
        .filter(pk=receipt_id, status=WebhookReceipt.Status.PENDING)
        .first()
    )
    if receipt is None:
        return  # done already (by another worker, or a duplicated task)
    logcontext.add(organization=receipt.organization.name)
    if receipt.attempts > MAX_ATTEMPTS:
        outcome = Outcome(WebhookReceipt.Status.FAILED, f"gave up after {MAX_ATTEMPTS} attempts")
    else:
        outcome = _handle(receipt)
    receipt.status = outcome.status
    receipt.reason = outcome.reason
    receipt.processed_at = timezone.now()
    receipt.save(update_fields=["status", "reason", "processed_at"])
    logger.info("receipt %s %s: %s", receipt.pk, outcome.status, outcome.reason or "applied")
    if any(entry.applied for entry in outcome.entries):
        transaction.on_commit(wake_planner)


def _handle(receipt: WebhookReceipt) -> Outcome:
    org = receipt.organization
    try:
        event = intake.parse_payload(intake.decode(receipt.body.encode("utf-8")))
    except intake.MalformedWebhook as exc:
        return Outcome(WebhookReceipt.Status.REJECTED, str(exc))
    if not isinstance(event, intake.SampleEvent) and event.org_name != org.name:
        return Outcome(
            WebhookReceipt.Status.REJECTED,
            f"orgName {event.org_name!r} is not this URL's organization {org.name!r}",
        )
    if isinstance(event, intake.AlertEvent):
        logcontext.add(case_id=event.alert.id)
    return _dispatch(org, receipt, event)


def _dispatch(org: Organization, receipt: WebhookReceipt, event: intake.Event) -> Outcome:
    if isinstance(event, intake.AlertEvent):
        obs = cases.Observation(event, Case.Source.WEBHOOK, receipt.received_at, receipt)
        entry = cases.apply(org, obs)
        if entry is None:
            return Outcome(reason="no change: the case already shows this")
        return Outcome(entries=[entry])
    if isinstance(event, intake.AlertGroupEvent):
        return _alert_group(org, event)
    if isinstance(event, intake.HostEvent):
        mirrors.upsert_webhook_host(
            org,
            mackerel_id=event.host.id,
            name=event.host.name,
            status=event.host.status,
            memo=event.host.memo,
            roles=[(role.service, role.role) for role in event.host.roles],
            retired=event.event == "hostRetire",
        )
        return Outcome()
    if isinstance(event, intake.MonitorEvent):
        deleted_at = timezone.now() if event.event == "monitorDelete" else None
        mirrors.upsert_monitor(org, event.monitor, deleted_at=deleted_at)
        return Outcome()
    if isinstance(event, intake.SampleEvent):
        return Outcome(reason="test notification from Mackerel received")
    return Outcome(WebhookReceipt.Status.IGNORED, f"unknown event {event.event!r}")


# Cases opened this long before an alert group was created are taken to belong to it: Mackerel's
# alertGroup payload does not list its alerts.
ALERT_GROUP_LOOKBACK = timedelta(minutes=5)


def _alert_group(org: Organization, event: intake.AlertGroupEvent) -> Outcome:
    group, _ = AlertGroup.objects.update_or_create(
        organization=org,
        mackerel_id=event.id,
        defaults={
            "customer_id": org.customer_id,
            "url": event.url[:500],
            "status": event.status,
            "setting_name": event.setting_name[:255],
            "setting_memo": event.setting_memo,
            "opened_at": event.created_at,
            "closed_at": event.closed_at,
        },
    )
    linked = Case.objects.filter(
        organization=org,
        alert_group=None,
        opened_at__gte=event.created_at - ALERT_GROUP_LOOKBACK,
        opened_at__lte=event.closed_at or event.created_at + ALERT_GROUP_LOOKBACK,
    ).update(alert_group=group)
    return Outcome(reason=f"alert group {event.id} ({event.status}); {linked} cases linked")


def wake_planner() -> None:
    """Ask the notification planner to look at new timeline entries.

    By task name, so that ``alerts`` does not import ``notifications``; a lost wake-up is caught
    by the planner's own periodic run.
    """
    for task in (PLANNER_TASK, WEBHOOK_PLANNER_TASK):
        if task in current_app.tasks:
            # At most one wake-up waiting per planner (portal/coalescing.py).
            coalescing.wake(task, functools.partial(_publish, task))


def _publish(task: str) -> None:
    try:
        current_app.signature(task).apply_async(retry=False)
    except Exception:  # the broker's errors vary by transport; the planner's sweep catches up
        logger.warning("could not wake %s", task, exc_info=True)


def reprocess(receipt_ids: list[int]) -> int:
    """Staff asked for these receipts to be processed again (after a fix, say).

    Safe whatever they did the first time: applying a webhook twice changes nothing.
    """
    count = WebhookReceipt.objects.filter(pk__in=receipt_ids).update(
        status=WebhookReceipt.Status.PENDING, attempts=0, reason="", processed_at=None
    )
    for receipt_id in receipt_ids:
        transaction.on_commit(functools.partial(enqueue, receipt_id))
    return count


def sweep(older_than: timedelta = timedelta(seconds=30), limit: int = 500) -> int:
    """Re-enqueue receipts left pending (a lost message, a dead worker, Redis flushed)."""
    cutoff = timezone.now() - older_than
    ids = list(
        WebhookReceipt.objects.filter(status=WebhookReceipt.Status.PENDING, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    for receipt_id in ids:
        enqueue(receipt_id)
    if ids:
        logger.info("sweep re-enqueued %d webhook receipts", len(ids))
    return len(ids)
