from __future__ import annotations

from celery import shared_task
from django.db import OperationalError


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def plan_notifications() -> None:
    """Turn new case timeline entries into notifications (woken by intake after commit)."""
    from notifications import services

    services.plan_coalesced()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def send_notification(notification_id: int) -> None:
    """Hand one notification to the mail provider, at most once (a claimed row is skipped)."""
    from notifications import services

    services.send(notification_id)


@shared_task
def sweep_notifications() -> int:
    """Plan missed events, release due digests, re-enqueue lost sends (runs from beat)."""
    from notifications import services

    return services.sweep()
