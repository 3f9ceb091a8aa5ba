from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from alerts.tests.factories import make_case, make_cases
from orgs.models import Organization
from orgs.tests.factories import make_host, make_role

pytestmark = pytest.mark.django_db

# Session, user, host, its roles, its cases.
HOST_PAGE_QUERIES = 5


def test_host_page_shows_memo_roles_addresses_status_and_cases(
    login: Callable[[User], Client], alice: User, acme_org: Organization
) -> None:
    role = make_role(acme_org, "shop", "db")
    host = make_host(
        acme_org,
        "4Xk2mQ9sTrB",
        name="tky-db-01",
        memo="本番 DB サーバ",
        ip_addresses="192.0.2.15",
        status="maintenance",
        roles=[role],
    )
    make_case(acme_org, "c1", host=host)
    make_case(acme_org, "other")
    page = login(alice).get("/hosts/4Xk2mQ9sTrB/").content.decode()
    for text in ("tky-db-01", "本番 DB サーバ", "192.0.2.15", "shop: db", "host-maintenance"):
        assert text in page
    assert "/cases/c1/" in page
    assert "/cases/other/" not in page
    assert "https://mackerel.io/orgs/acme-prod/hosts/4Xk2mQ9sTrB" in page


def test_another_customers_host_is_404(
    login: Callable[[User], Client], alice: User, globex_org: Organization
) -> None:
    make_host(globex_org, "g1", memo="Globex secret")
    response = login(alice).get("/hosts/g1/")
    assert response.status_code == 404
    assert b"Globex secret" not in response.content


def test_query_count_does_not_grow_with_the_hosts_cases(
    login: Callable[[User], Client],
    alice: User,
    acme_org: Organization,
    django_assert_max_num_queries: Any,
) -> None:
    client = login(alice)
    host = make_host(acme_org, "h1", roles=[make_role(acme_org)])
    make_cases(acme_org, 5, hosts=[host], prefix="few")
    with django_assert_max_num_queries(HOST_PAGE_QUERIES) as few:
        assert client.get("/hosts/h1/").status_code == 200
    make_cases(acme_org, 195, hosts=[host], prefix="many")
    with django_assert_max_num_queries(HOST_PAGE_QUERIES) as many:
        client.get("/hosts/h1/")
    assert len(many) == len(few)
