"""Customer pages about their Mackerel organizations and hosts."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.tenancy import get_visible_or_404
from orgs.filters import HostFilterForm, with_roles
from orgs.models import Host, Organization
from portal import pagination


@login_required
def organization_list(request: HttpRequest) -> HttpResponse:
    organizations = Organization.objects.visible_to(request.user).select_related("customer")
    return render(request, "orgs/organization_list.html", {"organizations": organizations})


@login_required
def organization_detail(request: HttpRequest, code: str) -> HttpResponse:
    org = get_visible_or_404(
        Organization.objects.select_related("customer"), request.user, code=code
    )
    return render(request, "orgs/organization_detail.html", {"organization": org})


# What a row of the host list shows: not the interfaces and metadata (JSON to parse) nor the
# timestamps of sync.
HOST_ROW_FIELDS = (
    "organization__name",
    "organization__display_name",
    "mackerel_id",
    "name",
    "display_name",
    "custom_identifier",
    "status",
    "is_retired",
    "ip_addresses",
    "memo",
)


@login_required
def host_list(request: HttpRequest) -> HttpResponse:
    form = HostFilterForm(request.GET, user=request.user)
    hosts = form.filter(Host.objects.visible_to(request.user))
    page = pagination.counted_page(
        with_roles(hosts).only(*HOST_ROW_FIELDS), request.GET.get("page")
    )
    return render(request, "orgs/host_list.html", {"form": form, "page": page})
