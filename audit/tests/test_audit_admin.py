"""Staff read the audit log as a whole, filtered by model, actor and date; nobody edits it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone, translation

from accounts.models import Customer, User
from audit import records

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]
LOG = "/admin/auditlog/logentry/"


@pytest.fixture
def renamed(login: Login, sales_user: User, acme: Customer) -> LogEntry:
    response = login(sales_user).post(
        f"/admin/accounts/customer/{acme.pk}/change/",
        {
            "name": "Acme Japan",
            "memo": "",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    entry: LogEntry = LogEntry.objects.get_for_object(acme).latest()
    return entry


def _listed(client: Client, **params: str | int) -> list[LogEntry]:
    response = client.get(LOG, params)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


@pytest.mark.parametrize("who", ["sales_user", "support_user", "superuser"])
def test_staff_read_the_log_and_an_entry(
    who: str, request: pytest.FixtureRequest, login: Login, renamed: LogEntry
) -> None:
    client = login(request.getfixturevalue(who))
    assert renamed in _listed(client)
    page = client.get(f"{LOG}{renamed.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Acme Japan" in text
    assert "sales@tairyo.example" in text


@pytest.mark.parametrize("who", ["sales_user", "support_user", "superuser"])
def test_nobody_adds_edits_or_deletes_an_entry(
    who: str, request: pytest.FixtureRequest, login: Login, renamed: LogEntry
) -> None:
    client = login(request.getfixturevalue(who))
    before = list(LogEntry.objects.values())
    assert client.get(f"{LOG}add/").status_code == 403
    assert client.post(f"{LOG}{renamed.pk}/change/", {"action": 2}).status_code == 403
    assert client.post(f"{LOG}{renamed.pk}/delete/", {"post": "yes"}).status_code == 403
    deleted = client.post(LOG, {"action": "delete_selected", "_selected_action": [renamed.pk]})
    assert deleted.status_code in (200, 302)
    assert list(LogEntry.objects.values()) == before
    assert 'name="_save"' not in client.get(f"{LOG}{renamed.pk}/change/").content.decode()


def test_customer_users_do_not_reach_the_log(login: Login, alice: User, renamed: LogEntry) -> None:
    response = login(alice).get(LOG)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_log_is_filtered_by_model_actor_and_date(
    login: Login, support_user: User, sales_user: User, renamed: LogEntry, globex: Customer
) -> None:
    client = login(support_user)
    customers = ContentType.objects.get_for_model(Customer).pk
    users = ContentType.objects.get_for_model(User).pk
    assert renamed in _listed(client, model=customers)
    assert renamed not in _listed(client, model=users)
    assert _listed(client, actor__id__exact=sales_user.pk) == [renamed]
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    tomorrow = today + timedelta(days=1)
    assert renamed in _listed(
        client, timestamp__gte=today.isoformat(), timestamp__lt=tomorrow.isoformat()
    )
    assert renamed not in _listed(client, timestamp__lt=today.isoformat())
    assert renamed in _listed(client, q="Acme Japan")


def test_entries_written_outside_a_request_say_who_or_what_made_them(acme: Customer) -> None:
    with records.by_command("seed_demo"):
        acme.memo = "seeded"
        acme.save()
    entry = LogEntry.objects.get_for_object(acme).latest()
    acme.memo = "by a worker"
    acme.save()
    with translation.override("en"):
        assert records.describe_actor(entry).startswith("manage.py seed_demo (as ")
        assert records.describe_actor(LogEntry.objects.get_for_object(acme).latest()) == "system"


def test_mask_hides_the_whole_value_and_keeps_empty_empty() -> None:
    assert records.mask_secret("s3cr3t-value") == records.MASK
    assert records.mask_secret("") == ""
    assert records.mask_secret("None") == ""


def test_history_of_an_unknown_object_is_404(login: Login, support_user: User) -> None:
    assert login(support_user).get("/admin/accounts/customer/999999/history/").status_code == 404


def test_webhook_intake_skips_the_audit_context(rf: RequestFactory) -> None:
    seen: list[bool] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(hasattr(request, records.CONTEXT_ATTRIBUTE))
        return HttpResponse()

    middleware = records.AuditMiddleware(view)
    for path in ("/hooks/mackerel/abc/", "/admin/"):
        request = rf.post(path)
        request.user = AnonymousUser()
        middleware(request)
    assert seen == [False, True]
