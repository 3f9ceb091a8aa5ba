from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def canary() -> None:
    """Runs every 30 s from beat; its heartbeat proves Redis → worker → PostgreSQL works."""
    from health.models import Heartbeat

    Heartbeat.beat("canary")
