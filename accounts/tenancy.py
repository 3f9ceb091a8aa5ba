"""The one tenancy mechanism (design.md invariant 3).

Every customer-facing query goes through ``visible_to(user)`` (or ``for_customer(customer)``)
on a ``CustomerQuerySet``. A model that belongs to a customer carries a direct ``customer``
foreign key and uses ``CustomerQuerySet.as_manager()``; views look objects up with
``get_visible_or_404`` so that another customer's object is a 404, never a 403 that would
confirm it exists.

Who sees what:

* an anonymous or inactive user sees nothing;
* a customer user sees the rows of the customers they are a member of;
* staff (``is_staff``) see every customer's rows; what they may *change* is governed by Django
  permissions (groups "sales" and "support"), not by this filter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.db import models
from django.http import Http404

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import ApiToken, Customer, User

_M = TypeVar("_M", bound=models.Model)


class CustomerQuerySet(models.QuerySet[_M]):
    """A QuerySet of rows owned by a customer, scoped with ``visible_to`` or ``for_customer``."""

    # The lookup from this model to the owning customer's primary key.
    customer_lookup = "customer_id"

    def for_customer(self, customer: Customer) -> Self:
        return self.filter(**{self.customer_lookup: customer.pk})

    def for_token(self, token: ApiToken) -> Self:
        """The rows an API token may reach: its customer's, or every customer's for a staff token
        (which only staff can make, in the admin)."""
        if token.customer_id is None:
            return self.all()
        return self.filter(**{self.customer_lookup: token.customer_id})

    def visible_to(self, user: User | AnonymousUser) -> Self:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_staff:
            return self.all()
        from accounts.models import Membership

        member_of = Membership.objects.filter(user_id=user.pk).values("customer_id")
        return self.filter(**{f"{self.customer_lookup}__in": member_of})


def get_visible_or_404(
    queryset: CustomerQuerySet[_M], user: User | AnonymousUser, **lookup: Any
) -> _M:
    """The object matching ``lookup`` among those ``user`` may see.

    Missing and "not yours" give the same 404, so customers cannot probe for each other's objects.
    """
    try:
        return queryset.visible_to(user).get(**lookup)
    except (models.ObjectDoesNotExist, ValueError):
        raise Http404 from None
