"""Routing coverage: what would alert and reach nobody, found in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from accounts.models import Customer, User
from notifications import coverage
from notifications.models import Contact, Route
from orgs.models import Host, Organization, Role, Service

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]
URL = "/staff/coverage/"
# Organizations, routes, their contacts, host counts, services, hosts, bouncing contacts, their
# routes: one query each, whatever the number of hosts.
MAX_QUERIES = 8


class World:
    """acme_org with services web, db and batch and a route for web only (to ops)."""

    def __init__(self, org: Organization, ops: Contact) -> None:
        self.org = org
        self.services = {
            name: Service.objects.create(customer=org.customer, organization=org, name=name)
            for name in ("web", "db", "batch")
        }
        self.roles = {
            name: Role.objects.create(
                customer=org.customer, organization=org, service=service, name="main"
            )
            for name, service in self.services.items()
        }
        self.route = Route.objects.create(
            organization=org, name="web team", service=self.services["web"], triggers=["opened"]
        )
        self.route.contacts.add(ops)

    def host(self, name: str, *roles: str, retired: bool = False) -> Host:
        host = Host.objects.create(
            customer=self.org.customer,
            organization=self.org,
            mackerel_id=f"id-{name}",
            name=name,
            is_retired=retired,
        )
        host.roles.add(*(self.roles[role] for role in roles))
        return host


@pytest.fixture
def world(acme_org: Organization, ops: Contact) -> World:
    return World(acme_org, ops)


def _host_names(report: coverage.Report) -> set[str]:
    return {gap.host.name for gap in report.uncovered_hosts}


def _service_names(report: coverage.Report) -> set[str]:
    return {service.name for service in report.uncovered_services}


def test_finds_the_organization_service_and_host_nobody_hears_of(
    world: World, globex_org: Organization
) -> None:
    world.host("web-1", "web")
    world.host("db-1", "db")
    world.host("bare-1")
    world.host("old-db", "db", retired=True)
    report = coverage.coverage()
    assert report.without_routes == [globex_org]
    assert _service_names(report) == {"db", "batch"}
    assert _host_names(report) == {"db-1", "bare-1"}
    assert not report.complete


def test_host_is_judged_by_the_service_its_cases_are_filed_under(world: World) -> None:
    # Cases of a host in db and web are filed under "db" (first by name): the web route is deaf.
    world.host("both", "web", "db")
    [gap] = coverage.coverage().uncovered_hosts
    assert (gap.host.name, gap.service_name) == ("both", "db")


def test_route_for_every_service_covers_every_host(world: World, ops: Contact) -> None:
    world.host("db-1", "db")
    world.host("bare-1")
    everything = Route.objects.create(organization=world.org, name="all", triggers=["opened"])
    everything.contacts.add(ops)
    report = coverage.coverage(world.org)
    assert (report.uncovered_services, report.uncovered_hosts) == ([], [])
    assert report.complete


@pytest.mark.parametrize(
    "spoil",
    ["inactive route", "inactive contact", "bouncing contact", "no opened event", "no contact"],
)
def test_route_that_reaches_nobody_does_not_cover(world: World, ops: Contact, spoil: str) -> None:
    world.host("web-1", "web")
    route = world.route
    if spoil == "inactive route":
        route.is_active = False
    elif spoil == "no opened event":
        route.triggers = ["closed"]
    elif spoil == "no contact":
        route.contacts.clear()
    route.save()
    Contact.objects.filter(pk=ops.pk).update(
        is_active=spoil != "inactive contact",
        bounced_at=timezone.now() if spoil == "bouncing contact" else None,
    )
    report = coverage.coverage(world.org)
    if spoil == "inactive route":
        assert report.without_routes == [world.org]
        assert report.host_counts == {world.org.pk: 1}
    else:
        assert "web" in _service_names(report)
        assert _host_names(report) == {"web-1"}


def test_contact_of_another_customer_does_not_cover(world: World, globex: Customer) -> None:
    world.host("web-1", "web")
    stranger = Contact.objects.create(customer=globex, name="x", email="x@globex.example")
    world.route.contacts.set([stranger])
    assert _host_names(coverage.coverage(world.org)) == {"web-1"}


def test_bouncing_contacts_are_listed_with_their_routes(world: World, ops: Contact) -> None:
    Contact.objects.filter(pk=ops.pk).update(bounced_at=timezone.now(), bounce_reason="550")
    [bouncing] = coverage.coverage().bouncing
    assert (bouncing.contact, bouncing.routes) == (ops, [world.route])


def test_report_is_grouped_by_customer(world: World, globex_org: Organization) -> None:
    world.host("db-1", "db")
    customers = coverage.coverage().by_customer()
    assert [c.customer.name for c in customers] == ["Acme", "Globex"]
    [acme_gaps] = customers[0].organizations
    assert acme_gaps.has_routes
    assert [gap.host.name for gap in acme_gaps.hosts] == ["db-1"]
    assert not customers[1].organizations[0].has_routes


def test_gap_counts_agree_with_the_report(world: World, globex_org: Organization) -> None:
    world.host("web-1", "web")
    world.host("db-1", "db")
    world.host("bare-1")
    world.host("old-db", "db", retired=True)
    Host.objects.create(
        customer=globex_org.customer, organization=globex_org, mackerel_id="g1", name="g1"
    )
    counts = coverage.gap_counts([world.org, globex_org])
    assert counts[world.org.pk] == coverage.GapCounts(has_routes=True, services=2, hosts=2)
    assert counts[globex_org.pk] == coverage.GapCounts(has_routes=False, hosts=1)
    assert (counts[world.org.pk].total, counts[globex_org.pk].total) == (4, 2)
    report = coverage.coverage()
    assert report.gap_counts(world.org) == counts[world.org.pk]
    assert report.gap_counts(globex_org) == counts[globex_org.pk]


def test_gap_counts_are_zero_when_a_route_covers_every_service(world: World, ops: Contact) -> None:
    world.host("db-1", "db")
    everything = Route.objects.create(organization=world.org, name="all", triggers=["opened"])
    everything.contacts.add(ops)
    assert coverage.gap_counts([world.org])[world.org.pk].total == 0


def _many_hosts(world: World, count: int, start: int = 0) -> None:
    hosts = Host.objects.bulk_create(
        Host(
            customer=world.org.customer,
            organization=world.org,
            mackerel_id=f"bulk{index:05d}",
            name=f"bulk-{index:05d}",
        )
        for index in range(start, start + count)
    )
    through = Host.roles.through
    role_names = ["web", "db", "batch"]
    through.objects.bulk_create(
        through(host_id=host.pk, role_id=world.roles[role_names[index % 3]].pk)
        for index, host in enumerate(hosts)
    )


def test_query_count_does_not_grow_with_hosts(
    world: World,
    globex_org: Organization,
    ops: Contact,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    Contact.objects.filter(pk=ops.pk).update(bounced_at=timezone.now())
    _many_hosts(world, 10)
    with django_assert_max_num_queries(MAX_QUERIES) as small_queries:
        small = coverage.coverage()
    _many_hosts(world, 200, start=10)
    with django_assert_max_num_queries(MAX_QUERIES) as large_queries:
        large = coverage.coverage()
    assert len(large_queries.captured_queries) == len(small_queries.captured_queries)
    # ops bounces, so nothing covers: every host of acme is listed, each from that one query.
    assert len(small.uncovered_hosts) == 10
    assert len(large.uncovered_hosts) == 210
    assert {gap.service_name for gap in large.uncovered_hosts} == {"web", "db", "batch"}


def test_gap_counts_cost_the_same_queries_for_many_hosts(
    world: World,
    globex_org: Organization,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    organizations = [world.org, globex_org]
    _many_hosts(world, 10)
    with django_assert_max_num_queries(MAX_QUERIES) as small_queries:
        small = coverage.gap_counts(organizations)
    _many_hosts(world, 200, start=10)
    with django_assert_max_num_queries(MAX_QUERIES) as large_queries:
        large = coverage.gap_counts(organizations)
    assert len(large_queries.captured_queries) == len(small_queries.captured_queries)
    # web is routed; each batch gives every third host (from its first) a web role.
    assert (small[world.org.pk].hosts, large[world.org.pk].hosts) == (6, 6 + 133)


# --- The staff page -------------------------------------------------------------------------------
def test_page_needs_a_login(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_page_is_not_found_for_customers(login: Login, alice: User) -> None:
    assert login(alice).get(URL).status_code == 404


@pytest.mark.parametrize("who", ["support_user", "sales_user"])
def test_page_shows_staff_the_gaps(
    login: Login, world: World, globex_org: Organization, who: str, request: pytest.FixtureRequest
) -> None:
    world.host("db-1", "db")
    response = login(request.getfixturevalue(who)).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "db-1" in page
    assert "globex-prod" in page
    assert f"/admin/notifications/route/add/?organization={globex_org.pk}" in page
    assert "web-1" not in page


def test_staff_see_the_link_in_the_navigation(
    login: Login, support_user: User, alice: User
) -> None:
    assert URL in login(support_user).get("/").content.decode()
    assert URL not in login(alice).get("/").content.decode()
