from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from accounts.models import User
from alerts.models import WebhookReceipt
from alerts.tests import payloads
from orgs.models import Organization

pytestmark = pytest.mark.django_db


def test_customer_sees_their_case_with_its_timeline(
    login: Callable[[User], Client], alice: User, deliver: Callable[..., WebhookReceipt]
) -> None:
    deliver(payloads.alert())
    deliver(payloads.closing())
    page = login(alice).get("/cases/3k73ZJscVcW/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "3k73ZJscVcW" in text
    assert "vm0001" in text
    assert "本番 DB サーバ" in text
    assert text.count("<tr") == 3  # header + opened + closed


def test_other_customers_case_is_404(
    login: Callable[[User], Client],
    charlie: User,
    globex_org: Organization,
    deliver: Callable[..., WebhookReceipt],
) -> None:
    deliver(payloads.alert())
    assert login(charlie).get("/cases/3k73ZJscVcW/").status_code == 404
    assert login(charlie).get("/cases/nonexistent/").status_code == 404
