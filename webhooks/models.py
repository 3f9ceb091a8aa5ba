"""Outbound webhook subscriptions and the log of every delivery (docs/api.md, "Webhooks")."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer
from accounts.tenancy import CustomerQuerySet
from alerts.models import Case, CaseEvent


class EventType(models.TextChoices):
    OPENED = "case.opened", "case.opened"
    UPDATED = "case.updated", "case.updated"
    CLOSED = "case.closed", "case.closed"
    TEST = "test", "test"


# Which timeline entries become which event.
EVENT_FOR_KIND = {
    CaseEvent.Kind.OPENED: EventType.OPENED,
    CaseEvent.Kind.WORSENED: EventType.UPDATED,
    CaseEvent.Kind.IMPROVED: EventType.UPDATED,
    CaseEvent.Kind.RENOTIFIED: EventType.UPDATED,
    CaseEvent.Kind.CLOSED: EventType.CLOSED,
}


class Subscription(models.Model):
    """A customer's URL that receives signed case events."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    # Encrypted at rest (orgs.encryption); the previous secret still signs until it expires, so
    # a receiver can switch secrets without losing a delivery.
    secret_encrypted = models.TextField(editable=False)
    previous_secret_encrypted = models.TextField(blank=True, editable=False)
    previous_secret_valid_until = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.TextField(_("why disabled"), blank=True)
    # The first failure of the current run of failures; cleared by any success.
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CustomerQuerySet["Subscription"].as_manager()

    # Re-encrypted by `manage.py rotate_encryption_keys` with the Mackerel API keys.
    ENCRYPTED_FIELDS = ("secret_encrypted", "previous_secret_encrypted")

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["customer", "url"]

    def __str__(self) -> str:
        return self.url


class Delivery(models.Model):
    """One event for one subscription: the outbox row, retried until it succeeds or fails."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The Standard Webhooks `webhook-id`: the same on every retry and replay, for de-duplication.
    event_id = models.CharField(max_length=64, db_index=True)
    event_type = models.CharField(max_length=32, choices=EventType.choices)
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    case_event = models.ForeignKey(
        CaseEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = CustomerQuerySet["Delivery"].as_manager()

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one delivery per timeline entry and subscription, however often planned.
            models.UniqueConstraint(
                fields=["subscription", "case_event"], name="one_delivery_per_event"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="delivery_due_idx", condition=Q(status="pending")
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.subscription_id} ({self.status})"


class Attempt(models.Model):
    """One HTTP attempt of a delivery: the delivery log people read."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_body = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    objects = CustomerQuerySet["Attempt"].as_manager()

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return (
            f"{self.delivery_id} at {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
        )


class PlannerMark(models.Model):
    """How far the webhook planner has read the timeline (one row)."""

    planned_until = models.DateTimeField()

    class Meta:
        verbose_name = _("webhook planner mark")

    def __str__(self) -> str:
        return f"planned until {self.planned_until:%Y-%m-%d %H:%M:%S}"
