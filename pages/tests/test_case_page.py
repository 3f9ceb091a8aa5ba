from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Customer, User
from alerts.models import Case, CaseEvent, WebhookReceipt
from alerts.tests import payloads
from notifications.models import Contact, Notification
from orgs.models import Organization

pytestmark = pytest.mark.django_db

# Session, user, case, timeline, notifications.
CASE_PAGE_QUERIES = 5


def notify(case: Case, name: str, **fields: Any) -> Notification:
    contact, _ = Contact.objects.get_or_create(
        customer_id=case.customer_id, email=f"{name}@acme.example", defaults={"name": name}
    )
    event = case.events.first()
    return Notification.objects.create(
        customer_id=case.customer_id,
        organization_id=case.organization_id,
        case=case,
        case_event=fields.pop("case_event", event),
        contact=contact,
        **fields,
    )


def test_case_page_lists_the_notifications_and_their_delivery(
    login: Callable[[User], Client], alice: User, deliver: Callable[..., WebhookReceipt]
) -> None:
    deliver(payloads.alert())
    case = Case.objects.get(alert_id="3k73ZJscVcW")
    notify(case, "ops", status=Notification.Status.DELIVERED, sent_at=timezone.now())
    notify(case, "nightshift", status=Notification.Status.BOUNCED, last_error="550 no such user")
    page = login(alice).get("/cases/3k73ZJscVcW/").content.decode()
    assert "ops@acme.example" in page
    assert "mail-delivered" in page
    assert "nightshift@acme.example" in page
    assert "mail-bounced" in page
    assert "550 no such user" in page
    assert 'href="https://mackerel.io/orgs/acme-prod/alerts/3k73ZJscVcW"' in page


def test_a_mail_folded_into_a_digest_shows_the_digests_status(
    login: Callable[[User], Client], alice: User, deliver: Callable[..., WebhookReceipt]
) -> None:
    deliver(payloads.alert())
    case = Case.objects.get(alert_id="3k73ZJscVcW")
    digest = Notification.objects.create(
        customer_id=case.customer_id,
        organization_id=case.organization_id,
        kind=Notification.Kind.DIGEST,
        contact=notify(case, "ops", status=Notification.Status.IN_DIGEST).contact,
        status=Notification.Status.SENT,
        sent_at=timezone.now(),
    )
    Notification.objects.filter(case=case).update(digest=digest)
    response = login(alice).get("/cases/3k73ZJscVcW/")
    assert "mail-sent" in response.content.decode()


def test_a_case_without_mail_says_so(
    login: Callable[[User], Client], alice: User, deliver: Callable[..., WebhookReceipt]
) -> None:
    deliver(payloads.alert())
    response = login(alice).get("/cases/3k73ZJscVcW/")
    assert list(response.context["notifications"]) == []


def test_another_customers_notifications_never_show(
    login: Callable[[User], Client],
    alice: User,
    globex: Customer,
    globex_org: Organization,
    deliver: Callable[..., WebhookReceipt],
) -> None:
    deliver(payloads.alert())
    case = Case.objects.get(alert_id="3k73ZJscVcW")
    stray = Contact.objects.create(customer=globex, name="Globex", email="x@globex.example")
    # A row that should never exist (a mail to another customer's contact about acme's case):
    # the page still shows only rows the user may see.
    Notification.objects.create(customer=globex, organization=globex_org, case=case, contact=stray)
    page = login(alice).get("/cases/3k73ZJscVcW/").content.decode()
    assert "x@globex.example" not in page


def test_query_count_does_not_grow_with_timeline_and_mails(
    login: Callable[[User], Client],
    alice: User,
    deliver: Callable[..., WebhookReceipt],
    django_assert_max_num_queries: Any,
) -> None:
    deliver(payloads.alert())
    case = Case.objects.get(alert_id="3k73ZJscVcW")
    client = login(alice)
    with django_assert_max_num_queries(CASE_PAGE_QUERIES) as few:
        assert client.get("/cases/3k73ZJscVcW/").status_code == 200
    for n in range(40):
        event = CaseEvent.objects.create(
            customer_id=case.customer_id,
            case=case,
            kind=CaseEvent.Kind.RENOTIFIED,
            severity=case.severity,
            source=Case.Source.WEBHOOK,
            occurred_at=case.opened_at + timedelta(minutes=n + 1),
        )
        notify(case, f"c{n}", case_event=event, status=Notification.Status.SENT)
    with django_assert_max_num_queries(CASE_PAGE_QUERIES) as many:
        client.get("/cases/3k73ZJscVcW/")
    assert len(many) == len(few)
