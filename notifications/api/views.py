"""Endpoints for ticketing systems: cases with their timeline, contacts, the mail ledger."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, ProtectedError, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers

from accounts.api.viewsets import CustomerScopedViewSet
from alerts.models import Case, CaseEvent
from notifications.api import serializers as api
from notifications.models import Contact, Notification


class Conflict(exceptions.APIException):
    """The request is valid but clashes with what the object is tied to."""

    status_code = 409
    default_code = "conflict"
    default_detail = _("The object cannot be changed this way.")


@extend_schema_view(list=extend_schema(parameters=[api.CaseFilterSerializer]))
class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CustomerScopedViewSet[Case]):
    """Cases, newest first, found by case ID (the Mackerel alert ID)."""

    queryset = Case.objects.select_related("organization", "host", "service")
    serializer_class = api.CaseSerializer
    filter_serializer_class = api.CaseFilterSerializer
    lookup_field = "alert_id"
    lookup_url_kwarg = "id"
    ordering = ("-opened_at", "-id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Case]]:
        return api.CaseDetailSerializer if self.action == "retrieve" else api.CaseSerializer

    def get_queryset(self) -> QuerySet[Case]:
        queryset: QuerySet[Case] = super().get_queryset()
        if self.action == "retrieve":
            # The timeline and the ledger in two queries, whatever their length.
            events = CaseEvent.objects.order_by("occurred_at", "id")
            mails = Notification.objects.select_related("case", "contact").order_by(
                "created_at", "id"
            )
            queryset = queryset.prefetch_related(  # type: ignore[type-var]  # stubs' Prefetch
                Prefetch("events", events), Prefetch("notifications", mails)
            )
        return queryset

    def apply_filters(self, queryset: QuerySet[Case], filters: dict[str, Any]) -> Any:
        if "status" in filters:
            queryset = queryset.filter(is_open=filters["status"] == "open")
        if filters.get("open") is not None:
            queryset = queryset.filter(is_open=filters["open"])
        if "severity" in filters:
            queryset = queryset.filter(severity=filters["severity"])
        if "organization" in filters:
            queryset = queryset.filter(organization__name=filters["organization"])
        if "service" in filters:
            queryset = queryset.filter(service__name=filters["service"])
        if "host" in filters:
            queryset = queryset.filter(host__mackerel_id=filters["host"])
        if "updated_since" in filters:
            queryset = queryset.filter(updated_at__gte=filters["updated_since"])
        return queryset


@extend_schema_view(list=extend_schema(parameters=[api.NotificationFilterSerializer]))
class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, CustomerScopedViewSet[Notification]
):
    """The mail ledger, newest first (read-only)."""

    queryset = Notification.objects.select_related("case", "contact")
    serializer_class = api.NotificationSerializer
    filter_serializer_class = api.NotificationFilterSerializer
    lookup_field = "pk"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9]+"
    ordering = ("-created_at", "-id")

    def apply_filters(self, queryset: QuerySet[Notification], filters: dict[str, Any]) -> Any:
        if "case" in filters:
            queryset = queryset.filter(case__alert_id=filters["case"])
        if "status" in filters:
            queryset = queryset.filter(status=filters["status"])
        if "contact" in filters:
            queryset = queryset.filter(contact__code=filters["contact"])
        return queryset


class ContactViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    CustomerScopedViewSet[Contact],
):
    """The customer's contacts: read with any token, changed with a read-write one."""

    queryset = Contact.objects.all()
    serializer_class = api.ContactSerializer
    lookup_field = "code"
    lookup_url_kwarg = "id"
    ordering = ("name", "id")

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not getattr(self, "swagger_fake_view", False):
            context["customer_id"] = self.token.customer_id
        return context

    def perform_create(self, serializer: serializers.BaseSerializer[Contact]) -> None:
        if self.token.customer_id is None:
            # A staff token spans customers: which one the contact is for is the admin's call.
            raise exceptions.PermissionDenied(
                _("A token of every customer cannot add contacts; use the admin.")
            )
        serializer.save(customer_id=self.token.customer_id)

    def perform_destroy(self, instance: Contact) -> None:
        try:
            instance.delete()
        except ProtectedError:
            # Kept for the mail ledger, which says who was told what.
            raise Conflict(
                _("This contact has been sent mail and is kept for the record; deactivate it.")
            ) from None
