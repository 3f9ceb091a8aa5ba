from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from accounts.models import User
from alerts.models import Case
from alerts.tests.factories import make_case, make_cases
from orgs.models import Organization, Service
from orgs.tests.factories import make_host, make_hosts

pytestmark = pytest.mark.django_db

# Session, user, the filter choices (organizations, services), the page.
CASE_LIST_QUERIES = 5
TOKYO = ZoneInfo("Asia/Tokyo")


def ids(response: Any) -> set[str]:
    return {case.alert_id for case in response.context["page"].object_list}


def test_customer_sees_only_their_cases(
    login: Callable[[User], Client],
    alice: User,
    acme_org: Organization,
    globex_org: Organization,
) -> None:
    make_case(acme_org, "acme1")
    make_case(globex_org, "globex1", message="Globex secret")
    response = login(alice).get("/cases/")
    assert response.status_code == 200
    assert ids(response) == {"acme1"}
    assert b"Globex secret" not in response.content


def test_filters_by_state_severity_organization_service_and_host(
    login: Callable[[User], Client], alice: User, acme: Any, acme_org: Organization
) -> None:
    other_org = Organization.objects.create(customer=acme, name="acme-stg")
    web = Service.objects.create(customer=acme, organization=acme_org, name="web")
    host = make_host(acme_org, "4Xk2mQ9sTrB", name="tky-db-01", display_name="Payments DB")
    make_case(acme_org, "open-crit", host=host)
    make_case(acme_org, "open-warn", severity=Case.Severity.WARNING, service=web)
    make_case(acme_org, "closed", is_open=False, severity=Case.Severity.OK)
    make_case(other_org, "stg")
    client = login(alice)
    assert ids(client.get("/cases/", {"state": "open"})) == {"open-crit", "open-warn", "stg"}
    assert ids(client.get("/cases/", {"state": "closed"})) == {"closed"}
    assert ids(client.get("/cases/", {"severity": "warning"})) == {"open-warn"}
    assert ids(client.get("/cases/", {"organization": str(other_org.code)})) == {"stg"}
    assert ids(client.get("/cases/", {"service": web.pk})) == {"open-warn"}
    for host_query in ("4Xk2mQ9sTrB", "tky-db", "payments"):
        assert ids(client.get("/cases/", {"host": host_query})) == {"open-crit"}


def test_period_is_in_the_users_time_zone(
    login: Callable[[User], Client], alice: User, acme_org: Organization
) -> None:
    # 00:30 on 1 June in Tokyo is still 31 May in UTC.
    make_case(acme_org, "june", opened_at=datetime(2026, 6, 1, 0, 30, tzinfo=TOKYO))
    make_case(acme_org, "may", opened_at=datetime(2026, 5, 31, 23, 30, tzinfo=TOKYO))
    client = login(alice)
    assert ids(client.get("/cases/", {"since": "2026-06-01"})) == {"june"}
    assert ids(client.get("/cases/", {"until": "2026-05-31"})) == {"may"}
    alice.time_zone = "UTC"
    alice.save()
    assert ids(client.get("/cases/", {"since": "2026-05-31", "until": "2026-05-31"})) == {
        "june",
        "may",
    }


def test_bad_filter_values_are_shown_not_fatal(
    login: Callable[[User], Client], alice: User, acme_org: Organization
) -> None:
    make_case(acme_org, "one")
    response = login(alice).get("/cases/", {"since": "yesterday", "severity": "dire"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"since", "severity"}
    assert ids(response) == {"one"}


def test_cases_are_paginated_newest_first(
    login: Callable[[User], Client], alice: User, acme_org: Organization
) -> None:
    cases = make_cases(acme_org, 60)
    client = login(alice)
    first, second = client.get("/cases/"), client.get("/cases/", {"page": 2})
    assert first.context["page"].object_list[0].alert_id == cases[-1].alert_id
    assert first.context["page"].has_next and not second.context["page"].has_next
    assert len(second.context["page"].object_list) == 10
    assert b'rel="next"' in first.content


def test_query_count_does_not_grow_with_the_number_of_cases(
    login: Callable[[User], Client],
    alice: User,
    acme_org: Organization,
    django_assert_max_num_queries: Any,
) -> None:
    client = login(alice)
    hosts = make_hosts(acme_org, 20)
    make_cases(acme_org, 5, hosts=hosts, prefix="few")
    with django_assert_max_num_queries(CASE_LIST_QUERIES) as few:
        assert client.get("/cases/").status_code == 200
    make_cases(acme_org, 195, hosts=hosts, prefix="many")
    with django_assert_max_num_queries(CASE_LIST_QUERIES) as many:
        client.get("/cases/")
    assert len(many) == len(few)
