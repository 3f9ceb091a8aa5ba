from __future__ import annotations

from celery import shared_task
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


@shared_task
def sweep_receipts() -> int:
    """Re-enqueue webhook receipts that no worker has processed (runs from beat)."""
    from alerts import services

    return services.sweep()
