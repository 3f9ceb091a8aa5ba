"""The dashboard's figures: per organization, hosts by status and open cases by severity."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count

from accounts.models import User
from alerts.models import Case
from alerts.status import SEVERITY_ORDER
from orgs.models import Host, Organization


@dataclass
class OrganizationSummary:
    """One organization's hosts by status and open cases by severity."""

    organization: Organization
    hosts: Counter[str] = field(default_factory=Counter)
    open_cases: Counter[str] = field(default_factory=Counter)

    @property
    def host_total(self) -> int:
        return sum(self.hosts.values())

    @property
    def open_total(self) -> int:
        return sum(self.open_cases.values())

    def host_counts(self) -> list[tuple[str, str, int]]:
        """(status, label, count) for every host status, in Mackerel's order."""
        return [(s.value, str(s.label), self.hosts[s.value]) for s in Host.Status]

    def case_counts(self) -> list[tuple[str, str, int]]:
        """(severity, label, count) of the open cases, worst first."""
        return [(s.value, str(s.label), self.open_cases[s.value]) for s in SEVERITY_ORDER]


def organization_summaries(user: User | AnonymousUser) -> list[OrganizationSummary]:
    """Three grouped queries, however many hosts and cases there are."""
    summaries = {org.pk: OrganizationSummary(org) for org in Organization.objects.visible_to(user)}
    hosts = Host.objects.visible_to(user).filter(is_retired=False)
    for by_status in hosts.values("organization_id", "status").annotate(n=Count("id")).order_by():
        if summary := summaries.get(by_status["organization_id"]):
            summary.hosts[by_status["status"]] = by_status["n"]
    cases = Case.objects.visible_to(user).open()
    for by_severity in (
        cases.values("organization_id", "severity").annotate(n=Count("id")).order_by()
    ):
        if summary := summaries.get(by_severity["organization_id"]):
            summary.open_cases[by_severity["severity"]] = by_severity["n"]
    return list(summaries.values())
