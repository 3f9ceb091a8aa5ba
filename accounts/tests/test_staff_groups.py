from __future__ import annotations

import pytest

from accounts.models import User


@pytest.mark.django_db
def test_sales_edit_customers_contacts_and_organizations(sales_user: User) -> None:
    for perm in (
        "accounts.change_customer",
        "accounts.add_membership",
        "notifications.change_contact",
        "notifications.add_contact",
        "orgs.change_organization",
        "orgs.view_organization",
    ):
        assert sales_user.has_perm(perm), perm


@pytest.mark.django_db
def test_support_read_everything_and_change_nothing(support_user: User) -> None:
    assert support_user.has_perm("orgs.view_organization")
    assert support_user.has_perm("notifications.view_contact")
    assert support_user.has_perm("accounts.view_customer")
    changes = [
        p for p in support_user.get_all_permissions() if not p.split(".")[1].startswith("view_")
    ]
    assert changes == []


@pytest.mark.django_db
def test_staff_groups_do_not_manage_users(sales_user: User, support_user: User) -> None:
    for user in (sales_user, support_user):
        assert not user.has_perm("accounts.change_user")
        assert not user.has_perm("auth.change_group")
