"""Tairyo's Celery application and its beat schedule, declared here and nowhere else."""

from __future__ import annotations

import os

from celery import Celery, signals
from django import db
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("tairyo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic work. Each entry names a task by string so that this module imports no app.
app.conf.beat_schedule = {
    # Proves end to end, on each watched queue, that a worker takes tasks from Redis and writes
    # to PostgreSQL. Each entry is named as the heartbeat row it writes (health.tasks.canary_name).
    **{
        "canary" if queue == "default" else f"canary:{queue}": {
            "task": "health.tasks.canary",
            "schedule": float(settings.TAIRYO_CANARY_INTERVAL_SECONDS),
            "args": (queue,),
            "options": {"queue": queue, "expires": settings.TAIRYO_CANARY_INTERVAL_SECONDS * 0.9},
        }
        for queue in settings.TAIRYO_CANARY_QUEUES
    },
    # Audits the backlog on a worker and, only if the canary and the audit hold, posts the
    # heartbeat that the operator's Mackerel monitor expects (docs/monitoring.md).
    "heartbeat": {
        "task": "health.tasks.heartbeat",
        "schedule": float(settings.TAIRYO_HEARTBEAT_INTERVAL_SECONDS),
        "options": {"expires": settings.TAIRYO_HEARTBEAT_INTERVAL_SECONDS * 0.9},
    },
    # Webhook receipts a lost message left pending: PostgreSQL remembers what Redis forgot.
    # Timeline entries not planned, digests due, mails whose task was lost.
    "sweep-notifications": {
        "task": "notifications.tasks.sweep_notifications",
        "schedule": 15.0,
        "options": {"expires": 14},
    },
    # Outbound webhooks: entries a lost wake-up left unplanned, retries that are due.
    "sweep-webhooks": {
        "task": "webhooks.tasks.sweep_webhooks",
        "schedule": 15.0,
        "options": {"expires": 14},
    },
    "sweep-receipts": {
        "task": "alerts.tasks.sweep_receipts",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    # Every organization's hosts, monitors and alerts from Mackerel's API, one task each, spread
    # over the interval; what webhooks missed is repaired here (docs/sync.md).
    "sync-organizations": {
        "task": "alerts.tasks.schedule_syncs",
        "schedule": float(settings.TAIRYO_SYNC_INTERVAL_SECONDS),
        "options": {"expires": settings.TAIRYO_SYNC_INTERVAL_SECONDS * 0.9},
    },
}


@signals.task_failure.connect
@signals.task_retry.connect
def drop_broken_database_connections(**_: object) -> None:
    """A task that failed may have failed because its connection died (PostgreSQL restarted,
    the connection terminated). Celery reuses a worker's connection for CELERY_DB_REUSE_MAX
    tasks without asking Django to check it, so a dead one failed every task after it until
    then; Django's own check, as after each web request, drops it and the retry gets a new one.
    """
    for connection in db.connections.all(initialized_only=True):
        # A task run eagerly inside its caller's transaction (the demo, tests) leaves the
        # connection to its caller: closing it there would end the caller's transaction.
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
