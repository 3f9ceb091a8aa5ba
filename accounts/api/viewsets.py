"""The base of every API view: scoped to the token's customer, found by a public ID.

Tenancy is enforced here (style.md §2.3.5), not in each view: ``get_queryset`` narrows by
``for_token`` and ``get_object`` answers 404 for anything outside it, so another customer's
object is indistinguishable from a missing one.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from django.core.exceptions import ValidationError
from django.db import models
from rest_framework import exceptions, serializers, viewsets

from accounts.models import ApiToken
from accounts.tenancy import CustomerQuerySet

_M = TypeVar("_M", bound=models.Model)
_Row = TypeVar("_Row")


class CustomerScopedViewSet(viewsets.GenericViewSet[_M]):
    """A viewset over one customer-owned model; subclasses set ``queryset``, ``lookup_field``,
    the serializers and, for lists, ``filter_serializer_class`` with ``apply_filters``."""

    filter_serializer_class: type[serializers.Serializer[Any]] | None = None
    # Any segment: Mackerel IDs and names may hold dots, which DRF's default would not route.
    lookup_value_regex = "[^/]+"

    @property
    def token(self) -> ApiToken:
        # TokenPermission has let only requests with an ApiToken through.
        return cast(ApiToken, self.request.auth)

    def get_queryset(self) -> models.QuerySet[_M]:
        queryset = cast(CustomerQuerySet[_M], super().get_queryset())
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()  # schema generation: no request, no token
        return queryset.for_token(self.token)

    def get_object(self) -> _M:
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        # first(), not get(): a staff token sees every customer, where a Mackerel ID might repeat.
        try:
            obj = self.get_queryset().filter(**{self.lookup_field: value}).order_by("pk").first()
        except (ValueError, ValidationError):  # e.g. a malformed UUID
            obj = None
        if obj is None:
            raise exceptions.NotFound
        self.check_object_permissions(self.request, obj)
        return obj

    def apply_filters(self, queryset: Any, filters: dict[str, Any]) -> Any:
        """Narrow a list by the validated query parameters; the default applies none."""
        return queryset

    def filter_queryset(self, queryset: models.QuerySet[_M, _Row]) -> models.QuerySet[_M, _Row]:
        """A list narrowed by its query parameters, validated by ``filter_serializer_class``."""
        queryset = super().filter_queryset(queryset)
        if self.action == "list" and self.filter_serializer_class is not None:
            filters = self.filter_serializer_class(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            # apply_filters only narrows: the rows keep the type they came with.
            queryset = cast(
                models.QuerySet[_M, _Row], self.apply_filters(queryset, filters.validated_data)
            )
        return queryset
