"""Serializers of the webhook API: subscriptions (input and output) and the delivery log."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from webhooks import services
from webhooks.models import Attempt, Delivery, Subscription


class SubscriptionSerializer(serializers.ModelSerializer[Subscription]):
    """A subscription as shown; its secret never is, except once when made or rotated."""

    id = serializers.UUIDField(source="code", read_only=True)
    events = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Subscription
        fields: tuple[str, ...] = (
            "id",
            "url",
            "description",
            "events",
            "is_active",
            "disabled_reason",
            "failing_since",
            "created_at",
        )
        read_only_fields: tuple[str, ...] = fields


class SubscriptionInputSerializer(serializers.Serializer[Any]):
    """What a caller may set on a subscription."""

    url = serializers.URLField(max_length=500)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=services.CASE_EVENTS), min_length=1
    )
    is_active = serializers.BooleanField(required=False)

    def validate_url(self, value: str) -> str:
        try:
            services.check_url(value)
        except DjangoValidationError as refused:
            raise serializers.ValidationError(refused.messages) from None
        return value


class SecretSerializer(serializers.Serializer[Any]):
    """A signing secret, shown this once."""

    secret = serializers.CharField(read_only=True)


class NewSubscriptionSerializer(SubscriptionSerializer):
    """A subscription just made, with its signing secret (shown this once)."""

    secret = serializers.SerializerMethodField()

    class Meta(SubscriptionSerializer.Meta):
        fields: tuple[str, ...] = (*SubscriptionSerializer.Meta.fields, "secret")
        read_only_fields = fields

    def get_secret(self, subscription: Subscription) -> str:
        return str(self.context["secret"])


class AttemptSerializer(serializers.ModelSerializer[Attempt]):
    class Meta:
        model = Attempt
        fields = ("at", "status_code", "error", "duration_ms")
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer[Delivery]):
    """One event for one subscription, with every attempt."""

    subscription = serializers.UUIDField(source="subscription.code", read_only=True)
    case = serializers.CharField(
        source="case.alert_id", read_only=True, allow_null=True, default=None
    )
    attempt_log = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = (
            "id",
            "event_id",
            "event_type",
            "subscription",
            "case",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "created_at",
            "delivered_at",
            "attempt_log",
        )
        read_only_fields = fields


class DeliveryFilterSerializer(serializers.Serializer[Any]):
    subscription = serializers.UUIDField(required=False, help_text="Subscription ID.")
    status = serializers.ChoiceField(choices=Delivery.Status.choices, required=False)
    case = serializers.CharField(required=False, help_text="Case ID.")
