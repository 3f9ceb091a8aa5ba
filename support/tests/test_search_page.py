"""The staff search page: who may use it, where exact IDs lead, what results show."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from accounts.models import User
from alerts.tests.factories import make_case
from orgs.models import Organization
from orgs.tests.factories import make_host, make_hosts

pytestmark = pytest.mark.django_db

URL = "/staff/search/"


def test_anonymous_users_log_in_first(client: Client) -> None:
    response = client.get(URL, {"q": "web"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_customers_get_404_and_no_search_box(
    login: Callable[[User], Client], alice: User, globex_org: Organization
) -> None:
    make_host(globex_org, "g1", name="globex-web")
    client = login(alice)
    response = client.get(URL, {"q": "globex-web"})
    assert response.status_code == 404
    assert b"globex-web" not in response.content
    assert b'role="search"' not in client.get("/").content


@pytest.mark.parametrize("staff", ["support_user", "sales_user", "superuser"])
def test_every_staff_member_has_the_box_in_the_navigation(
    login: Callable[[User], Client], staff: str, request: pytest.FixtureRequest
) -> None:
    page = login(request.getfixturevalue(staff)).get("/").content.decode()
    assert f'action="{URL}"' in page
    assert 'id="staff-search"' in page


def test_case_id_of_any_organization_leads_straight_to_the_case(
    login: Callable[[User], Client], support_user: User, globex_org: Organization
) -> None:
    make_case(globex_org, "3k73ZJscVcW")
    response = login(support_user).get(URL, {"q": " 3k73ZJscVcW "})
    assert response.status_code == 302
    assert response["Location"] == "/cases/3k73ZJscVcW/"


def test_host_id_and_an_address_of_one_host_lead_to_the_host(
    login: Callable[[User], Client], support_user: User, acme_org: Organization
) -> None:
    make_host(acme_org, "4Xk2mQ9sTrB", ip_addresses="192.0.2.15 2001:db8::15")
    client = login(support_user)
    for q in ("4Xk2mQ9sTrB", "192.0.2.15", "2001:DB8::15"):
        response = client.get(URL, {"q": q})
        assert response["Location"] == "/hosts/4Xk2mQ9sTrB/", q


def test_an_id_in_two_organizations_lists_both(
    login: Callable[[User], Client],
    support_user: User,
    acme_org: Organization,
    globex_org: Organization,
) -> None:
    make_host(acme_org, "a1", name="acme-db", ip_addresses="10.0.0.5")
    make_host(globex_org, "g1", name="globex-db", ip_addresses="10.0.0.5", is_retired=True)
    response = login(support_user).get(URL, {"q": "10.0.0.5"})
    page = response.content.decode()
    assert response.status_code == 200
    for text in ("acme-db", "globex-db", "Acme", "acme-prod", "Globex", "globex-prod"):
        assert text in page
    assert page.index("acme-db") < page.index("globex-db")  # the live host first
    assert 'class="badge retired"' in page
    assert "<mark>10.0.0.5</mark>" in page


def test_text_results_show_customer_organization_and_where_it_matched(
    login: Callable[[User], Client],
    support_user: User,
    acme_org: Organization,
    globex_org: Organization,
) -> None:
    host = make_host(acme_org, "h1", name="tky-web-01", memo="Nginx の前段。障害時は田中さんへ連絡")
    make_case(acme_org, "c1xyz", host=host)
    make_host(globex_org, "h2", name="osa-db-01", memo="バックアップ先: 田中さんの NAS")
    page = login(support_user).get(URL, {"q": "田中"}).content.decode()
    assert "障害時は<mark>田中</mark>さんへ連絡" in page
    assert "バックアップ先: <mark>田中</mark>さんの NAS" in page
    assert "/hosts/h1/" in page
    assert "/hosts/h2/" in page
    assert "/cases/c1xyz/" in page  # newest cases of the hosts found
    page = login(support_user).get(URL, {"q": "WEB-01"}).content.decode()
    assert "tky-<mark>web-01</mark>" in page
    assert "osa-db-01" not in page


def test_organizations_and_customers_are_found_by_name(
    login: Callable[[User], Client],
    support_user: User,
    acme_org: Organization,
    globex_org: Organization,
) -> None:
    page = login(support_user).get(URL, {"q": "globex"}).content.decode()
    assert "<mark>Globex</mark>" in page
    assert "<mark>globex</mark>-prod" in page
    assert f"/orgs/{globex_org.code}/" in page
    assert "acme-prod" not in page


def test_many_matches_are_limited_then_paginated_by_kind(
    login: Callable[[User], Client], support_user: User, acme_org: Organization
) -> None:
    make_hosts(acme_org, 61, prefix="web")
    client = login(support_user)
    page = client.get(URL, {"q": "web-acme"}).content.decode()
    assert page.count("/hosts/web") == 10
    assert "?q=web-acme&amp;kind=hosts" in page
    page = client.get(URL, {"q": "web-acme", "kind": "hosts"}).content.decode()
    assert page.count("/hosts/web") == 50
    assert 'rel="next"' in page
    page = client.get(URL, {"q": "web-acme", "kind": "hosts", "page": "2"}).content.decode()
    assert page.count("/hosts/web") == 11
    assert 'rel="next"' not in page


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("", "ケース ID、ホスト ID、"),
        ("   ", "ケース ID、ホスト ID、"),
        ("x", "2 文字以上入力してください。"),
        ("x" * 201, "200 文字以内で検索してください。"),
        ("no-such-thing", "「no-such-thing」に一致するものはありません。"),
    ],
)
def test_empty_short_long_and_unmatched_queries_get_a_clear_message(
    login: Callable[[User], Client], support_user: User, q: str, message: str
) -> None:
    response = login(support_user).get(URL, {"q": q})
    assert response.status_code == 200
    assert message in response.content.decode()


@pytest.mark.parametrize(
    "q",
    [
        "'",
        '"quoted"',
        "100%",
        "a_b",
        "%_%",
        "\\",
        "a\x00b",
        "\x00\x00",
        "x" * 5000,
        "障害",
        "🐟🐟",
        "(^| ).*",
        "'; DROP TABLE orgs_host; --",
        "10.0.0.1/24",
        "::",
        "1.2.3.4.5",
        "ZZZZ" * 8,
        "<script>alert(1)</script>",
    ],
)
def test_odd_input_never_fails(
    login: Callable[[User], Client], support_user: User, acme_org: Organization, q: str
) -> None:
    make_host(acme_org, "h1", name="a_b 100% \\ 'web'", memo="障害 <b>")
    response = login(support_user).get(URL, {"q": q})
    assert response.status_code in (200, 302)
    assert b"<script>alert" not in response.content


def test_odd_paging_never_fails(login: Callable[[User], Client], support_user: User) -> None:
    client = login(support_user)
    for params in ({"kind": "nope"}, {"kind": "hosts", "page": "-3"}, {"page": "x"}):
        assert client.get(URL, {"q": "web", **params}).status_code == 200
