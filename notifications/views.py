"""Staff pages about notifications."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.decorators import staff_required
from notifications import coverage


@staff_required
def coverage_report(request: HttpRequest) -> HttpResponse:
    report = coverage.coverage()
    return render(
        request,
        "notifications/coverage.html",
        {"report": report, "customers": report.by_customer()},
    )
