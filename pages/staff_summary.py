"""The staff summary of organizations: hosts, open cases, sync, routing coverage, bounces, trends.

Every figure is counted by the database, grouped by organization (or by day), so both pages cost
a fixed number of queries however many hosts and cases there are. Days are the viewer's: they
start at midnight in the time zone activated for the request.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Case as SqlCase
from django.db.models import (
    Count,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from accounts.models import User
from alerts.models import Case, CaseEvent
from alerts.status import SEVERITY_ORDER
from notifications import coverage
from notifications.models import Contact
from orgs.models import Host, Organization, SyncRun
from pages.summary import OrganizationSummary

HOST_DAYS = 90
CASE_DAYS = 30
RECENT_SYNC_RUNS = 10


@dataclass
class OrganizationFigures(OrganizationSummary):
    """The dashboard's figures of one organization, and what staff need besides: retired hosts,
    routing gaps, bouncing contacts (sync health is on the organization itself)."""

    retired_hosts: int = 0
    gaps: coverage.GapCounts = field(default_factory=lambda: coverage.GapCounts(True))
    bouncing_contacts: int = 0

    @property
    def checked(self) -> bool:
        """Routing coverage is checked for active organizations of active customers only."""
        return self.organization.is_active and self.organization.customer.is_active

    @property
    def troubled(self) -> bool:
        return any(self.problems())

    def problems(self) -> tuple[int, ...]:
        """Larger is worse: what support would look at first, then the next thing, and so on."""
        org = self.organization
        return (
            self.open_cases[Case.Severity.CRITICAL],
            int(org.sync_failing),
            int(self.checked and not self.gaps.has_routes),
            int(bool(org.sync_error)),
            self.open_cases[Case.Severity.WARNING] + self.open_cases[Case.Severity.UNKNOWN],
            self.gaps.total if self.checked else 0,
            self.bouncing_contacts,
        )

    def trouble(self) -> tuple[int, ...]:
        """The overview's default order: organizations that are watched, by their problems, then
        the one never synced or synced longest ago."""
        last = self.organization.last_sync_at
        staleness = -int(last.timestamp()) if last else 1
        return (int(self.checked), *self.problems(), staleness)


def _by_name(figures: OrganizationFigures) -> tuple[str, str]:
    return (figures.organization.customer.name.lower(), figures.organization.name)


def _by_last_sync(figures: OrganizationFigures) -> float:
    last = figures.organization.last_sync_at
    return last.timestamp() if last else 0.0


# How the overview may be ordered: ?sort=<key>, the largest (or first by name) on top.
SORTS: dict[str, tuple[Callable[[OrganizationFigures], Any], bool]] = {
    "trouble": (lambda f: f.trouble(), True),
    "name": (_by_name, False),
    "hosts": (lambda f: f.host_total, True),
    "cases": (lambda f: (f.open_cases[Case.Severity.CRITICAL], f.open_total), True),
    "sync": (_by_last_sync, False),
    "gaps": (lambda f: f.gaps.total if f.checked else -1, True),
    "bouncing": (lambda f: f.bouncing_contacts, True),
}


def overview(user: User | AnonymousUser, sort: str = "trouble") -> list[OrganizationFigures]:
    """Every organization ``user`` may see with its figures, ordered by ``sort`` (see SORTS)."""
    organizations = Organization.objects.visible_to(user).select_related("customer")
    figures = {org.pk: OrganizationFigures(org) for org in organizations}
    _count_hosts(figures, Host.objects.visible_to(user))
    _count_open_cases(figures, Case.objects.visible_to(user).open())
    checked = [f.organization for f in figures.values() if f.checked]
    for pk, gaps in coverage.gap_counts(checked).items():
        figures[pk].gaps = gaps
    bouncing = _bouncing_by_customer(Contact.objects.visible_to(user))
    for item in figures.values():
        item.bouncing_contacts = bouncing[item.organization.customer_id]
    key, descending = SORTS.get(sort, SORTS["trouble"])
    ordered = sorted(figures.values(), key=_by_name)
    return sorted(ordered, key=key, reverse=descending)


def _count_hosts(figures: dict[int, OrganizationFigures], hosts: QuerySet[Host]) -> None:
    rows = hosts.values("organization_id", "status", "is_retired").annotate(n=Count("id"))
    for row in rows.order_by():
        item = figures.get(row["organization_id"])
        if item is None:
            continue
        if row["is_retired"]:
            item.retired_hosts += row["n"]
        else:
            item.hosts[row["status"]] += row["n"]


def _count_open_cases(figures: dict[int, OrganizationFigures], cases: QuerySet[Case]) -> None:
    rows = cases.values("organization_id", "severity").annotate(n=Count("id")).order_by()
    for row in rows:
        if item := figures.get(row["organization_id"]):
            item.open_cases[row["severity"]] = row["n"]


def _bouncing_by_customer(contacts: QuerySet[Contact]) -> Counter[int]:
    # As the coverage page counts them: every contact whose mail bounced, active or not.
    rows = contacts.filter(bounced_at__isnull=False).values("customer_id").annotate(n=Count("id"))
    return Counter({row["customer_id"]: row["n"] for row in rows.order_by()})


# --- One organization -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CaseDay:
    """Cases opened on one day, by the worst severity each reached."""

    day: date
    by_severity: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_severity.values())

    def counts(self) -> list[int]:
        return [self.by_severity.get(s.value, 0) for s in SEVERITY_ORDER]


@dataclass
class HostHistory:
    """Registered hosts at the end of each day (now, for today), oldest day first."""

    days: list[tuple[date, int]]
    # Hosts registered now whose registration time Mackerel did not give: not in the history.
    undated: int = 0

    @property
    def first(self) -> tuple[date, int]:
        return self.days[0]

    @property
    def last(self) -> tuple[date, int]:
        return self.days[-1]

    @property
    def peak(self) -> tuple[date, int]:
        """The day with the most hosts (the latest such day)."""
        return max(reversed(self.days), key=lambda day: day[1])


@dataclass
class OrganizationDetail:
    """Everything the per-organization summary shows."""

    figures: OrganizationFigures
    report: coverage.Report
    sync_runs: list[SyncRun]
    hosts: HostHistory
    cases: list[CaseDay]

    @property
    def cases_opened(self) -> int:
        return sum(day.total for day in self.cases)

    @property
    def busiest_day(self) -> CaseDay | None:
        """The day the most cases opened (the latest such day), if any opened."""
        busiest = max(reversed(self.cases), key=lambda day: day.total, default=None)
        return busiest if busiest and busiest.total else None

    def case_series(self) -> list[tuple[str, str, list[int]]]:
        """(severity, label, cases a day) for each severity, worst first."""
        return [
            (
                severity.value,
                str(severity.label),
                [day.by_severity.get(severity, 0) for day in self.cases],
            )
            for severity in SEVERITY_ORDER
        ]


def detail(org: Organization) -> OrganizationDetail:
    """The figures of one organization in detail, with its trends (CASE_DAYS and HOST_DAYS)."""
    figures = OrganizationFigures(org)
    _count_hosts({org.pk: figures}, Host.objects.filter(organization=org))
    _count_open_cases({org.pk: figures}, Case.objects.open().filter(organization=org))
    report = coverage.coverage(org)
    figures.gaps = report.gap_counts(org)
    figures.bouncing_contacts = len(report.bouncing)
    runs = SyncRun.objects.filter(organization=org).order_by("-started_at", "-id")
    return OrganizationDetail(
        figures=figures,
        report=report,
        sync_runs=list(runs[:RECENT_SYNC_RUNS]),
        hosts=host_history(org, HOST_DAYS),
        cases=cases_per_day(org, CASE_DAYS),
    )


def local_days(count: int) -> tuple[list[date], datetime]:
    """The last ``count`` days up to today, in the current time zone, and the first's midnight."""
    today = timezone.localdate()
    days = [today - timedelta(days=n) for n in range(count - 1, -1, -1)]
    start = timezone.make_aware(datetime.combine(days[0], time.min))
    return days, start


def host_history(org: Organization, count: int = HOST_DAYS) -> HostHistory:
    """Registered hosts a day, from each host's registration and retirement times.

    Sync keeps retired hosts with the time it saw them go, so the count at any moment is the hosts
    registered before it and not yet retired. Three grouped queries: the hosts registered when
    the period began, then registrations and retirements per day within it.
    """
    days, start = local_days(count)
    hosts = Host.objects.filter(organization=org)
    # A host marked retired without a time cannot be placed, so it is left out of the history.
    dated = hosts.filter(mackerel_created_at__isnull=False).exclude(
        is_retired=True, retired_at__isnull=True
    )
    still_there = Q(is_retired=False) | Q(retired_at__gte=start)
    totals = hosts.aggregate(
        before=Count(
            "id",
            filter=Q(mackerel_created_at__lt=start)
            & still_there
            & ~Q(is_retired=True, retired_at__isnull=True),
        ),
        undated=Count("id", filter=Q(is_retired=False, mackerel_created_at__isnull=True)),
    )
    added = _per_day(dated.filter(mackerel_created_at__gte=start), "mackerel_created_at")
    gone = _per_day(dated.filter(is_retired=True, retired_at__gte=start), "retired_at")
    running = totals["before"]
    series = []
    for day in days:
        running += added[day] - gone[day]
        series.append((day, running))
    return HostHistory(days=series, undated=totals["undated"])


def _per_day(queryset: QuerySet[Host], field_name: str) -> Counter[date]:
    # TruncDate takes the current time zone: the viewer's days, not UTC's.
    rows = queryset.annotate(day=TruncDate(field_name)).values("day").annotate(n=Count("id"))
    return Counter({row["day"]: row["n"] for row in rows.order_by()})


# The worst of the severities a case went through, as a number the database can take a maximum of.
_RANK = {Case.Severity.CRITICAL: 3, Case.Severity.WARNING: 2, Case.Severity.UNKNOWN: 1}
_BY_RANK = {rank: severity for severity, rank in _RANK.items()}


def _rank_of(field_name: str) -> SqlCase:
    whens = [When(**{field_name: severity}, then=Value(rank)) for severity, rank in _RANK.items()]
    return SqlCase(*whens, default=Value(0), output_field=IntegerField())


def cases_per_day(org: Organization, count: int = CASE_DAYS) -> list[CaseDay]:
    """Cases opened each day, by the worst severity each reached, in one grouped query.

    A closed case's own severity is OK, so the worst is read from its timeline; a case without
    one (or only ever OK) counts as unknown.
    """
    days, start = local_days(count)
    worst_event = (
        CaseEvent.objects.filter(case=OuterRef("pk"))
        .values("case")
        .annotate(worst=Max(_rank_of("severity")))
        .values("worst")
    )
    rows = (
        Case.objects.filter(organization=org, opened_at__gte=start)
        .annotate(
            day=TruncDate("opened_at"),
            worst=Coalesce(Subquery(worst_event), _rank_of("severity")),
        )
        .values("day", "worst")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_day: dict[date, Counter[str]] = {day: Counter() for day in days}
    for row in rows:
        severity = _BY_RANK.get(row["worst"], Case.Severity.UNKNOWN)
        if row["day"] in by_day:
            by_day[row["day"]][severity] += row["n"]
    return [CaseDay(day, dict(counts)) for day, counts in by_day.items()]
