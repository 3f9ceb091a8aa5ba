"""Inventory endpoints: organizations, services and hosts (read-only mirrors of Mackerel)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from accounts.api.viewsets import CustomerScopedViewSet
from orgs.api import serializers
from orgs.models import Host, Organization, Service


class OrganizationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, CustomerScopedViewSet[Organization]
):
    """The token's Mackerel organizations."""

    queryset = Organization.objects.all()
    serializer_class = serializers.OrganizationSerializer
    lookup_field = "code"
    lookup_url_kwarg = "id"
    ordering = ("name", "id")


@extend_schema_view(list=extend_schema(parameters=[serializers.OrganizationFilterSerializer]))
class ServiceViewSet(mixins.ListModelMixin, CustomerScopedViewSet[Service]):
    """Mackerel services of the token's organizations."""

    queryset = Service.objects.filter(is_deleted=False).select_related("organization")
    serializer_class = serializers.ServiceSerializer
    filter_serializer_class = serializers.OrganizationFilterSerializer
    ordering = ("name", "id")

    def apply_filters(self, queryset: QuerySet[Service], filters: dict[str, Any]) -> Any:
        if "organization" in filters:
            queryset = queryset.filter(organization__name=filters["organization"])
        return queryset


@extend_schema_view(list=extend_schema(parameters=[serializers.HostFilterSerializer]))
class HostViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CustomerScopedViewSet[Host]):
    """Hosts, found by their Mackerel host ID."""

    queryset = Host.objects.select_related("organization").prefetch_related("roles__service")
    serializer_class = serializers.HostSerializer
    filter_serializer_class = serializers.HostFilterSerializer
    lookup_field = "mackerel_id"
    lookup_url_kwarg = "id"
    ordering = ("name", "id")

    def apply_filters(self, queryset: QuerySet[Host], filters: dict[str, Any]) -> Any:
        if "organization" in filters:
            queryset = queryset.filter(organization__name=filters["organization"])
        if "status" in filters:
            queryset = queryset.filter(status=filters["status"])
        if "service" in filters:
            queryset = queryset.filter(roles__service__name=filters["service"]).distinct()
        if filters.get("retired") is not None:
            queryset = queryset.filter(is_retired=filters["retired"])
        return queryset
