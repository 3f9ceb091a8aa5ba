"""Staff in the admin: receipts and cases read-only; "process again"; key check; token URL once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils.timezone import localtime

from accounts.models import User
from alerts.models import Case, WebhookReceipt
from alerts.tests import payloads
from orgs.models import Organization

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/alerts/webhookreceipt/"


def _rejected(acme_org: Organization) -> WebhookReceipt:
    from alerts import services

    receipt = services.accept(acme_org, payloads.encode(payloads.alert()), {}, None, "alert")
    WebhookReceipt.objects.filter(pk=receipt.pk).update(status="failed", reason="bug", attempts=5)
    return receipt


def test_superuser_processes_a_failed_receipt_again(
    login: Callable[[User], Client], superuser: User, acme_org: Organization,
    django_capture_on_commit_callbacks: Any, settings: Any,
) -> None:  # fmt: skip
    receipt = _rejected(acme_org)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from portal.celery import app

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = login(superuser).post(
                CHANGELIST, {"action": "process_again", "_selected_action": [receipt.pk]}
            )
    finally:
        app.conf.task_always_eager = False
    assert response.status_code == 302
    receipt.refresh_from_db()
    assert receipt.status == "processed"
    assert Case.objects.filter(alert_id="3k73ZJscVcW").exists()


def test_support_sees_receipts_but_cannot_process_them_again(
    login: Callable[[User], Client], support_user: User, acme_org: Organization
) -> None:
    receipt = _rejected(acme_org)
    client = login(support_user)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert "process_again" not in page.content.decode()
    client.post(CHANGELIST, {"action": "process_again", "_selected_action": [receipt.pk]})
    receipt.refresh_from_db()
    assert receipt.status == "failed"
    assert client.post(f"{CHANGELIST}{receipt.pk}/change/", {}).status_code == 403


def test_sample_webhook_shows_as_the_last_test_on_the_organization(
    login: Callable[[User], Client], superuser: User, acme_org: Organization,
    deliver: Callable[..., WebhookReceipt],
) -> None:  # fmt: skip
    receipt = deliver({"event": "sample", "message": "Sample Notification from Mackerel"})
    page = login(superuser).get(f"/admin/orgs/organization/{acme_org.pk}/change/")
    shown = localtime(receipt.received_at, ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M:%S")
    assert shown in page.content.decode()
    row = login(superuser).get(CHANGELIST + "?event=sample").content.decode()
    assert "test notification from Mackerel received" in row


def test_check_key_reports_the_organization_mackerel_answers_for(
    login: Callable[[User], Client], superuser: User, acme_org: Organization, settings: Any
) -> None:
    from mackerel_sim import Simulator

    User.objects.filter(pk=superuser.pk).update(language="en")  # the messages checked below
    with Simulator(seed=3) as sim:
        keys = sim.add_organization("acme-prod")
        sim.add_organization("someone-else", rw_key="other-orgs-key-123")
        server = sim.serve()
        settings.MACKEREL_API_URL = server.url
        client = login(superuser)
        url = "/admin/orgs/organization/"
        for key, expected in [
            (keys.rw_key, "works"),
            ("other-orgs-key-123", "someone-else"),
            ("wrong-key-0000", "401"),
        ]:
            acme_org.set_api_key(key)
            acme_org.save()
            page = client.post(
                url, {"action": "check_api_key", "_selected_action": [acme_org.pk]}, follow=True
            )
            text = page.content.decode()
            assert expected in text, (key, text[:3000])
            assert key not in text


def test_only_superusers_rotate_tokens_and_see_the_new_url_once(
    login: Callable[[User], Client], superuser: User, sales_user: User, acme_org: Organization
) -> None:
    url = "/admin/orgs/organization/"
    digest = acme_org.webhook_token_digest
    login(sales_user).post(
        url, {"action": "rotate_webhook_token", "_selected_action": [acme_org.pk]}
    )
    acme_org.refresh_from_db()
    assert acme_org.webhook_token_digest == digest
    page = login(superuser).post(
        url, {"action": "rotate_webhook_token", "_selected_action": [acme_org.pk]}, follow=True
    )
    text = page.content.decode()
    assert "/hooks/mackerel/" in text
    acme_org.refresh_from_db()
    token = text.split("/hooks/mackerel/")[1].split("/")[0]
    assert Organization.objects.by_webhook_token(token) == acme_org
    again = login(superuser).get(f"/admin/orgs/organization/{acme_org.pk}/change/")
    assert token not in again.content.decode()
