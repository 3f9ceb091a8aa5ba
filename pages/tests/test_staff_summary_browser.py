"""Support opens the organization summary in a real browser and sees its charts drawn."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from alerts.models import Case
from alerts.tests.factories import make_case, make_cases
from orgs.models import Host, Organization
from orgs.tests.factories import make_hosts

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_as(page: Page, client: Client, live_server: object) -> None:
    """Carry a logged-in (and second-factor verified) test session into the browser."""
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    url = str(live_server)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": url}])


def test_support_opens_the_summary_and_sees_the_charts(
    live_server: object,
    page: Page,
    support_user: User,
    login: Callable[[User], Client],
    acme_org: Organization,
    globex_org: Organization,
) -> None:
    now = timezone.now()
    make_hosts(acme_org, 8, mackerel_created_at=now - timedelta(days=60))
    newer = make_hosts(acme_org, 4, prefix="n", mackerel_created_at=now - timedelta(days=20))
    Host.objects.filter(pk=newer[0].pk).update(is_retired=True, retired_at=now - timedelta(days=5))
    make_cases(acme_org, 12, start=now - timedelta(days=3))
    make_case(acme_org, "old", severity=Case.Severity.WARNING, opened_at=now - timedelta(days=9))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_as(page, login(support_user), live_server)

    page.goto(f"{live_server}/")
    page.get_by_role("link", name="オーガニゼーション概要").click()
    expect(page.get_by_role("heading", level=1, name="オーガニゼーション概要")).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(3)  # the header and two organizations
    page.get_by_role("link", name="acme-prod").click()

    expect(page.get_by_role("heading", level=1, name="acme-prod の概要")).to_be_visible()
    hosts = page.get_by_role("img", name="直近 90 日間の登録ホスト数")
    cases = page.get_by_role("img", name="直近 30 日間の日別ケース発生数")
    expect(hosts).to_be_visible()
    expect(cases).to_be_visible()
    for chart in (hosts, cases):
        box = chart.bounding_box()
        assert box is not None
        assert box["width"] > 400
        assert box["height"] > 100
    line = hosts.locator("polyline.chart-line").bounding_box()
    assert line is not None
    assert line["height"] > 20  # 8 hosts, then 12, then 11: not a flat line
    assert cases.locator("rect.chart-bar").count() >= 3
    critical = cases.locator("rect.bar-critical").first
    assert critical.evaluate("e => getComputedStyle(e).fill") == "rgb(160, 0, 0)"

    page.get_by_text("登録ホスト数（表）").click()
    expect(page.get_by_role("cell", name="11", exact=True).last).to_be_visible()
    # Nothing came from anywhere but the portal itself: no CDN, no external script or font.
    assert requests
    assert all(url.startswith(str(live_server)) for url in requests), requests


def test_summary_fits_a_phone(
    live_server: object,
    page: Page,
    support_user: User,
    login: Callable[[User], Client],
    acme_org: Organization,
) -> None:
    make_hosts(acme_org, 3, mackerel_created_at=timezone.now() - timedelta(days=9))
    make_cases(acme_org, 5)
    page.set_viewport_size({"width": 375, "height": 740})
    open_as(page, login(support_user), live_server)
    for path in ("/staff/orgs/", f"/staff/orgs/{acme_org.code}/"):
        page.goto(f"{live_server}{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} scrolls sideways on a phone ({width}px)"
