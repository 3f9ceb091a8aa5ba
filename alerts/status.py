"""What the live status page shows: a customer's open cases, counted and newest first."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User
from alerts.models import Case

# The page lists this many open cases; beyond it, the counts and a link to the full list.
SHOWN = 100
# Cases opened this recently are marked new, so a storm reads as it grows.
RECENT = timedelta(minutes=10)
SEVERITY_ORDER = (Case.Severity.CRITICAL, Case.Severity.WARNING, Case.Severity.UNKNOWN)


@dataclass
class OrganizationCounts:
    """Open cases of one organization, by severity."""

    name: str
    by_severity: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_severity.values())


@dataclass
class OpenCases:
    """The open cases a user may see: counts for all of them, rows for the newest."""

    cases: list[Case]
    by_severity: Counter[str]
    organizations: list[OrganizationCounts]
    recent: int
    recent_since: timedelta = RECENT

    @property
    def total(self) -> int:
        return sum(self.by_severity.values())

    @property
    def hidden(self) -> int:
        return self.total - len(self.cases)

    def severity_counts(self) -> list[tuple[str, str, int]]:
        """(value, label, count) for each severity, worst first."""
        return [(s.value, str(s.label), self.by_severity[s.value]) for s in SEVERITY_ORDER]


def open_cases(user: User | AnonymousUser, shown: int = SHOWN) -> OpenCases:
    """Two queries, whatever the number of cases: the counts, and the newest rows."""
    scoped = Case.objects.visible_to(user).open()
    counts = scoped.values("organization__name", "organization__display_name", "severity")
    counts = counts.annotate(
        n=Count("id"), recent=Count("id", filter=Q(opened_at__gte=timezone.now() - RECENT))
    )
    organizations: dict[str, OrganizationCounts] = {}
    by_severity: Counter[str] = Counter()
    recent = 0
    for row in counts.order_by():
        name = row["organization__display_name"] or row["organization__name"]
        organization = organizations.setdefault(name, OrganizationCounts(name))
        organization.by_severity[row["severity"]] = row["n"]
        by_severity[row["severity"]] += row["n"]
        recent += row["recent"]
    rows = list(scoped.select_related("organization", "host").order_by("-opened_at", "-id")[:shown])
    return OpenCases(
        cases=rows,
        by_severity=by_severity,
        organizations=sorted(organizations.values(), key=lambda o: (-o.total, o.name)),
        recent=recent,
    )
