from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import Customer
from alerts.models import WebhookReceipt
from notifications.models import Contact, Route
from orgs.models import Organization

ALL_TRIGGERS = ["opened", "worsened", "improved", "closed", "renotified"]


@pytest.fixture(autouse=True)
def default_templates(request: pytest.FixtureRequest) -> None:
    """The migration's default templates, put back after a transactional test flushed them."""
    if "transactional_db" in request.fixturenames or request.node.get_closest_marker("django_db"):
        from notifications.defaults import ensure_default_templates
        from notifications.models import Template

        request.getfixturevalue("db")
        ensure_default_templates(Template)


@pytest.fixture
def ops(acme: Customer) -> Contact:
    return Contact.objects.create(customer=acme, name="運用担当", email="ops@acme.example")


@pytest.fixture
def noc(acme: Customer) -> Contact:
    return Contact.objects.create(
        customer=acme, name="NOC", email="noc@acme.example", language="en"
    )


@pytest.fixture
def route(acme_org: Organization, ops: Contact) -> Route:
    route = Route.objects.create(organization=acme_org, name="everything", triggers=ALL_TRIGGERS)
    route.contacts.add(ops)
    return route


@pytest.fixture
def alert_flow(deliver: Callable[..., WebhookReceipt]) -> Callable[..., WebhookReceipt]:
    """Deliver a webhook, then plan its notifications as the planner task would."""
    from notifications import planning

    def _flow(payload: dict[str, Any]) -> WebhookReceipt:
        receipt = deliver(payload)
        planning.plan_pending()
        return receipt

    return _flow
