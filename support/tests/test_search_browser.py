"""A support engineer uses the search box in a real browser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from accounts.models import User
from alerts.tests.factories import make_case
from orgs.models import Organization
from orgs.tests.factories import make_host

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOX = "ケース ID、ホスト、IP アドレス、メモ、オーガニゼーションまたは顧客"


def test_support_finds_a_host_by_memo_and_a_case_by_its_id(
    live_server: object,
    page: Page,
    login: Callable[[User], Client],
    support_user: User,
    acme_org: Organization,
    globex_org: Organization,
) -> None:
    host = make_host(
        globex_org, "4Xk2mQ9sTrB", name="osa-db-01", memo="夜間バッチ。障害時は田中さんへ"
    )
    make_host(acme_org, "r1", name="old-db", memo="田中さんの旧サーバ", is_retired=True)
    make_case(globex_org, "3k73ZJscVcW", host=host)
    session = login(support_user).cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": str(live_server)}])

    page.goto(f"{live_server}/")
    page.get_by_label(BOX).fill("田中")
    page.get_by_label(BOX).press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("すべてのオーガニゼーションを検索")
    hosts = page.get_by_role("region", name="ホスト", exact=True)
    expect(hosts.get_by_role("row")).to_have_count(3)  # the header and two hosts
    expect(hosts.get_by_role("row").nth(1)).to_contain_text("Globex")
    expect(hosts.get_by_role("row").nth(2)).to_contain_text("退役済み")
    expect(page.locator("mark").first).to_have_text("田中")
    expect(page.get_by_label(BOX)).to_have_value("田中")
    hosts.get_by_role("link", name="osa-db-01").click()
    expect(page).to_have_url(f"{live_server}/hosts/4Xk2mQ9sTrB/")

    page.get_by_label(BOX).fill("3k73ZJscVcW")
    page.get_by_label(BOX).press("Enter")
    expect(page).to_have_url(f"{live_server}/cases/3k73ZJscVcW/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("3k73ZJscVcW")
