"""Pages that show the data of several apps: the customer dashboard, host and case pages, and
the staff summary of organizations."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.decorators import staff_required
from accounts.tenancy import get_visible_or_404
from alerts.models import Case
from notifications.models import Notification
from orgs.filters import with_roles
from orgs.models import Host, Organization
from pages import charts, staff_summary
from pages.summary import organization_summaries

NEWEST_CASES = 10
HOST_CASES = 20


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    newest = Case.objects.visible_to(request.user).select_related("organization", "host")
    context = {
        "summaries": organization_summaries(request.user),
        "newest_cases": newest.order_by("-opened_at", "-id")[:NEWEST_CASES],
    }
    return render(request, "pages/dashboard.html", context)


@login_required
def host_detail(request: HttpRequest, host_id: str) -> HttpResponse:
    """A host with its memo, roles, addresses and status, and its newest cases."""
    host = get_visible_or_404(with_roles(Host.objects.all()), request.user, mackerel_id=host_id)
    cases = Case.objects.visible_to(request.user).filter(host=host)
    cases = cases.select_related("organization", "host")
    context = {"host": host, "cases": cases.order_by("-opened_at", "-id")[:HOST_CASES]}
    return render(request, "pages/host_detail.html", context)


@login_required
def case_detail(request: HttpRequest, alert_id: str) -> HttpResponse:
    """The page every mail links to: the case, its host, its timeline and the mails sent."""
    case = get_visible_or_404(
        Case.objects.select_related("organization", "host", "service"),
        request.user,
        alert_id=alert_id,
    )
    notifications = (
        Notification.objects.visible_to(request.user)
        .filter(case=case)
        .select_related("contact", "case_event", "digest")
        .order_by("created_at", "id")
    )
    context = {
        "case": case,
        "events": case.events.order_by("occurred_at", "id"),
        "notifications": notifications,
    }
    return render(request, "pages/case_detail.html", context)


@staff_required
def staff_overview(request: HttpRequest) -> HttpResponse:
    """Every organization's figures on one page, the troubled ones on top (or as sorted)."""
    sort = request.GET.get("sort", "")
    sort = sort if sort in staff_summary.SORTS else "trouble"
    rows = staff_summary.overview(request.user, sort)
    return render(request, "pages/staff_overview.html", {"rows": rows, "sort": sort})


@staff_required
def staff_organization(request: HttpRequest, code: str) -> HttpResponse:
    """One organization's figures in detail, with its hosts and cases over time as charts."""
    org = get_visible_or_404(
        Organization.objects.select_related("customer"), request.user, code=code
    )
    detail = staff_summary.detail(org)
    context = {
        "organization": org,
        "detail": detail,
        "figures": detail.figures,
        "host_chart": charts.line_chart(detail.hosts.days),
        "case_chart": charts.bar_chart([day.day for day in detail.cases], detail.case_series()),
    }
    return render(request, "pages/staff_organization.html", context)
