from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from orgs.models import Host, Organization
from orgs.tests.factories import make_host, make_hosts, make_role

pytestmark = pytest.mark.django_db

# Session, user, the filter choices (organizations, services, roles), count, page, roles.
HOST_LIST_QUERIES = 8


def names(response: Any) -> set[str]:
    return {host.name for host in response.context["page"].object_list}


def test_customer_sees_only_their_hosts(
    login: Callable[[User], Client],
    alice: User,
    acme_org: Organization,
    globex_org: Organization,
) -> None:
    make_host(acme_org, "acme1", name="acme-web")
    make_host(globex_org, "globex1", name="globex-web", memo="Globex secret")
    response = login(alice).get("/hosts/")
    assert response.status_code == 200
    assert names(response) == {"acme-web"}
    assert b"Globex secret" not in response.content


@pytest.mark.parametrize(
    "query",
    ["web-01", "Shop front", "i-0abc", "192.0.2.15", "Payment", "payment"],
)
def test_search_finds_a_host_by_any_of_its_names_ip_or_memo(
    login: Callable[[User], Client], alice: User, acme_org: Organization, query: str
) -> None:
    make_host(
        acme_org,
        "a1",
        name="tky-web-01",
        display_name="Shop front",
        custom_identifier="i-0abc123",
        ip_addresses="192.0.2.15 10.1.1.1",
        memo="Payment API; call the NOC first",
    )
    make_host(acme_org, "a2", name="tky-db-01", ip_addresses="192.0.2.16")
    assert names(login(alice).get("/hosts/", {"q": query})) == {"tky-web-01"}


def test_filters_by_organization_service_role_and_status(
    login: Callable[[User], Client], alice: User, acme: Any, acme_org: Organization
) -> None:
    other_org = Organization.objects.create(customer=acme, name="acme-stg")
    app, db = make_role(acme_org, "web", "app"), make_role(acme_org, "db", "primary")
    make_host(acme_org, "a1", name="app-1", roles=[app])
    make_host(acme_org, "a2", name="db-1", roles=[db], status=Host.Status.MAINTENANCE)
    make_host(other_org, "b1", name="stg-1")
    client = login(alice)
    assert names(client.get("/hosts/", {"organization": str(other_org.code)})) == {"stg-1"}
    assert names(client.get("/hosts/", {"service": db.service_id})) == {"db-1"}
    assert names(client.get("/hosts/", {"role": app.pk})) == {"app-1"}
    assert names(client.get("/hosts/", {"status": "maintenance"})) == {"db-1"}


def test_retired_hosts_are_hidden_unless_asked_for(
    login: Callable[[User], Client], alice: User, acme_org: Organization
) -> None:
    make_host(acme_org, "a1", name="live")
    make_host(acme_org, "a2", name="gone", is_retired=True)
    client = login(alice)
    assert names(client.get("/hosts/")) == {"live"}
    assert names(client.get("/hosts/", {"retired": "retired"})) == {"gone"}
    assert names(client.get("/hosts/", {"retired": "all"})) == {"live", "gone"}


def test_another_customers_organization_is_not_a_valid_filter(
    login: Callable[[User], Client],
    alice: User,
    acme_org: Organization,
    globex_org: Organization,
) -> None:
    make_host(globex_org, "g1", name="globex-web")
    response = login(alice).get("/hosts/", {"organization": str(globex_org.code)})
    assert names(response) == set()
    assert "organization" in response.context["form"].errors
    assert b"globex-prod" not in response.content


def test_hosts_are_paginated(
    login: Callable[[User], Client], alice: User, acme_org: Organization
) -> None:
    make_hosts(acme_org, 60)
    client = login(alice)
    first, second = client.get("/hosts/"), client.get("/hosts/", {"page": 2})
    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 10
    assert names(first).isdisjoint(names(second))
    assert client.get("/hosts/", {"page": "x"}).status_code == 200


def test_query_count_does_not_grow_with_the_number_of_hosts(
    login: Callable[[User], Client],
    alice: User,
    acme_org: Organization,
    django_assert_max_num_queries: Any,
) -> None:
    client = login(alice)
    make_hosts(acme_org, 5, prefix="few")
    with django_assert_max_num_queries(HOST_LIST_QUERIES) as few:
        assert client.get("/hosts/").status_code == 200
    make_hosts(acme_org, 195, prefix="many")
    with django_assert_max_num_queries(HOST_LIST_QUERIES) as many:
        client.get("/hosts/")
    assert len(many) == len(few)
