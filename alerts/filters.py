"""The case list's filters: a form that validates the query string, then narrows a queryset the
caller has already scoped with ``visible_to``."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.models import Case
from orgs.filters import ScopedFilterForm
from portal import widgets


class State:
    OPEN = "open"
    CLOSED = "closed"
    ALL = "all"


class CaseFilterForm(ScopedFilterForm):
    """Filters of the case list; choices are only the user's own objects."""

    field_order = ("state", "severity", "organization", "service", "host", "since", "until")

    state = forms.ChoiceField(
        widget=widgets.QuickSelect,
        label=_("State"),
        choices=[(State.ALL, _("All")), (State.OPEN, _("Open")), (State.CLOSED, _("Closed"))],
        required=False,
    )
    severity = forms.ChoiceField(
        widget=widgets.QuickSelect,
        label=_("Severity"),
        choices=[("", _("All")), *Case.Severity.choices],
        required=False,
    )
    host = forms.CharField(
        label=_("Host"),
        required=False,
        max_length=255,
        help_text=_("Host name or Mackerel host ID"),
    )
    since = forms.DateField(
        label=_("Opened from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Opened until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def filter(self, cases: QuerySet[Case]) -> QuerySet[Case]:
        """``cases`` narrowed by the valid filters; an invalid one is ignored (and shown)."""
        self.is_valid()  # cleaned_data then holds the valid fields only
        data = self.cleaned_data
        state = data.get("state") or State.ALL
        if state != State.ALL:
            cases = cases.filter(is_open=state == State.OPEN)
        if severity := data.get("severity"):
            cases = cases.filter(severity=severity)
        if org := data.get("organization"):
            cases = cases.filter(organization=org)
        if service := data.get("service"):
            cases = cases.filter(service=service)
        if host := (data.get("host") or "").strip():
            cases = cases.filter(
                Q(host__mackerel_id=host)
                | Q(host__name__icontains=host)
                | Q(host__display_name__icontains=host)
            )
        # Days are the user's days: the middleware activated their time zone.
        if since := data.get("since"):
            cases = cases.filter(opened_at__gte=_start_of(since))
        if until := data.get("until"):
            cases = cases.filter(opened_at__lt=_start_of(until + timedelta(days=1)))
        return cases


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
