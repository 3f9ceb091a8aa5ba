"""Cases for tests, made in bulk where a test needs many."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from alerts.models import Case
from orgs.models import Host, Organization


def make_case(org: Organization, alert_id: str = "2bj3Fq9aXyZ", **fields: Any) -> Case:
    fields.setdefault("severity", Case.Severity.CRITICAL)
    fields.setdefault("opened_at", timezone.now())
    fields.setdefault("monitor_name", "CPU %")
    return Case.objects.create(
        customer_id=org.customer_id, organization=org, alert_id=alert_id, **fields
    )


def make_cases(
    org: Organization,
    count: int,
    hosts: list[Host] | None = None,
    start: datetime | None = None,
    prefix: str = "c",
    **fields: Any,
) -> list[Case]:
    """``count`` cases a minute apart, newest last, spread over ``hosts``, in one query."""
    start = start or timezone.now() - timedelta(minutes=count)
    severities = [Case.Severity.CRITICAL, Case.Severity.WARNING, Case.Severity.UNKNOWN]
    return Case.objects.bulk_create(
        Case(
            customer_id=org.customer_id,
            organization=org,
            alert_id=f"{prefix}{org.pk}x{n:06d}",
            host=hosts[n % len(hosts)] if hosts else None,
            severity=fields.get("severity", severities[n % 3]),
            is_open=fields.get("is_open", True),
            opened_at=start + timedelta(minutes=n),
            monitor_name="CPU %",
            message=f"CPU % {n} > 90",
        )
        for n in range(count)
    )
