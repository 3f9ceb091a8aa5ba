"""The host list's search and filters: a form that validates the query string, then narrows a
queryset the caller has already scoped with ``visible_to``."""

from __future__ import annotations

from typing import Any, TypeVar

from django import forms
from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from orgs.models import Host, Organization, Role, Service
from portal import widgets


def _in_roles(condition: Q) -> QuerySet[Any]:
    return Host.roles.through.objects.filter(condition).values("host_id")


_Hosts = TypeVar("_Hosts", bound=QuerySet[Host])


class RetiredChoice:
    ACTIVE = "active"
    RETIRED = "retired"
    ALL = "all"


class ScopedFilterForm(forms.Form):
    """Organization and service filters offering only what ``user`` may see (the host and case
    lists share them)."""

    organization = forms.ModelChoiceField(
        widget=widgets.QuickSelect,
        label=_("Organization"),
        queryset=Organization.objects.none(),
        required=False,
        to_field_name="code",
        empty_label=_("All"),
    )
    service = forms.ModelChoiceField(
        widget=widgets.QuickSelect,
        label=_("Service"),
        queryset=Service.objects.none(),
        required=False,
        empty_label=_("All"),
    )

    def __init__(self, *args: Any, user: User | AnonymousUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        # Only what a label and a value need: staff are offered every organization and service.
        fields["organization"].queryset = Organization.objects.visible_to(user).only(
            "code", "name", "display_name"
        )
        fields["service"].queryset = (
            Service.objects.visible_to(user).filter(is_deleted=False).only("name")
        )


class HostFilterForm(ScopedFilterForm):
    """Search and filters of the host list; choices are only the user's own objects."""

    field_order = ("q", "organization", "service", "role", "status", "retired")

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        help_text=_("Name, display name, custom identifier, IP address or memo"),
    )
    role = forms.ModelChoiceField(
        widget=widgets.QuickSelect,
        label=_("Role"),
        queryset=Role.objects.none(),
        required=False,
        empty_label=_("All"),
    )
    status = forms.ChoiceField(
        widget=widgets.QuickSelect,
        label=_("Status"),
        choices=[("", _("All")), *Host.Status.choices],
        required=False,
    )
    retired = forms.ChoiceField(
        widget=widgets.QuickSelect,
        label=_("Retired hosts"),
        choices=[
            (RetiredChoice.ACTIVE, _("Hide")),
            (RetiredChoice.RETIRED, _("Only retired")),
            (RetiredChoice.ALL, _("Show")),
        ],
        required=False,
    )

    def __init__(self, *args: Any, user: User | AnonymousUser, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["role"].queryset = (
            Role.objects.visible_to(user).select_related("service").only("name", "service__name")
        )
        fields["role"].label_from_instance = lambda role: role.fullname

    def filter(self, hosts: QuerySet[Host]) -> QuerySet[Host]:
        """``hosts`` narrowed by the valid filters; an invalid one is ignored (and shown)."""
        self.is_valid()  # cleaned_data then holds the valid fields only
        data = self.cleaned_data
        if q := (data.get("q") or "").strip():
            hosts = hosts.filter(
                Q(name__icontains=q)
                | Q(display_name__icontains=q)
                | Q(custom_identifier__icontains=q)
                | Q(ip_addresses__icontains=q)
                | Q(memo__icontains=q)
                | Q(mackerel_id=q)
            )
        if org := data.get("organization"):
            hosts = hosts.filter(organization=org)
        # Subqueries rather than joins: a host in two roles of a service is still one row.
        if service := data.get("service"):
            hosts = hosts.filter(id__in=_in_roles(Q(role__service=service)))
        if role := data.get("role"):
            hosts = hosts.filter(id__in=_in_roles(Q(role=role)))
        if status := data.get("status"):
            hosts = hosts.filter(status=status)
        retired = data.get("retired") or RetiredChoice.ACTIVE
        if retired != RetiredChoice.ALL:
            hosts = hosts.filter(is_retired=retired == RetiredChoice.RETIRED)
        return hosts


def with_roles(hosts: _Hosts) -> _Hosts:
    """Hosts with their organization and roles (and each role's service) in two more queries."""
    roles = Role.objects.select_related("service").order_by("service__name", "name")
    return hosts.select_related("organization").prefetch_related(Prefetch("roles", roles))
