"""Webhook subscriptions are in the audit log; their signing secrets never are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test import Client

from accounts.models import Customer, User
from audit.records import MASK
from orgs import encryption
from webhooks import services
from webhooks.models import Subscription

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]


def _log_dump() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(e)::text FROM auditlog_logentry e")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_secret_rotation_in_the_admin_is_logged_masked(
    login: Login, superuser: User, acme: Customer
) -> None:
    subscription = Subscription(customer=acme, url="https://desk.acme.example/hook")
    first = services.set_new_secret(subscription)
    subscription.events = ["case.opened"]
    subscription.save()
    response = login(superuser).post(
        "/admin/webhooks/subscription/",
        {"action": "rotate", "_selected_action": [subscription.pk]},
    )
    second = response.context["secret"]
    subscription.refresh_from_db()
    assert encryption.decrypt(subscription.secret_encrypted) == second

    rotated = LogEntry.objects.get_for_object(subscription).order_by("-timestamp", "-pk")[0]
    assert rotated.actor == superuser
    assert rotated.changes_dict["secret_encrypted"] == [MASK, MASK]
    assert rotated.changes_dict["previous_secret_encrypted"] == ["", MASK]
    dump = _log_dump()
    for secret in (first, second, subscription.secret_encrypted):
        assert secret not in dump
        assert secret[len(secret) // 2 :] not in dump


def test_change_of_events_is_logged(
    login: Login, superuser: User, acme: Customer, settings: Any
) -> None:
    settings.TAIRYO_WEBHOOK_ALLOWED_HOSTS = ["localhost"]
    subscription, _secret = services.create(acme, "http://localhost/hook", ["case.opened"])
    response = login(superuser).post(
        f"/admin/webhooks/subscription/{subscription.pk}/change/",
        {
            "customer": acme.pk,
            "url": subscription.url,
            "description": "",
            "events": ["case.opened", "case.closed"],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    entry = LogEntry.objects.get_for_object(subscription).order_by("-timestamp", "-pk")[0]
    assert entry.actor == superuser
    assert entry.changes_dict["events"] == ['["case.opened"]', '["case.opened", "case.closed"]']
