from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from alerts.models import Case
from alerts.tests.factories import make_case, make_cases
from orgs.models import Host, Organization
from orgs.tests.factories import make_host, make_hosts

pytestmark = pytest.mark.django_db

# Session, user, organizations, hosts by status, open cases by severity, newest cases.
DASHBOARD_QUERIES = 6


def test_dashboard_counts_hosts_by_status_and_open_cases_by_severity(
    login: Callable[[User], Client],
    alice: User,
    acme_org: Organization,
    globex_org: Organization,
) -> None:
    make_hosts(acme_org, 3)
    make_host(acme_org, "m1", status=Host.Status.MAINTENANCE)
    make_host(acme_org, "r1", is_retired=True)
    make_hosts(globex_org, 7)
    make_case(acme_org, "c1")
    make_case(acme_org, "c2")
    make_case(acme_org, "w1", severity=Case.Severity.WARNING)
    make_case(acme_org, "old", is_open=False)
    make_case(globex_org, "GLOBEXCASE1", message="Globex secret")

    response = login(alice).get("/")
    assert response.status_code == 200
    [summary] = response.context["summaries"]
    assert summary.organization == acme_org
    assert summary.hosts == {"working": 3, "maintenance": 1}
    assert summary.open_cases == {"critical": 2, "warning": 1}
    newest = [case.alert_id for case in response.context["newest_cases"]]
    assert newest == ["old", "w1", "c2", "c1"]
    # An ID no random token in the page (CSRF token, asset hashes) holds by chance, as "g1" can.
    assert b"GLOBEXCASE1" not in response.content
    assert b"Globex secret" not in response.content
    assert b"globex-prod" not in response.content


def test_dashboard_links_to_the_organization_list(
    login: Callable[[User], Client], alice: User, acme_org: Organization
) -> None:
    page = login(alice).get("/").content.decode()
    assert 'href="/orgs/"' in page
    assert login(alice).get("/orgs/").status_code == 200


def test_anonymous_visitor_is_sent_to_log_in(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_query_count_does_not_grow_with_hosts_and_cases(
    login: Callable[[User], Client],
    alice: User,
    acme: Any,
    acme_org: Organization,
    django_assert_max_num_queries: Any,
) -> None:
    client = login(alice)
    make_cases(acme_org, 5, hosts=make_hosts(acme_org, 5, prefix="few"), prefix="few")
    with django_assert_max_num_queries(DASHBOARD_QUERIES) as few:
        assert client.get("/").status_code == 200
    second = Organization.objects.create(customer=acme, name="acme-stg")
    make_cases(acme_org, 195, hosts=make_hosts(acme_org, 195, prefix="many"), prefix="many")
    make_cases(second, 50, hosts=make_hosts(second, 50))
    with django_assert_max_num_queries(DASHBOARD_QUERIES) as many:
        client.get("/")
    assert len(many) == len(few)
