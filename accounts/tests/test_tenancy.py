from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from accounts.models import Customer, User
from orgs.models import Organization


@pytest.mark.django_db
def test_customer_user_sees_only_own_organizations(
    alice: User, bob: User, charlie: User, acme_org: Organization, globex_org: Organization
) -> None:
    assert list(Organization.objects.visible_to(alice)) == [acme_org]
    assert list(Organization.objects.visible_to(bob)) == [acme_org]
    assert list(Organization.objects.visible_to(charlie)) == [globex_org]


@pytest.mark.django_db
def test_anonymous_and_inactive_users_see_nothing(alice: User, acme_org: Organization) -> None:
    assert not Organization.objects.visible_to(AnonymousUser()).exists()
    alice.is_active = False
    alice.save()
    assert not Organization.objects.visible_to(alice).exists()


@pytest.mark.django_db
def test_staff_see_every_customer(
    support_user: User, acme_org: Organization, globex_org: Organization
) -> None:
    assert set(Organization.objects.visible_to(support_user)) == {acme_org, globex_org}


@pytest.mark.django_db
def test_customer_is_scoped_like_its_rows(alice: User, acme: Customer, globex: Customer) -> None:
    assert list(Customer.objects.visible_to(alice)) == [acme]


@pytest.mark.django_db
def test_member_of_two_customers_sees_both_without_duplicates(
    alice: User, globex: Customer, acme_org: Organization, globex_org: Organization
) -> None:
    alice.memberships.create(customer=globex)
    assert Organization.objects.visible_to(alice).count() == 2


@pytest.mark.django_db
def test_organization_list_page_shows_only_own_organizations(
    login: Callable[[User], Client], alice: User, acme_org: Organization, globex_org: Organization
) -> None:
    page = login(alice).get("/").content.decode()
    assert "acme-prod" in page
    assert "globex-prod" not in page


@pytest.mark.django_db
def test_other_customers_organization_is_404_not_403(
    login: Callable[[User], Client], alice: User, charlie: User, globex_org: Organization
) -> None:
    response = login(alice).get(globex_org.get_absolute_url())
    assert response.status_code == 404
    assert b"Globex secret" not in response.content
    assert login(charlie).get(globex_org.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_unknown_organization_is_the_same_404(login: Callable[[User], Client], alice: User) -> None:
    assert login(alice).get("/orgs/00000000-0000-0000-0000-000000000000/").status_code == 404


@pytest.mark.django_db
def test_anonymous_user_is_sent_to_login(client: Client, acme_org: Organization) -> None:
    response = client.get(acme_org.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
