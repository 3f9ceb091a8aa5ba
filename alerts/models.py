"""Webhook receipts, cases (one per Mackerel alert) and their timeline."""

from __future__ import annotations

import uuid
from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer
from accounts.tenancy import CustomerQuerySet
from orgs.models import Host, Monitor, Organization, Service


class WebhookReceipt(models.Model):
    """One webhook exactly as Mackerel sent it; the intake's outbox, processed by a worker."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        PROCESSED = "processed", _("processed")
        IGNORED = "ignored", _("ignored")
        REJECTED = "rejected", _("rejected")
        FAILED = "failed", _("failed")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_receipts"
    )
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    event = models.CharField(_("event"), max_length=32, blank=True)
    body = models.TextField()
    headers = models.JSONField(default=dict)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    reason = models.TextField(_("reason"), blank=True)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    objects = CustomerQuerySet["WebhookReceipt"].as_manager()

    class Meta:
        verbose_name = _("webhook receipt")
        verbose_name_plural = _("webhook receipts")
        ordering = ["-received_at"]
        indexes = [
            # The sweep looks only at receipts still waiting.
            models.Index(
                fields=["received_at"],
                name="receipt_pending_idx",
                condition=Q(status="pending"),
            ),
            models.Index(fields=["organization", "event", "-received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event or '?'} #{self.pk} ({self.status})"


class AlertGroup(models.Model):
    """A Mackerel alert group (alerts grouped by an alert group setting)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="alert_groups"
    )
    mackerel_id = models.CharField(max_length=32)
    url = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=16)
    setting_name = models.CharField(max_length=255, blank=True)
    setting_memo = models.TextField(blank=True)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = CustomerQuerySet["AlertGroup"].as_manager()

    class Meta:
        verbose_name = _("alert group")
        verbose_name_plural = _("alert groups")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "mackerel_id"], name="one_alert_group_per_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.setting_name or self.mackerel_id} ({self.status})"


class CaseQuerySet(CustomerQuerySet["Case"]):
    """Cases, scoped by customer."""

    def open(self) -> Self:
        return self.filter(is_open=True)


class Case(models.Model):
    """One Mackerel alert as Tairyo follows it; its public identity is the Mackerel alert ID."""

    class Severity(models.TextChoices):
        OK = "ok", _("OK")
        WARNING = "warning", _("Warning")
        CRITICAL = "critical", _("Critical")
        UNKNOWN = "unknown", _("Unknown")

    class Source(models.TextChoices):
        WEBHOOK = "webhook", _("webhook")
        SYNC = "sync", _("sync")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="cases")
    alert_id = models.CharField(_("case ID"), max_length=32, db_index=True)
    host = models.ForeignKey(
        Host, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    service = models.ForeignKey(
        Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    monitor = models.ForeignKey(
        Monitor, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    alert_group = models.ForeignKey(
        AlertGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    monitor_name = models.CharField(_("monitor"), max_length=255, blank=True)
    monitor_type = models.CharField(_("monitor type"), max_length=32, blank=True)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices)
    is_open = models.BooleanField(_("open"), default=True)
    message = models.TextField(_("message"), blank=True)
    metric_label = models.CharField(max_length=500, blank=True)
    metric_value = models.FloatField(null=True, blank=True)
    warning_threshold = models.FloatField(null=True, blank=True)
    critical_threshold = models.FloatField(null=True, blank=True)
    monitor_operator = models.CharField(max_length=4, blank=True)
    opened_at = models.DateTimeField(_("opened at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_trigger = models.CharField(max_length=64, blank=True)
    # When Mackerel last changed the alert's status, as far as Tairyo has applied it; an older
    # change arriving later is recorded in the timeline but does not regress the case.
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # When the last webhook about this alert arrived, to tell a re-notification from a replay.
    last_webhook_at = models.DateTimeField(null=True, blank=True)
    mackerel_url = models.URLField(max_length=500, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.WEBHOOK)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "alert_id"], name="one_case_per_alert")
        ]
        indexes = [
            models.Index(fields=["customer", "is_open", "-opened_at"]),
            models.Index(fields=["organization", "-opened_at"]),
            # The case list's order: the newest page of a million cases is read from here, for
            # staff directly and for a customer until enough of theirs are found.
            models.Index(fields=["-opened_at", "-id"], name="case_newest_idx"),
        ]

    def __str__(self) -> str:
        return self.alert_id

    def get_absolute_url(self) -> str:
        # The page lives in `pages` (it shows the case's mails too); the URL is the one in mails.
        return reverse("pages:case_detail", kwargs={"alert_id": self.alert_id})

    @property
    def portal_url(self) -> str:
        return f"{settings.PORTAL_BASE_URL}{self.get_absolute_url()}"


class CaseEvent(models.Model):
    """One entry of a case's timeline; unplanned entries are the notification planner's outbox."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("opened")
        WORSENED = "worsened", _("worsened")
        IMPROVED = "improved", _("improved")
        RENOTIFIED = "renotified", _("re-notified")
        CLOSED = "closed", _("closed")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices)
    severity = models.CharField(_("severity"), max_length=16, choices=Case.Severity.choices)
    previous_severity = models.CharField(max_length=16, blank=True)
    source = models.CharField(max_length=16, choices=Case.Source.choices)
    trigger = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    metric_value = models.FloatField(null=True, blank=True)
    user = models.CharField(max_length=255, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    # False for an older change that arrived after a newer one: kept for the record, not acted on.
    applied = models.BooleanField(default=True)
    receipt = models.ForeignKey(
        WebhookReceipt, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    planned_at = models.DateTimeField(null=True, blank=True)

    objects = CustomerQuerySet["CaseEvent"].as_manager()

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["occurred_at", "id"]
        constraints = [
            # The same change delivered twice (a replayed webhook, or webhook and sync together)
            # is one entry.
            models.UniqueConstraint(
                fields=["case", "kind", "severity", "occurred_at"], name="one_entry_per_change"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"], name="event_unplanned_idx", condition=Q(planned_at=None)
            ),
            # The webhook planner reads the timeline from a mark, in this order.
            models.Index(fields=["created_at", "id"], name="event_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.severity} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"
