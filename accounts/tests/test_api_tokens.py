"""API tokens: stored hashed, shown once, expiring, revocable, made by admins and staff."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts import tokens
from accounts.models import ApiToken, Customer, User
from accounts.tests.api import ApiClient

CASES = "/api/v1/cases/"
PAGE = "/accounts/api-tokens/"


def test_only_the_digest_is_stored(alice: User, acme: Customer) -> None:
    issued = tokens.issue(name="zammad", customer=acme, can_write=False, created_by=alice)
    row = ApiToken.objects.get(pk=issued.token.pk)
    assert issued.plain.startswith(f"tairyo_{row.prefix}_")
    assert row.digest == hashlib.sha256(issued.plain.encode()).hexdigest()
    assert issued.plain not in str(ApiToken.objects.filter(pk=row.pk).values().get())


def test_a_token_works_and_records_its_use(alice: User, acme: Customer) -> None:
    issued = tokens.issue(name="zammad", customer=acme, can_write=False, created_by=alice)
    assert ApiClient(issued.plain).get(CASES).status_code == 200
    issued.token.refresh_from_db()
    assert issued.token.last_used_at is not None


@pytest.mark.parametrize("tamper", ["wrong secret", "no prefix", "other scheme"])
def test_a_wrong_token_is_401(alice: User, acme: Customer, tamper: str) -> None:
    plain = tokens.issue(name="t", customer=acme, can_write=False, created_by=alice).plain
    bad = {
        "wrong secret": plain[:-4] + "AAAA",
        "no prefix": plain.split("_", 2)[2],
        "other scheme": "Token " + plain,
    }[tamper]
    response = ApiClient(bad).get(CASES)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_is_401(alice: User, acme: Customer) -> None:
    issued = tokens.issue(
        name="t",
        customer=acme,
        can_write=False,
        created_by=alice,
        expires_at=timezone.now() + timedelta(days=1),
    )
    assert ApiClient(issued.plain).get(CASES).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert ApiClient(issued.plain).get(CASES).status_code == 401


def test_a_revoked_token_is_401_at_once(alice: User, acme: Customer) -> None:
    issued = tokens.issue(name="t", customer=acme, can_write=False, created_by=alice)
    tokens.revoke(issued.token)
    assert ApiClient(issued.plain).get(CASES).status_code == 401


def test_a_token_stops_with_its_makers_account(alice: User, acme: Customer) -> None:
    issued = tokens.issue(name="t", customer=acme, can_write=False, created_by=alice)
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert ApiClient(issued.plain).get(CASES).status_code == 401


def test_a_staff_wide_token_needs_a_staff_maker(alice: User) -> None:
    issued = tokens.issue(name="t", customer=None, can_write=False, created_by=alice)
    assert ApiClient(issued.plain).get(CASES).status_code == 401


def test_throttled_per_token(alice: User, acme: Customer, settings: object) -> None:
    from django.core.cache import caches

    caches["api"].clear()
    settings.TAIRYO_API_RATE = "3/min"  # type: ignore[attr-defined]
    first = ApiClient(
        tokens.issue(name="a", customer=acme, can_write=False, created_by=alice).plain
    )
    other = ApiClient(
        tokens.issue(name="b", customer=acme, can_write=False, created_by=alice).plain
    )
    assert [first.get(CASES).status_code for _ in range(4)] == [200, 200, 200, 429]
    response = first.get(CASES)
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    assert other.get(CASES).status_code == 200


# --- The page where customer admins make and revoke tokens ----------------------------------


def test_admin_makes_a_token_shown_once(login: Callable[[User], Client], alice: User) -> None:
    client = login(alice)
    response = client.post(
        PAGE, {"name": "Zammad", "customer": alice.memberships.get().customer_id}
    )
    assert response.status_code == 200
    plain = response.context["issued"].plain
    assert plain in response.content.decode()
    token = ApiToken.objects.get(name="Zammad")
    assert (token.can_write, token.created_by, token.expires_at) == (False, alice, None)
    assert ApiClient(plain).get(CASES).status_code == 200
    assert plain not in client.get(PAGE).content.decode()


def test_admin_makes_an_expiring_read_write_token(
    login: Callable[[User], Client], alice: User, acme: Customer
) -> None:
    body = {"name": "rw", "customer": acme.pk, "can_write": "on", "expires_in": "30"}
    login(alice).post(PAGE, body)
    token = ApiToken.objects.get(name="rw")
    assert token.can_write
    assert token.expires_at is not None
    assert token.expires_at - timezone.now() > timedelta(days=29)


def test_admin_cannot_make_a_token_for_another_customer(
    login: Callable[[User], Client], alice: User, globex: Customer
) -> None:
    response = login(alice).post(PAGE, {"name": "sneaky", "customer": globex.pk})
    assert response.status_code == 200
    assert "customer" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_viewer_gets_403(login: Callable[[User], Client], bob: User) -> None:
    assert login(bob).get(PAGE).status_code == 403
    assert login(bob).post(PAGE, {"name": "x"}).status_code == 403


def test_admin_revokes_own_customers_token_only(
    login: Callable[[User], Client], alice: User, charlie: User, acme: Customer, globex: Customer
) -> None:
    own = tokens.issue(name="own", customer=acme, can_write=False, created_by=alice).token
    theirs = tokens.issue(name="theirs", customer=globex, can_write=False, created_by=charlie).token
    client = login(alice)
    assert "theirs" not in client.get(PAGE).content.decode()
    assert client.post(f"{PAGE}revoke/", {"token": str(theirs.code)}).status_code == 404
    assert client.post(f"{PAGE}revoke/", {"token": "not-a-uuid"}).status_code == 404
    assert client.post(f"{PAGE}revoke/", {"token": str(own.code)}).status_code == 302
    own.refresh_from_db()
    theirs.refresh_from_db()
    assert own.revoked_at is not None
    assert theirs.revoked_at is None


# --- Staff in the admin -----------------------------------------------------------------------

ADMIN_ADD = "/admin/accounts/apitoken/add/"


def test_staff_token_is_read_only_unless_superuser(
    login: Callable[[User], Client], sales_user: User, superuser: User
) -> None:
    response = login(sales_user).post(ADMIN_ADD, {"name": "desk", "can_write": "on"})
    assert response.status_code == 200, response.content
    desk = ApiToken.objects.get(name="desk")
    assert (desk.customer, desk.can_write, desk.created_by) == (None, False, sales_user)
    assert ApiClient(response.context["plain"]).get(CASES).status_code == 200

    response = login(superuser).post(ADMIN_ADD, {"name": "root", "can_write": "on"})
    assert ApiToken.objects.get(name="root").can_write
    assert response.context["plain"] in response.content.decode()


def test_support_cannot_make_tokens(login: Callable[[User], Client], support_user: User) -> None:
    assert login(support_user).post(ADMIN_ADD, {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()
