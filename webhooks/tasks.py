"""Webhook tasks: thin wrappers around planning and sending (style.md §2.4)."""

from __future__ import annotations

from celery import shared_task

# Intake wakes the planner by this name (alerts.services.WEBHOOK_PLANNER_TASK).
PLANNER = "webhooks.tasks.plan_webhooks"


@shared_task(acks_late=True, ignore_result=True)
def plan_webhooks() -> None:
    """Plan deliveries for new timeline entries and send them (woken by alerts by name).

    Woken once per batch of receipts; while one planner runs, the others return at once.
    """
    from django.conf import settings

    from portal import coalescing

    coalescing.run_coalesced(
        PLANNER, _plan_and_send, settle=settings.TAIRYO_PLANNER_SETTLE_MS / 1000
    )


def _plan_and_send() -> None:
    from webhooks import planning

    for delivery_id in planning.plan_pending():
        send_webhook.delay(delivery_id)


@shared_task(acks_late=True, ignore_result=True)
def send_webhook(delivery_id: int) -> None:
    from webhooks import sending

    sending.deliver(delivery_id)


@shared_task(acks_late=True, ignore_result=True)
def sweep_webhooks() -> None:
    """Plan what a lost wake-up left, and send what is due (retries, lost tasks)."""
    from webhooks import planning, sending

    planning.plan_pending()
    for delivery_id in sending.due():
        send_webhook.delay(delivery_id)
