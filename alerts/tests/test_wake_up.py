"""The intake wakes the workers once per window during a storm, and nothing waits unseen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from alerts import services
from alerts.models import Case, WebhookReceipt
from alerts.tests import payloads
from orgs.models import Organization

pytestmark = pytest.mark.django_db


def _accept(org: Organization, alert_id: str) -> WebhookReceipt:
    return services.accept(org, payloads.encode(payloads.alert(alert_id)), {}, None, "alert")


def test_one_wake_up_per_window(acme_org: Organization, redis_client: Any) -> None:
    assert services.wake_processing() is True
    assert services.wake_processing() is False, "a wake-up is already on its way"
    assert redis_client.llen("intake") == 1
    redis_client.delete(services.WAKE_KEY)  # the window passed
    assert services.wake_processing() is True


def test_every_webhook_is_its_own_wake_up_without_a_window(
    acme_org: Organization, redis_client: Any, settings: Any
) -> None:
    settings.TAIRYO_INTAKE_WAKE_MS = 0
    assert services.wake_processing() is True
    assert services.wake_processing() is True
    assert redis_client.llen("intake") == 2


def test_a_drain_processes_every_pending_receipt_in_order_and_reopens_the_window(
    acme_org: Organization, redis_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        for index in range(7):
            _accept(acme_org, f"drain{index:06d}")
    assert redis_client.exists(services.WAKE_KEY)
    assert redis_client.llen("intake") == 1, "seven webhooks, one wake-up"
    assert services.process_pending(batch=3) == 7
    assert Case.objects.count() == 7
    assert not WebhookReceipt.objects.filter(status="pending").exists()
    assert not redis_client.exists(services.WAKE_KEY), "the next webhook wakes a worker again"


def test_a_receipt_that_failed_once_is_left_to_the_sweep(
    acme_org: Organization, redis_client: Any
) -> None:
    receipt = _accept(acme_org, "failed00001")
    WebhookReceipt.objects.filter(pk=receipt.pk).update(attempts=1)
    assert services.process_pending() == 0, "a drain does not loop on a receipt that fails"
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert services.sweep() == 1


def test_a_drain_wakes_each_planner_once_and_a_planning_pass_reopens_its_gate(
    acme_org: Organization, redis_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from notifications import tasks as notification_tasks
    from webhooks import tasks as webhook_tasks

    def planner_messages() -> list[str]:
        import json

        bodies = [json.loads(raw) for raw in redis_client.lrange("notify", 0, -1)]
        return sorted(body["headers"]["task"] for body in bodies)

    with django_capture_on_commit_callbacks(execute=True):
        for index in range(5):
            _accept(acme_org, f"gate{index:07d}")
    with django_capture_on_commit_callbacks(execute=True):
        services.process_pending()
    assert Case.objects.count() == 5
    assert planner_messages() == [services.PLANNER_TASK, services.WEBHOOK_PLANNER_TASK], (
        "five new cases, one wake-up per planner"
    )
    redis_client.delete("notify")
    notification_tasks.plan_notifications.run()  # a planning pass clears its own gate
    webhook_tasks.plan_webhooks.run()
    with django_capture_on_commit_callbacks(execute=True):
        _accept(acme_org, "gate0000005")
    with django_capture_on_commit_callbacks(execute=True):
        services.process_pending()
    assert planner_messages() == [services.PLANNER_TASK, services.WEBHOOK_PLANNER_TASK], (
        "an entry after the pass wakes the planners again at once"
    )
