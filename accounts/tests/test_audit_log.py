"""Customers, memberships, staff rights and API tokens are in the audit log, with who changed
them; a token's secret and digest never are."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test import Client

from accounts import roles
from accounts.models import ApiToken, Customer, Membership, User
from accounts.tests.api import api_client
from audit.records import MASK

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]
TOKEN_PAGE = "/accounts/api-tokens/"


def _log_dump() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(e)::text FROM auditlog_logentry e")
        return "\n".join(row[0] for row in cursor.fetchall())


def _entries(obj: object) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(obj).order_by("timestamp", "pk"))


def test_token_made_in_the_admin_is_logged_without_its_secret(
    login: Login, sales_user: User, acme: Customer
) -> None:
    response = login(sales_user).post(
        "/admin/accounts/apitoken/add/", {"name": "desk", "customer": acme.pk}
    )
    plain = response.context["plain"]
    token = ApiToken.objects.get(name="desk")
    [created] = _entries(token)
    assert created.actor == sales_user
    assert created.changes_dict["digest"] == ["", MASK]
    assert created.changes_dict["prefix"] == ["None", token.prefix]
    dump = _log_dump()
    assert plain not in dump
    assert token.digest not in dump
    assert token.digest[32:] not in dump


def test_revoking_a_token_is_logged_with_who_revoked_it(
    login: Login, superuser: User, alice: User, acme: Customer
) -> None:
    api_client(alice, acme)
    token = ApiToken.objects.get()
    login(superuser).post(
        "/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    revoked = _entries(token)[-1]
    assert revoked.actor == superuser
    assert set(revoked.changes_dict) == {"revoked_at"}


def test_customer_admin_revoking_on_the_token_page_is_the_actor(
    login: Login, alice: User, acme: Customer
) -> None:
    api_client(alice, acme)
    token = ApiToken.objects.get()
    login(alice).post(f"{TOKEN_PAGE}revoke/", {"token": str(token.code)})
    assert _entries(token)[-1].actor == alice


def test_a_change_through_the_api_names_the_tokens_maker(alice: User, acme: Customer) -> None:
    client = api_client(alice, acme, can_write=True)
    created = client.post("/api/v1/contacts/", {"name": "NOC", "email": "noc@acme.example"})
    assert created.status_code == 201
    entry = LogEntry.objects.get(object_repr__contains="noc@acme.example")
    assert entry.actor == alice
    assert entry.additional_data == {"api_token": ApiToken.objects.get().prefix}


def test_membership_added_on_the_customer_page_is_logged(
    login: Login, sales_user: User, acme: Customer, bob: User
) -> None:
    newcomer = User.objects.create_user("dave@acme.example", "x" * 12)
    response = login(sales_user).post(
        f"/admin/accounts/customer/{acme.pk}/change/",
        {
            "name": acme.name,
            "memo": "",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": bob.memberships.get().pk,
            "memberships-0-customer": acme.pk,
            "memberships-0-user": bob.pk,
            "memberships-0-role": "viewer",
            "memberships-1-customer": acme.pk,
            "memberships-1-user": newcomer.pk,
            "memberships-1-role": "admin",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=newcomer)
    [created] = _entries(membership)
    assert created.actor == sales_user
    assert created.changes_dict["role"][1] == "admin"
    assert created.changes_dict["user"][1] == "dave@acme.example"


def test_making_someone_staff_is_logged(superuser: User, bob: User, login: Login) -> None:
    bob.is_staff = True
    bob.save()
    bob.groups.add(roles.group(roles.SUPPORT))
    bob.set_password("another long password")
    bob.save()
    changes = [entry.changes_dict for entry in _entries(bob)]
    assert {"is_staff": ["False", "True"]} in changes
    assert {"groups": {"type": "m2m", "operation": "add", "objects": ["support"]}} in changes
    assert {"password": [MASK, MASK]} in changes
    assert bob.password not in _log_dump()
