"""A real Celery worker takes a task from real Redis and writes to real PostgreSQL."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import pytest

from health.models import Heartbeat
from health.tasks import canary
from portal.celery import app


@pytest.mark.slow
def test_task_round_trips_through_redis_and_a_real_worker(
    start_worker: Callable[..., subprocess.Popen[bytes]],
) -> None:
    worker = start_worker()
    canary.delay()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not Heartbeat.objects.filter(name="canary").exists():
        assert worker.poll() is None, "the worker exited"
        time.sleep(0.2)
    beat = Heartbeat.objects.get(name="canary")
    assert beat.count >= 1


def test_tasks_are_routed_to_their_queues() -> None:
    route = app.amqp.router.route
    assert route({}, "alerts.tasks.process_receipt")["queue"].name == "intake"
    assert route({}, "notifications.tasks.send_notification")["queue"].name == "deliver"
    assert route({}, "notifications.tasks.plan_notifications")["queue"].name == "notify"
    assert route({}, "webhooks.tasks.send_webhook")["queue"].name == "deliver"
    assert route({}, "orgs.tasks.sync_organization")["queue"].name == "sync"
    assert route({}, "health.tasks.canary")["queue"].name == "default"


def test_reliability_settings_are_in_force() -> None:
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert "canary" in conf.beat_schedule


def test_beat_sends_a_canary_to_each_watched_queue() -> None:
    from django.conf import settings

    route = app.amqp.router.route
    from health.tasks import canary_name

    schedule = app.conf.beat_schedule
    entries = [e for e in schedule.values() if e["task"] == "health.tasks.canary"]
    for name, entry in schedule.items():
        if entry["task"] == "health.tasks.canary":
            assert name == canary_name(entry["args"][0]), "named as the heartbeat row it writes"
    sent_to = {entry["args"][0]: entry["options"]["queue"] for entry in entries}
    assert sent_to == {queue: queue for queue in settings.TAIRYO_CANARY_QUEUES}
    assert set(sent_to) == {"default", "deliver"}, "docker-compose.yml's two kinds of worker"
    for entry in entries:
        queue = entry["options"]["queue"]
        assert route(entry["options"], "health.tasks.canary")["queue"].name == queue
