"""A customer uses the portal in a real browser: the pages a mail and an outage lead to."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from alerts.models import WebhookReceipt
from alerts.tests import payloads
from conftest import ARTIFACTS, PASSWORD
from orgs.models import Organization
from orgs.tests.factories import make_hosts

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, email: str = "alice@acme.example") -> None:
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()


def test_customer_logs_in_to_their_dashboard(
    live_server: object,
    page: Page,
    alice: User,
    acme_org: Organization,
    globex_org: Organization,
    deliver: Callable[..., WebhookReceipt],
) -> None:
    make_hosts(acme_org, 3)
    deliver(payloads.alert())  # and its host, the fourth
    page.goto(f"{live_server}/")
    log_in(page)
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("heading", level=1, name="ダッシュボード")).to_be_visible()
    expect(page.get_by_role("heading", level=3, name="acme-prod")).to_be_visible()
    expect(page.get_by_role("link", name="ホスト 4 台")).to_be_visible()
    expect(page.get_by_role("link", name="未解決 1 件")).to_be_visible()
    expect(page.get_by_role("link", name="3k73ZJscVcW")).to_be_visible()
    expect(page.get_by_text("globex-prod")).to_have_count(0)


def test_mailed_case_link_leads_through_login_to_the_case(
    live_server: object,
    page: Page,
    alice: User,
    deliver: Callable[..., WebhookReceipt],
) -> None:
    deliver(payloads.alert())
    page.goto(f"{live_server}/cases/3k73ZJscVcW/")
    expect(page).to_have_url(f"{live_server}/accounts/login/?next=/cases/3k73ZJscVcW/")
    log_in(page)
    expect(page).to_have_url(f"{live_server}/cases/3k73ZJscVcW/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("3k73ZJscVcW")
    expect(page.get_by_text("本番 DB サーバ")).to_be_visible()
    expect(page.get_by_role("heading", name="送信した通知")).to_be_visible()
    expect(page.get_by_role("link", name="Mackerel で開く")).to_have_attribute(
        "href", "https://mackerel.io/orgs/acme-prod/alerts/3k73ZJscVcW"
    )


def test_status_page_shows_a_storm_as_webhooks_arrive(
    live_server: object,
    page: Page,
    alice: User,
    deliver: Callable[..., WebhookReceipt],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from alerts import views

    monkeypatch.setattr(views, "STATUS_POLL_SECONDS", 1)
    page.goto(f"{live_server}/status/")
    log_in(page)
    expect(page.get_by_text("未解決のケースはありません。")).to_be_visible()
    now = int(time.time())
    for n in range(1, 4):
        host = payloads.host(host_id=f"storm-host-{n}", name=f"web{n:02d}")
        deliver(payloads.alert(alert_id=f"storm{n}", host=host, opened=now, changed=now))
        # Seen without a reload, within a few seconds of the webhook.
        expect(page.locator(f'tr[data-case="storm{n}"]')).to_be_visible(timeout=5_000)
        expect(page.get_by_role("heading", level=2, name=f"未解決 {n} 件")).to_be_visible()
    expect(page.get_by_text("直近 10 分間に 3 件発生")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "status_page_storm.png"), full_page=True)
    deliver(payloads.closing("storm1", at=now + 60, opened=now, host=payloads.host("storm-host-1")))
    expect(page.locator('tr[data-case="storm1"]')).to_have_count(0, timeout=5_000)
    expect(page.get_by_role("heading", level=2, name="未解決 2 件")).to_be_visible()


def test_customer_switches_to_english_and_it_sticks(
    live_server: object, page: Page, alice: User, acme_org: Organization
) -> None:
    page.goto(f"{live_server}/hosts/")
    log_in(page)
    expect(page.get_by_role("heading", level=1, name="ホスト")).to_be_visible()
    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(f"{live_server}/hosts/")
    expect(page.get_by_role("heading", level=1, name="Hosts")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    alice.refresh_from_db()
    assert alice.language == "en"
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()


def test_pages_fit_a_phone(
    live_server: object,
    page: Page,
    alice: User,
    acme_org: Organization,
    deliver: Callable[..., WebhookReceipt],
) -> None:
    deliver(payloads.alert())
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{live_server}/cases/")
    log_in(page)
    expect(page.get_by_role("link", name="3k73ZJscVcW")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the case list scrolls sideways on a phone ({width}px)"
