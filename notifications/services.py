"""The notification workflows the tasks call."""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import transaction

from notifications import delivery, planning

logger = logging.getLogger(__name__)


RUNNING_KEY = "tairyo:planner:running"
AGAIN_KEY = "tairyo:planner:again"
_redis: redis.Redis | None = None


def _flags() -> redis.Redis:
    global _redis  # noqa: PLW0603 -- one connection pool per process, made on first use
    if _redis is None:
        _redis = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
    return _redis


def plan_coalesced() -> None:
    """Plan, unless a planner is already running, in which case ask it to look once more.

    Intake wakes the planner after every receipt; during a storm hundreds of planner tasks
    queued in front of the mail they were planning, each waiting its turn on the planner lock.
    Now one runs and the others leave a note and return. A note that comes too late for the
    running planner's last look is picked up by the sweep within fifteen seconds.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        plan()
        return
    try:
        flags = _flags()
        while True:
            if not flags.set(RUNNING_KEY, "1", nx=True, ex=300):
                flags.set(AGAIN_KEY, "1", ex=300)
                return
            try:
                flags.delete(AGAIN_KEY)
                plan()
                while flags.delete(AGAIN_KEY):
                    plan()
            finally:
                flags.delete(RUNNING_KEY)
            if not flags.exists(AGAIN_KEY):
                return
    except redis.RedisError:
        logger.warning("planner flags unavailable; planning anyway", exc_info=True)
        plan()


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


def sweep() -> int:
    """Plan what was missed, release closed digests, and re-enqueue what a lost task left."""
    plan()
    for digest_id in planning.flush_suppressed():
        enqueue_send(digest_id)
    ids = delivery.due_ids()
    for notification_id in ids:
        enqueue_send(notification_id)
    return len(ids)
