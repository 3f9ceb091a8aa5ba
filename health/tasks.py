from __future__ import annotations

from celery import shared_task


def canary_name(queue: str) -> str:
    """The Heartbeat row of the canary on ``queue`` ("canary" for the default queue)."""
    return "canary" if queue == "default" else f"canary:{queue}"


@shared_task(ignore_result=True)
def canary(queue: str = "default") -> None:
    """Runs every 30 s from beat on each of TAIRYO_CANARY_QUEUES (published to ``queue``): its
    heartbeat proves Redis → a worker serving that queue → PostgreSQL works."""
    from health.models import Heartbeat

    Heartbeat.beat(canary_name(queue))


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Runs from beat: audits Tairyo on a worker and tells Mackerel it is alive if it is."""
    from health import watch

    watch.heartbeat()
