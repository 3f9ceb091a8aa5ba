"""Webhook endpoints: customers subscribe their ticketing system and read the delivery log."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.viewsets import CustomerScopedViewSet
from webhooks import planning, sending, services
from webhooks.api import serializers as api
from webhooks.models import Delivery, Subscription


def _send_after_commit(delivery_id: int) -> None:
    from webhooks import tasks

    transaction.on_commit(lambda: tasks.send_webhook.delay(delivery_id))


class SubscriptionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    CustomerScopedViewSet[Subscription],
):
    """The customer's webhook subscriptions."""

    queryset = Subscription.objects.all()
    serializer_class = api.SubscriptionSerializer
    lookup_field = "code"
    lookup_url_kwarg = "id"
    ordering = ("created_at", "id")

    @extend_schema(
        request=api.SubscriptionInputSerializer, responses={201: api.NewSubscriptionSerializer}
    )
    def create(self, request: Request) -> Response:
        if self.token.customer is None:
            raise exceptions.PermissionDenied("A token of every customer cannot subscribe.")
        given = api.SubscriptionInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        subscription, secret = services.create(
            self.token.customer, data["url"], data["events"], data.get("description", "")
        )
        shown = api.NewSubscriptionSerializer(subscription, context={"secret": secret})
        return Response(shown.data, status=status.HTTP_201_CREATED)

    @extend_schema(request=api.SubscriptionInputSerializer, responses=api.SubscriptionSerializer)
    def partial_update(self, request: Request, id: str) -> Response:  # noqa: A002 -- URL kwarg
        subscription = self.get_object()
        given = api.SubscriptionInputSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        services.update(subscription, dict(given.validated_data))
        return Response(api.SubscriptionSerializer(subscription).data)

    @extend_schema(request=None, responses=api.SecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, id: str) -> Response:  # noqa: A002
        """A new signing secret; the old one also signs for 24 hours."""
        secret = services.rotate_secret(self.get_object())
        return Response(api.SecretSerializer({"secret": secret}).data)

    @extend_schema(request=None, responses={202: api.DeliverySerializer})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, id: str) -> Response:  # noqa: A002
        """Send a ``test`` event now."""
        delivery = planning.make_test_delivery(self.get_object())
        _send_after_commit(delivery.pk)
        return Response(api.DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(list=extend_schema(parameters=[api.DeliveryFilterSerializer]))
class DeliveryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, CustomerScopedViewSet[Delivery]
):
    """The delivery log, newest first; a delivery can be replayed with its event ID."""

    queryset = Delivery.objects.select_related("subscription", "case").prefetch_related(
        "attempt_log"
    )
    serializer_class = api.DeliverySerializer
    filter_serializer_class = api.DeliveryFilterSerializer
    lookup_field = "pk"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9]+"
    ordering = ("-created_at", "-id")

    def apply_filters(self, queryset: QuerySet[Delivery], filters: dict[str, Any]) -> Any:
        if "subscription" in filters:
            queryset = queryset.filter(subscription__code=filters["subscription"])
        if "status" in filters:
            queryset = queryset.filter(status=filters["status"])
        if "case" in filters:
            queryset = queryset.filter(case__alert_id=filters["case"])
        return queryset

    @extend_schema(request=None, responses={202: api.DeliverySerializer})
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, id: str) -> Response:  # noqa: A002
        """Send the delivery again, with the same event ID."""
        delivery = self.get_object()
        sending.replay(delivery)
        _send_after_commit(delivery.pk)
        delivery.refresh_from_db()
        return Response(api.DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
