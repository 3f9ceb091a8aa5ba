from __future__ import annotations

from celery import Task, shared_task
from django.db import OperationalError


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=5,
)
def process_receipt(receipt_id: int) -> None:
    """Process one stored webhook (idempotent: a receipt already processed is left alone)."""
    from alerts import services

    services.process_receipt(receipt_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def process_pending() -> int:
    """Drain every pending webhook receipt (woken by the intake, at most once per window)."""
    from alerts import services

    return services.process_pending()


@shared_task
def sweep_receipts() -> int:
    """Re-enqueue webhook receipts that no worker has processed (runs from beat)."""
    from alerts import services

    return services.sweep()


@shared_task
def schedule_syncs() -> int:
    """Enqueue one sync per organization, spread over the sync interval (runs from beat)."""
    from alerts import reconcile

    return reconcile.schedule_syncs()


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), max_retries=5)
def sync_organization(self: Task[[int], None], org_id: int) -> None:
    """Sync one organization (inventory, then alerts); a transient failure is tried again."""
    from alerts import reconcile
    from orgs import sync

    delay = sync.retry_delay(reconcile.sync_organization(org_id), self.request.retries)
    if delay is not None:
        raise self.retry(countdown=delay)
