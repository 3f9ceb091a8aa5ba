"""Running a job once for many wake-ups: the planners' guard against a storm of wake-ups.

Intake wakes the planners after every batch of receipts. During a storm hundreds of planner
tasks queued in front of the mail they were planning, each waiting its turn on the planner's
lock only to find nothing left to do. With this, one runs and the others leave a note and
return at once; the running one looks again while notes arrive. A note that comes too late for
the running one's last look is picked up by the job's periodic sweep.

Redis only coordinates here: if it is away, the job runs anyway (the jobs lock in PostgreSQL
and are idempotent), so nothing is lost, only the saving.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

# Longer than any planning pass; a worker killed mid-run leaves flags that expire by then.
FLAG_SECONDS = 300
# A wake-up waiting this long was lost (Redis flushed, say); the next entry publishes another.
WAKE_FLAG_MS = 2000
_redis: redis.Redis | None = None


def flags() -> redis.Redis:
    """This process's connection pool for coordination flags, made on first use."""
    global _redis  # noqa: PLW0603 -- one connection pool per process
    if _redis is None:
        _redis = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
    return _redis


def running_key(name: str) -> str:
    return f"tairyo:{name}:running"


def again_key(name: str) -> str:
    return f"tairyo:{name}:again"


def woken_key(name: str) -> str:
    return f"tairyo:{name}:woken"


def wake(name: str, publish: Callable[[], object]) -> bool:
    """Publish a wake-up for ``name`` unless one is already waiting; True if published.

    A storm commits a timeline entry every few milliseconds, and publishing a Celery message for
    each cost more than the planning it asked for. The flag is cleared by the job itself just
    before each pass reads, so an entry committed before the clearing is read by that pass, and
    one committed after it publishes a new wake-up: none waits for the sweep. The expiry only
    matters when a published message is lost.
    """
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            if not flags().set(woken_key(name), "1", nx=True, px=WAKE_FLAG_MS):
                return False
        except redis.RedisError:
            logger.warning("coordination flags for %s unavailable; waking anyway", name)
    publish()
    return True


def run_coalesced(name: str, job: Callable[[], object], settle: float = 0.0) -> None:
    """Run ``job``, unless another process is running it; then ask that one to run it again.

    ``settle`` seconds are waited before each pass, with the wake-up flag still set: entries
    committed meanwhile publish nothing and are read by the pass. During a storm that turns
    thousands of small passes, each paying its fixed cost, into a few per second.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        job()
        return
    running, again, woken = running_key(name), again_key(name), woken_key(name)
    try:
        client = flags()
        while True:
            if not client.set(running, "1", nx=True, ex=FLAG_SECONDS):
                client.set(again, "1", ex=FLAG_SECONDS)
                return
            try:
                time.sleep(settle)
                client.delete(again, woken)
                job()
                while client.delete(again):
                    time.sleep(settle)
                    client.delete(woken)
                    job()
            finally:
                client.delete(running)
            # A note left between the last look and letting go: take it, unless another
            # process took the running flag meanwhile (then the loop leaves the note to it).
            if not client.exists(again):
                return
    except redis.RedisError:
        logger.warning("coordination flags for %s unavailable; running anyway", name, exc_info=True)
        job()
