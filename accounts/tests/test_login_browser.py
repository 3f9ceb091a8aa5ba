"""A customer logs in through a real browser and sees only their own organizations."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from conftest import PASSWORD
from orgs.models import Organization

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.mark.django_db(transaction=True)
def test_customer_logs_in_and_sees_only_their_organizations(
    live_server: object, page: Page, alice: User, acme_org: Organization, globex_org: Organization
) -> None:
    page.goto(f"{live_server}/")
    expect(page).to_have_url(f"{live_server}/accounts/login/?next=/")
    page.get_by_label("メールアドレス").fill("alice@acme.example")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()

    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="acme-prod")).to_be_visible()
    expect(page.get_by_text("globex-prod")).to_have_count(0)

    page.get_by_role("link", name="acme-prod").click()
    expect(page.get_by_text("Acme production")).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_wrong_password_is_refused_in_the_browser(
    live_server: object, page: Page, alice: User
) -> None:
    page.goto(f"{live_server}/accounts/login/")
    page.get_by_label("メールアドレス").fill("alice@acme.example")
    page.get_by_label("パスワード").fill("wrong")
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(f"{live_server}/accounts/login/")
