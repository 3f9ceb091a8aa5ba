"""The page where a customer's admins make, see and revoke the customer's API tokens.

Staff make tokens in the admin (any customer, or every customer at once). A new token is shown
once, in the answer to the POST that made it, and never stored or rendered again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts import tokens
from accounts.models import ApiToken, Customer, Membership, User

EXPIRY_CHOICES = [
    ("", gettext_lazy("never")),
    ("30", gettext_lazy("in 30 days")),
    ("90", gettext_lazy("in 90 days")),
    ("365", gettext_lazy("in a year")),
]


def admin_customers(user: User) -> list[Customer]:
    """The customers whose tokens ``user`` manages: those they are an admin of."""
    return list(
        Customer.objects.filter(
            is_active=True,
            memberships__user=user,
            memberships__role=Membership.Role.ADMIN,
        ).order_by("name")
    )


class NewTokenForm(forms.Form):
    """Name, customer, access and lifetime of a new token."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    customer = forms.ModelChoiceField(
        label=gettext_lazy("Customer"), queryset=Customer.objects.none(), empty_label=None
    )
    can_write = forms.BooleanField(
        label=gettext_lazy("May also change contacts (read-write)"), required=False
    )
    expires_in = forms.ChoiceField(
        label=gettext_lazy("Expires"), choices=EXPIRY_CHOICES, required=False
    )

    def __init__(self, *args: Any, customers: list[Customer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField[Customer], self.fields["customer"])
        field.queryset = Customer.objects.filter(pk__in=[c.pk for c in customers])
        if len(customers) == 1:
            field.initial = customers[0]
            field.widget = forms.HiddenInput()


def _managed(user: User) -> list[Customer]:
    customers = admin_customers(user)
    if not customers:
        # A viewer is a member, so this is "not allowed", not "not found" (style.md §2.3.4).
        raise PermissionDenied
    return customers


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """List the tokens of the customers the user administers, and make a new one."""
    user = cast(User, request.user)  # login_required let only a logged-in user through
    customers = _managed(user)
    form = NewTokenForm(request.POST or None, customers=customers)
    issued: tokens.IssuedToken | None = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in"]
        issued = tokens.issue(
            name=form.cleaned_data["name"],
            customer=form.cleaned_data["customer"],
            can_write=form.cleaned_data["can_write"],
            created_by=user,
            expires_at=timezone.now() + timedelta(days=int(days)) if days else None,
        )
        form = NewTokenForm(customers=customers)
    listed = (
        ApiToken.objects.filter(customer__in=customers)
        .select_related("customer", "created_by")
        .order_by("revoked_at", "-created_at")
    )
    return render(
        request,
        "accounts/api_tokens.html",
        {"form": form, "issued": issued, "tokens": listed, "now": timezone.now()},
    )


@login_required
@require_POST
def revoke_api_token(request: HttpRequest) -> HttpResponse:
    """Revoke one of the user's customers' tokens; any other token is a 404."""
    customers = _managed(cast(User, request.user))
    token = ApiToken.objects.filter(
        code=_uuid_or_404(request.POST.get("token", "")), customer__in=customers
    ).first()
    if token is None:
        raise Http404
    tokens.revoke(token)
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("accounts:api_tokens")


def _uuid_or_404(value: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise Http404 from None
