"""Routing coverage: which organizations, services and hosts would alert and reach nobody.

A route *reaches someone* when it is active, sends mail when a case opens, and has at least one
active contact of its customer whose mail does not bounce. A host's cases are filed under one
service, the first of its roles' services by name (``orgs.mirrors.first_service_of``), so a host
is covered by a route for that service or by a route for every service (service empty); a host
with no role is covered only by the latter.

The report costs a fixed number of queries however many hosts there are: routes and services are
few and checked in Python, hosts are filtered in the database and only uncovered ones are loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery

from accounts.models import Customer
from alerts.models import CaseEvent
from notifications.models import Contact, Route
from orgs.models import Host, Organization, Role, Service


@dataclass(frozen=True, slots=True)
class HostGap:
    """A host whose alerts no route would mail, and the service its cases are filed under."""

    organization: Organization
    host: Host
    service_name: str


@dataclass(frozen=True, slots=True)
class BouncingContact:
    """A contact whose mail bounces, and the routes that send to it."""

    contact: Contact
    routes: list[Route]


@dataclass
class OrganizationGaps:
    """What one organization lacks; ``host_count`` is set when it has no route at all."""

    organization: Organization
    has_routes: bool
    host_count: int = 0
    services: list[Service] = field(default_factory=list)
    hosts: list[HostGap] = field(default_factory=list)


@dataclass
class CustomerGaps:
    """One customer's organizations with gaps, and its bouncing contacts."""

    customer: Customer
    organizations: list[OrganizationGaps] = field(default_factory=list)
    bouncing: list[BouncingContact] = field(default_factory=list)


@dataclass
class Report:
    """The coverage of every checked organization."""

    organizations: list[Organization]
    without_routes: list[Organization]
    host_counts: dict[int, int]
    uncovered_services: list[Service]
    uncovered_hosts: list[HostGap]
    bouncing: list[BouncingContact]

    @property
    def complete(self) -> bool:
        """Every organization, service and host reaches someone, and no contact bounces."""
        return not (
            self.without_routes or self.uncovered_services or self.uncovered_hosts or self.bouncing
        )

    def gap_counts(self, organization: Organization) -> GapCounts:
        """What ``gap_counts`` would say of one checked organization, from this report."""
        if organization in self.without_routes:
            return GapCounts(has_routes=False, hosts=self.host_counts.get(organization.pk, 0))
        return GapCounts(
            has_routes=True,
            services=sum(s.organization_id == organization.pk for s in self.uncovered_services),
            hosts=sum(gap.organization.pk == organization.pk for gap in self.uncovered_hosts),
        )

    def by_customer(self) -> list[CustomerGaps]:
        """The gaps grouped by customer and organization, customers by name."""
        customers: dict[int, CustomerGaps] = {}
        gaps: dict[int, OrganizationGaps] = {}

        def org_gaps(org: Organization) -> OrganizationGaps:
            if org.pk not in gaps:
                gaps[org.pk] = OrganizationGaps(org, has_routes=org not in self.without_routes)
                customer_gaps(org.customer).organizations.append(gaps[org.pk])
            return gaps[org.pk]

        def customer_gaps(customer: Customer) -> CustomerGaps:
            return customers.setdefault(customer.pk, CustomerGaps(customer))

        for org in self.without_routes:
            org_gaps(org).host_count = self.host_counts.get(org.pk, 0)
        for service in self.uncovered_services:
            org_gaps(service.organization).services.append(service)
        for gap in self.uncovered_hosts:
            org_gaps(gap.organization).hosts.append(gap)
        for bouncing in self.bouncing:
            customer_gaps(bouncing.contact.customer).bouncing.append(bouncing)
        return sorted(customers.values(), key=lambda c: c.customer.name)


def reaches_someone(route: Route) -> bool:
    """Whether an opened case matching ``route`` would be mailed to anybody."""
    return (
        route.is_active
        and CaseEvent.Kind.OPENED in route.triggers
        and any(
            contact.is_active
            and contact.bounced_at is None
            and contact.customer_id == route.customer_id
            for contact in route.contacts.all()
        )
    )


def coverage(organization: Organization | None = None) -> Report:
    """The coverage of ``organization``, or of every active organization of active customers."""
    organizations = _organizations(organization)
    reach = _reach(organizations)
    by_id = {org.pk: org for org in organizations}
    partial = reach.partial(organizations)
    without = [org for org in organizations if org.pk not in reach.routed]
    return Report(
        organizations=organizations,
        without_routes=without,
        host_counts=_host_counts([org.pk for org in without]),
        uncovered_services=_uncovered_services(partial, reach.covered, by_id),
        uncovered_hosts=_uncovered_hosts(partial, reach.covered, by_id),
        bouncing=_bouncing(organization),
    )


@dataclass(frozen=True, slots=True)
class GapCounts:
    """How much of one organization reaches nobody; every host when it has no route."""

    has_routes: bool
    services: int = 0
    hosts: int = 0

    @property
    def total(self) -> int:
        return self.services + self.hosts + (0 if self.has_routes else 1)


def gap_counts(organizations: list[Organization]) -> dict[int, GapCounts]:
    """``coverage`` counted rather than listed, for an overview of many organizations.

    The same fixed number of queries as ``coverage``, and no host row leaves the database.
    """
    reach = _reach(organizations)
    partial = reach.partial(organizations)
    services = (
        Service.objects.filter(organization_id__in=partial, is_deleted=False)
        .exclude(pk__in=reach.covered)
        .values("organization_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    hosts = (
        _uncovered_host_queryset(partial, reach.covered)
        .values("organization_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    without = [org.pk for org in organizations if org.pk not in reach.routed]
    service_counts = {row["organization_id"]: row["n"] for row in services}
    host_counts = {row["organization_id"]: row["n"] for row in hosts} | _host_counts(without)
    return {
        org.pk: GapCounts(
            has_routes=org.pk in reach.routed,
            services=service_counts.get(org.pk, 0),
            hosts=host_counts.get(org.pk, 0),
        )
        for org in organizations
    }


@dataclass
class _Reach:
    """Which organizations have active routes, and which of them reach someone, and for what."""

    routed: set[int] = field(default_factory=set)
    # Organizations with a route for every service that reaches someone.
    everything: set[int] = field(default_factory=set)
    # Services with a route of their own that reaches someone.
    covered: set[int] = field(default_factory=set)

    def partial(self, organizations: list[Organization]) -> list[int]:
        """Organizations with routes, none of them for every service: gaps are possible."""
        return [
            org.pk
            for org in organizations
            if org.pk in self.routed and org.pk not in self.everything
        ]


def _reach(organizations: list[Organization]) -> _Reach:
    reach = _Reach()
    routes = Route.objects.filter(organization__in=organizations, is_active=True)
    for route in routes.prefetch_related("contacts"):
        reach.routed.add(route.organization_id)
        if not reaches_someone(route):
            continue
        if route.service_id is None:
            reach.everything.add(route.organization_id)
        else:
            reach.covered.add(route.service_id)
    return reach


def _organizations(organization: Organization | None) -> list[Organization]:
    queryset = Organization.objects.select_related("customer").order_by("customer__name", "name")
    if organization is not None:
        return list(queryset.filter(pk=organization.pk))
    return list(queryset.filter(is_active=True, customer__is_active=True))


def _host_counts(org_ids: list[int]) -> dict[int, int]:
    counts = (
        Host.objects.filter(organization_id__in=org_ids, is_retired=False)
        .values("organization_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {row["organization_id"]: row["count"] for row in counts}


def _uncovered_services(
    org_ids: list[int], covered: set[int], by_id: dict[int, Organization]
) -> list[Service]:
    services = Service.objects.filter(organization_id__in=org_ids, is_deleted=False)
    uncovered = list(services.exclude(pk__in=covered).order_by("organization_id", "name"))
    for service in uncovered:
        service.organization = by_id[service.organization_id]
    return uncovered


def _uncovered_host_queryset(org_ids: list[int], covered: set[int]) -> QuerySet[Host]:
    # The service a host's cases are filed under, as alerts.cases picks it; an alias, so that
    # counting groups by organization alone.
    first_role = Role.objects.filter(hosts=OuterRef("pk")).order_by("service__name", "name")
    return (
        Host.objects.filter(organization_id__in=org_ids, is_retired=False)
        .alias(routing_service_id=Subquery(first_role.values("service_id")[:1]))
        .filter(Q(routing_service_id__isnull=True) | ~Q(routing_service_id__in=covered))
    )


def _uncovered_hosts(
    org_ids: list[int], covered: set[int], by_id: dict[int, Organization]
) -> list[HostGap]:
    first_role = Role.objects.filter(hosts=OuterRef("pk")).order_by("service__name", "name")
    hosts = (
        _uncovered_host_queryset(org_ids, covered)
        .annotate(routing_service_name=Subquery(first_role.values("service__name")[:1]))
        .only("id", "organization_id", "name", "display_name", "mackerel_id")
        .order_by("organization_id", "name")
    )
    return [
        HostGap(by_id[host.organization_id], host, getattr(host, "routing_service_name", "") or "")
        for host in hosts
    ]


def _bouncing(organization: Organization | None) -> list[BouncingContact]:
    contacts = Contact.objects.filter(bounced_at__isnull=False)
    if organization is not None:
        contacts = contacts.filter(customer_id=organization.customer_id)
    routes = Route.objects.select_related("organization").order_by("organization__name", "name")
    contacts = contacts.select_related("customer").prefetch_related(
        Prefetch("routes", queryset=routes)
    )
    return [
        BouncingContact(contact, list(contact.routes.all()))
        for contact in contacts.order_by("customer__name", "name")
    ]
