"""Probes of the services Tairyo depends on, for /healthz."""

from __future__ import annotations

import time
from typing import TypedDict

import redis
from django.conf import settings
from django.db import connection


class Probe(TypedDict):
    ok: bool
    detail: str
    ms: float


def _timed(ok: bool, detail: str, started: float) -> Probe:
    return {"ok": ok, "detail": detail, "ms": round((time.perf_counter() - started) * 1000, 1)}


def database() -> Probe:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the message says which
        return _timed(False, f"{type(exc).__name__}: {exc}".strip()[:200], started)
    return _timed(True, connection.vendor, started)


def broker() -> Probe:
    started = time.perf_counter()
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return _timed(True, "not used: tasks run in-process", started)
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
        client.ping()
    except redis.RedisError as exc:
        return _timed(False, f"{type(exc).__name__}: {exc}"[:200], started)
    return _timed(True, "redis", started)


def self_check() -> dict[str, object]:
    """The auditor's latest verdict, as /healthz shows it."""
    from health.models import SelfCheck
    from health.watch import SELF_CHECK

    check = SelfCheck.objects.filter(name=SELF_CHECK).first()
    posting = bool(settings.TAIRYO_SELF_MACKEREL_API_KEY)
    if check is None:
        return {"checked_at": None, "healthy": None, "problems": [], "posting": posting}
    return {
        "checked_at": check.checked_at.isoformat(),
        "healthy": check.healthy,
        "problems": check.problems,
        "posting": posting,
        "posted_at": check.posted_at.isoformat() if check.posted_at else None,
        "post_error": check.post_error,
    }
