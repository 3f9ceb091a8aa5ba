"""The notification ledger is read-only in the admin; bouncing contacts are found and cleared."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from accounts.models import User
from alerts.models import WebhookReceipt
from alerts.tests import payloads
from notifications import delivery
from notifications.models import Contact, DeliveryEvent, Notification, Route

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]
LEDGER = "/admin/notifications/notification/"
CONTACTS = "/admin/notifications/contact/"


@pytest.fixture
def sent(
    alert_flow: Callable[..., WebhookReceipt], route: Route, mail_provider: Any
) -> Notification:
    alert_flow(payloads.alert())
    notification = Notification.objects.get()
    delivery.deliver(notification.pk)
    notification.refresh_from_db()
    DeliveryEvent.objects.create(
        customer_id=notification.customer_id,
        notification=notification,
        event_id="evt-1",
        event_type="delivered",
        recipient="ops@acme.example",
        occurred_at=timezone.now(),
    )
    return notification


@pytest.mark.parametrize("who", ["superuser", "sales_user", "support_user"])
def test_ledger_is_read_only_for_everyone(
    login: Login, sent: Notification, who: str, request: pytest.FixtureRequest
) -> None:
    client = login(request.getfixturevalue(who))
    change = f"{LEDGER}{sent.pk}/change/"
    listing = client.get(LEDGER).content.decode()
    assert "3k73ZJscVcW" in listing
    assert f"{LEDGER}add/" not in listing
    assert 'value="delete_selected"' not in listing
    page = client.get(change)
    assert page.status_code == 200
    content = page.content.decode()
    assert 'name="_save"' not in content
    assert escape(sent.provider_message_id) in content
    assert "evt-1" in content, "its delivery events are shown"
    assert client.post(change, {"status": "failed"}).status_code == 403
    assert client.get(f"{LEDGER}add/").status_code == 403
    assert client.post(f"{LEDGER}{sent.pk}/delete/", {"post": "yes"}).status_code == 403
    sent.refresh_from_db()
    assert sent.status == "sent"
    assert Notification.objects.count() == DeliveryEvent.objects.count() == 1


@pytest.mark.parametrize(
    "query",
    ["3k73ZJscVcW", "ops@acme.example", "<provider message id>"],
)
def test_ledger_is_searched_by_case_contact_and_message_id(
    login: Login, support_user: User, sent: Notification, query: str
) -> None:
    query = query.replace("<provider message id>", sent.provider_message_id)
    response = login(support_user).get(LEDGER, {"q": query})
    assert list(response.context["cl"].result_list) == [sent]
    nothing = login(support_user).get(LEDGER, {"q": "nothing-like-this"})
    assert list(nothing.context["cl"].result_list) == []


def test_ledger_filters_by_status_kind_customer_and_date(
    login: Login, support_user: User, sent: Notification
) -> None:
    client = login(support_user)
    day = sent.created_at.astimezone(timezone.get_current_timezone())
    cases: list[tuple[dict[str, str | int], list[Notification]]] = [
        ({"status__exact": "sent"}, [sent]),
        ({"status__exact": "failed"}, []),
        ({"kind__exact": "case"}, [sent]),
        ({"customer__id__exact": sent.customer_id}, [sent]),
        ({"created_at__year": day.year, "created_at__month": day.month}, [sent]),
    ]
    for params, expected in cases:
        response = client.get(LEDGER, params)
        assert list(response.context["cl"].result_list) == expected, params


def test_ledger_filters_by_period(login: Login, support_user: User, sent: Notification) -> None:
    client = login(support_user)
    old = Notification.objects.create(
        customer_id=sent.customer_id,
        organization_id=sent.organization_id,
        contact_id=sent.contact_id,
        status="sent",
    )
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    page = client.get(LEDGER)
    assert "created_at__gte" in page.content.decode()  # the period choices are offered
    now = timezone.localtime()
    week = {"created_at__gte": (now - timedelta(days=7)).isoformat()}
    assert list(client.get(LEDGER, week).context["cl"].result_list) == [sent]
    earlier = {
        "created_at__gte": (now - timedelta(days=60)).isoformat(),
        "created_at__lt": (now - timedelta(days=30)).isoformat(),
    }
    assert [n.pk for n in client.get(LEDGER, earlier).context["cl"].result_list] == [old.pk]


def test_ledger_list_costs_the_same_for_many_rows(
    login: Login, support_user: User, sent: Notification
) -> None:
    client = login(support_user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(LEDGER).status_code == 200
        return len(context.captured_queries)

    one = queries()
    for index in range(15):
        Notification.objects.create(
            customer_id=sent.customer_id,
            organization_id=sent.organization_id,
            case_id=sent.case_id,
            contact_id=sent.contact_id,
            status="failed",
            last_error=f"refused {index}",
        )
    assert queries() == one


# --- Contacts -------------------------------------------------------------------------------------
def test_bouncing_contacts_are_listed_and_the_mark_cleared(
    login: Login, sales_user: User, ops: Contact, noc: Contact, route: Route
) -> None:
    Contact.objects.filter(pk=ops.pk).update(
        bounced_at=timezone.now(), bounce_reason="550 5.1.1 mailbox unavailable"
    )
    client = login(sales_user)
    bouncing = client.get(CONTACTS, {"bouncing": "yes"})
    assert list(bouncing.context["cl"].result_list) == [ops]
    fine = client.get(CONTACTS, {"bouncing": "no"})
    assert list(fine.context["cl"].result_list) == [noc]
    page = client.get(f"{CONTACTS}{ops.pk}/change/").content.decode()
    assert "550 5.1.1 mailbox unavailable" in page
    assert str(route) in page, "the routes that mail it are shown"

    response = client.post(
        CONTACTS, {"action": "clear_bounce", "_selected_action": [ops.pk, noc.pk]}
    )
    assert response.status_code == 302
    ops.refresh_from_db()
    assert (ops.bounced_at, ops.bounce_reason) == (None, "")


def test_support_cannot_clear_a_bounce(login: Login, support_user: User, ops: Contact) -> None:
    Contact.objects.filter(pk=ops.pk).update(bounced_at=timezone.now(), bounce_reason="550")
    login(support_user).post(CONTACTS, {"action": "clear_bounce", "_selected_action": [ops.pk]})
    ops.refresh_from_db()
    assert ops.bounced_at is not None


def test_sales_send_a_failed_mail_again_and_it_goes_out_once(
    login: Login,
    alert_flow: Callable[..., WebhookReceipt],
    route: Route,
    mail_provider: Any,
    sales_user: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    alert_flow(payloads.alert())
    failed = Notification.objects.get()
    mail_provider.fail_next(1, status=401)  # a bad key after a rotation, say: permanent
    delivery.deliver(failed.pk)
    failed.refresh_from_db()
    assert failed.status == "failed"
    alert_flow(payloads.alert("sentalready"))
    sent = Notification.objects.exclude(pk=failed.pk).get()
    delivery.deliver(sent.pk)
    client = login(sales_user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            LEDGER,
            {"action": "send_again", "_selected_action": [failed.pk, sent.pk]},
            follow=True,
        )
    content = response.content.decode()
    assert "失敗したメール 1 件を再送します。" in content  # staff users read Japanese here
    assert "再送するのは失敗したメールのみです" in content
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("pending", 0, None)
    assert len(callbacks) == 1, "one send enqueued, for the failed mail only"
    delivery.deliver(failed.pk)
    subjects = Counter(m.metadata["notification_id"] for m in mail_provider.messages)
    assert subjects == {str(failed.pk): 1, str(sent.pk): 1}


def test_support_cannot_send_mail_again(
    login: Login, alert_flow: Callable[..., WebhookReceipt], route: Route, support_user: User
) -> None:
    alert_flow(payloads.alert())
    notification = Notification.objects.get()
    Notification.objects.filter(pk=notification.pk).update(status="failed")
    client = login(support_user)
    assert 'value="send_again"' not in client.get(LEDGER).content.decode()
    client.post(LEDGER, {"action": "send_again", "_selected_action": [notification.pk]})
    notification.refresh_from_db()
    assert notification.status == "failed"
