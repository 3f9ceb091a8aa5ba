from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def canary() -> None:
    """Runs every 30 s from beat; its heartbeat proves Redis → worker → PostgreSQL works."""
    from health.models import Heartbeat

    Heartbeat.beat("canary")


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Runs from beat: audits Tairyo on a worker and tells Mackerel it is alive if it is."""
    from health import watch

    watch.heartbeat()
