"""The notification workflows the tasks call."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from notifications import delivery, planning
from portal import coalescing

logger = logging.getLogger(__name__)


# The task that runs the planner; intake wakes it by this name (alerts.services.PLANNER_TASK).
PLANNER = "notifications.tasks.plan_notifications"


def plan_coalesced() -> None:
    """Plan, unless a planner is already running; then ask it to look once more."""
    coalescing.run_coalesced(PLANNER, plan, settle=settings.TAIRYO_PLANNER_SETTLE_MS / 1000)


def plan() -> planning.Plan:
    """Plan every new timeline entry and wake the senders after commit."""
    result = planning.plan_pending()
    for notification_id in result.to_send:
        enqueue_send(notification_id)
    for digest_id in result.digests:
        enqueue_send(digest_id, countdown=_seconds_until_due(digest_id))
    return result


def _seconds_until_due(digest_id: int) -> float:
    from django.utils import timezone

    from notifications.models import Notification

    send_after = Notification.objects.filter(pk=digest_id).values_list("send_after", flat=True)
    first = send_after.first()
    return max((first - timezone.now()).total_seconds(), 0) + 1 if first else 0


def enqueue_send(notification_id: int, countdown: float = 0) -> None:
    """Wake a sender after commit; a lost message is found by the sweep."""
    from notifications import tasks

    def _send() -> None:
        try:
            tasks.send_notification.apply_async(
                (notification_id,), countdown=countdown, retry=False
            )
        except Exception:  # the broker's errors vary by transport; the row waits for the sweep
            logger.warning("could not enqueue notification %s", notification_id, exc_info=True)

    transaction.on_commit(_send)


def send(notification_id: int) -> None:
    wait = delivery.deliver(notification_id)
    if wait is not None:
        enqueue_send(notification_id, countdown=wait.total_seconds())


def send_again(notification_ids: list[int]) -> int:
    """Failed mails go back to the outbox with fresh attempts (staff fixed the cause); how many.

    Only failed ones: a mail the provider took (sent, delivered, bounced) is never sent twice.
    """
    from django.utils import timezone

    from notifications.models import Notification

    failed = list(
        Notification.objects.filter(
            pk__in=notification_ids, status=Notification.Status.FAILED
        ).values_list("pk", flat=True)
    )
    Notification.objects.filter(pk__in=failed, status=Notification.Status.FAILED).update(
        status=Notification.Status.PENDING,
        attempts=0,
        next_attempt_at=None,
        status_changed_at=timezone.now(),
    )
    for notification_id in failed:
        enqueue_send(notification_id)
    return len(failed)


def sweep() -> int:
    """Plan what was missed, release closed digests, and re-enqueue what a lost task left."""
    plan()
    for digest_id in planning.flush_suppressed():
        enqueue_send(digest_id)
    ids = delivery.due_ids()
    for notification_id in ids:
        enqueue_send(notification_id)
    return len(ids)
