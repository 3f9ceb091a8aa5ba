"""Webhooks the intake refused before storing anything (unknown URL, source network,
credentials, size, content type), counted per minute in Redis for the health figures.

A Mackerel channel pointed at a stale URL loses every webhook without a single row to show for
it; this count is how the operator finds out. Counting never gets in the intake's way: if Redis
is away, the refusal is simply not counted.
"""

from __future__ import annotations

import contextlib
import time

import redis
from django.conf import settings

KEY = "tairyo:intake:refused:{minute}"
WINDOW_MINUTES = 60

_clients: dict[str, redis.Redis] = {}


def _client() -> redis.Redis:
    # One connection pool per process and URL (the tests move REDIS_URL between databases).
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return _clients[url]


def _minute(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // 60)


def record() -> None:
    """Count one refused webhook in the current minute."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return  # the demo runs without Redis
    key = KEY.format(minute=_minute())
    with contextlib.suppress(redis.RedisError):
        pipe = _client().pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, (WINDOW_MINUTES + 5) * 60)
        pipe.execute()


def count_last_hour() -> int:
    """Refusals in the last sixty minutes (this one included); 0 if Redis does not answer."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return 0
    current = _minute()
    keys = [KEY.format(minute=current - offset) for offset in range(WINDOW_MINUTES)]
    try:
        values = _client().mget(keys)
    except redis.RedisError:
        return 0
    return sum(int(value) for value in values if value is not None)
