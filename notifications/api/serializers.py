"""Serializers of the cases, contacts and notifications API.

Cases are served from here rather than from ``alerts`` because a case's detail includes the
mails sent about it, and ``alerts`` may not import ``notifications`` (design.md "Layers").
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from alerts.models import Case, CaseEvent
from notifications.models import Contact, Notification


class CaseEventSerializer(serializers.ModelSerializer[CaseEvent]):
    """One entry of a case's timeline."""

    class Meta:
        model = CaseEvent
        fields = (
            "kind",
            "severity",
            "previous_severity",
            "source",
            "trigger",
            "message",
            "metric_value",
            "occurred_at",
            "applied",
        )
        read_only_fields = fields


class ContactRefSerializer(serializers.ModelSerializer[Contact]):
    """Who a notification went to."""

    id = serializers.UUIDField(source="code", read_only=True)

    class Meta:
        model = Contact
        fields = ("id", "name", "email")
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    """One mail of the ledger: what was sent, to whom, and what became of it."""

    case = serializers.CharField(
        source="case.alert_id", read_only=True, allow_null=True, default=None
    )
    contact = ContactRefSerializer(read_only=True)

    class Meta:
        model = Notification
        fields = (
            "id",
            "kind",
            "case",
            "contact",
            "status",
            "subject",
            "recipients",
            "attempts",
            "created_at",
            "sent_at",
            "status_changed_at",
        )
        read_only_fields = fields


class CaseSerializer(serializers.ModelSerializer[Case]):
    """A case, identified by its Mackerel alert ID (the case ID people see in mails)."""

    id = serializers.CharField(source="alert_id", read_only=True)
    organization = serializers.CharField(source="organization.name", read_only=True)
    status = serializers.SerializerMethodField()
    host = serializers.CharField(
        source="host.mackerel_id", read_only=True, allow_null=True, default=None
    )
    host_name = serializers.CharField(
        source="host.name", read_only=True, allow_null=True, default=None
    )
    service = serializers.CharField(
        source="service.name", read_only=True, allow_null=True, default=None
    )
    portal_url = serializers.CharField(read_only=True)
    # Empty for a case known only from sync, so not a "uri" in the schema.
    mackerel_url = serializers.CharField(read_only=True)

    class Meta:
        model = Case
        fields: tuple[str, ...] = (
            "id",
            "organization",
            "status",
            "severity",
            "host",
            "host_name",
            "service",
            "monitor_name",
            "monitor_type",
            "message",
            "metric_label",
            "metric_value",
            "warning_threshold",
            "critical_threshold",
            "opened_at",
            "closed_at",
            "updated_at",
            "mackerel_url",
            "portal_url",
        )
        read_only_fields: tuple[str, ...] = fields

    def get_status(self, case: Case) -> str:
        return "open" if case.is_open else "closed"


class CaseDetailSerializer(CaseSerializer):
    """A case with its timeline and the mails sent about it."""

    timeline = CaseEventSerializer(source="events", many=True, read_only=True)
    notifications = NotificationSerializer(many=True, read_only=True)

    class Meta(CaseSerializer.Meta):
        fields = (*CaseSerializer.Meta.fields, "timeline", "notifications")
        read_only_fields = fields


class CaseFilterSerializer(serializers.Serializer[Any]):
    """Query parameters of the case list."""

    status = serializers.ChoiceField(
        choices=[("open", "open"), ("closed", "closed")], required=False
    )
    open = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Same as status; omit for both."
    )
    severity = serializers.ChoiceField(choices=Case.Severity.choices, required=False)
    organization = serializers.CharField(required=False, help_text="Organization name.")
    service = serializers.CharField(required=False, help_text="Service name.")
    host = serializers.CharField(required=False, help_text="Mackerel host ID.")
    updated_since = serializers.DateTimeField(
        required=False, help_text="Only cases changed at or after this time (ISO 8601)."
    )


class NotificationFilterSerializer(serializers.Serializer[Any]):
    """Query parameters of the notification list."""

    case = serializers.CharField(required=False, help_text="Case ID (Mackerel alert ID).")
    status = serializers.ChoiceField(choices=Notification.Status.choices, required=False)
    contact = serializers.UUIDField(required=False, help_text="Contact ID.")


class ContactSerializer(serializers.ModelSerializer[Contact]):
    """A customer's contact; the customer is the token's, never chosen by the caller."""

    id = serializers.UUIDField(source="code", read_only=True)

    class Meta:
        model = Contact
        fields = (
            "id",
            "name",
            "email",
            "language",
            "time_zone",
            "is_active",
            "bounced_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "bounced_at", "created_at", "updated_at")

    def validate_email(self, value: str) -> str:
        # The unique constraint includes the customer, which the serializer does not see.
        customer_id: int | None = (
            self.instance.customer_id
            if self.instance is not None
            else self.context.get("customer_id")
        )
        if customer_id is None:
            return value  # a staff token: creating is refused, and updates know their customer
        taken = Contact.objects.filter(customer_id=customer_id, email__iexact=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(_("A contact with this address exists already."))
        return value
