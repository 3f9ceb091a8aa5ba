"""Who gets told about a customer's cases, with which words, and what was sent."""

from __future__ import annotations

import uuid
from typing import Self

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import TIME_ZONE_CHOICES, Customer, Language
from accounts.tenancy import CustomerQuerySet
from alerts.models import Case, CaseEvent
from orgs.models import Organization, Service


class Contact(models.Model):
    """A person at a customer who receives mail about the customer's cases."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=150)
    email = models.EmailField(_("e-mail address"))
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.JAPANESE
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="Asia/Tokyo"
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Set by a hard bounce reported by the mail provider; staff see it and clear it when fixed.
    bounced_at = models.DateTimeField(_("bounced at"), null=True, blank=True)
    bounce_reason = models.TextField(_("bounce reason"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet["Contact"].as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["customer", "name"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "email"], name="one_contact_per_address")
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Template(models.Model):
    """Words of a mail, in the Django template language, edited by sales in the admin."""

    class Kind(models.TextChoices):
        CASE = "case", _("one case")
        DIGEST = "digest", _("digest of several cases")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.CASE)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.JAPANESE
    )
    is_default = models.BooleanField(
        _("default for its language"),
        default=False,
        help_text=_("Used for contacts of this language when a route names no template."),
    )
    from_email = models.CharField(_("From"), max_length=254)
    reply_to = models.CharField(_("Reply-To"), max_length=254, blank=True)
    to_override = models.CharField(
        _("To (override)"),
        max_length=500,
        blank=True,
        help_text=_("Comma-separated; replaces the contact's address when set."),
    )
    cc = models.CharField(_("Cc"), max_length=500, blank=True)
    subject = models.CharField(_("Subject"), max_length=500)
    body_text = models.TextField(_("text body"))
    body_html = models.TextField(_("HTML body"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("template")
        verbose_name_plural = _("templates")
        ordering = ["kind", "language", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "language"],
                condition=Q(is_default=True),
                name="one_default_template_per_kind_and_language",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Route(models.Model):
    """Which contacts hear about which cases of an organization, and with which template."""

    class Trigger(models.TextChoices):
        OPENED = CaseEvent.Kind.OPENED, _("opened")
        WORSENED = CaseEvent.Kind.WORSENED, _("worsened")
        IMPROVED = CaseEvent.Kind.IMPROVED, _("improved")
        CLOSED = CaseEvent.Kind.CLOSED, _("recovered or closed")
        RENOTIFIED = CaseEvent.Kind.RENOTIFIED, _("re-notified")

    class MinimumSeverity(models.TextChoices):
        WARNING = "warning", _("Warning and above")
        UNKNOWN = "unknown", _("Unknown and above")
        CRITICAL = "critical", _("Critical only")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="routes",
        verbose_name=_("organization"),
    )
    name = models.CharField(_("name"), max_length=100)
    service = models.ForeignKey(
        Service,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("service"),
        help_text=_("Empty: every service of the organization."),
    )
    minimum_severity = models.CharField(
        _("minimum severity"),
        max_length=16,
        choices=MinimumSeverity.choices,
        default=MinimumSeverity.WARNING,
    )
    triggers = models.JSONField(
        _("events"),
        default=list,
        help_text=_("Which changes of a case send mail."),
    )
    contacts = models.ManyToManyField(Contact, related_name="routes", verbose_name=_("contacts"))
    template = models.ForeignKey(
        Template,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        limit_choices_to={"kind": Template.Kind.CASE},
        verbose_name=_("template"),
        help_text=_("Empty: the default template of each contact's language."),
    )
    is_active = models.BooleanField(_("active"), default=True, help_text=_("Untick to pause."))
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet["Route"].as_manager()

    class Meta:
        verbose_name = _("route")
        verbose_name_plural = _("routes")
        ordering = ["organization", "name"]

    def __str__(self) -> str:
        return f"{self.organization.name}: {self.name}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.customer_id = self.organization.customer_id
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class NotificationQuerySet(CustomerQuerySet["Notification"]):
    """The ledger, scoped by customer."""

    def due(self) -> Self:
        now = timezone.now()
        return self.filter(status=Notification.Status.PENDING).filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        )


class Notification(models.Model):
    """One mail to one contact: the outbox row written before sending, and its delivery record."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        COLLECTING = "collecting", _("collecting (digest)")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        DELIVERED = "delivered", _("delivered")
        DEFERRED = "deferred", _("deferred")
        OPENED = "opened", _("opened")
        BOUNCED = "bounced", _("bounced")
        COMPLAINED = "complained", _("complained")
        FAILED = "failed", _("failed")
        IN_DIGEST = "in_digest", _("sent in a digest")
        SUPPRESSED = "suppressed", _("suppressed (flapping)")

    class Kind(models.TextChoices):
        CASE = "case", _("one case")
        DIGEST = "digest", _("digest")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CASE)
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    case_event = models.ForeignKey(
        CaseEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="notifications")
    route = models.ForeignKey(Route, on_delete=models.SET_NULL, null=True, blank=True)
    # A case notification folded into a digest points at it; a digest collects until send_after.
    digest = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="items"
    )
    # The flapping notifications this mail reports as suppressed.
    reported_in = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="suppressed_items"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    # A digest is about problems or about recoveries; empty for a case notification.
    digest_category = models.CharField(max_length=16, blank=True)
    send_after = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # What was sent, as rendered at the time (the record of what the customer was told).
    from_email = models.CharField(max_length=254, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body_text = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        constraints = [
            # Exactly once per case event and contact, however many routes match.
            models.UniqueConstraint(
                fields=["case_event", "contact"], name="one_notification_per_event_and_contact"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="notification_due_idx",
                condition=Q(status="pending"),
            ),
            models.Index(fields=["contact", "organization", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} to {self.contact_id} ({self.status})"


class DeliveryEvent(models.Model):
    """One delivery report from the mail provider (anymail tracking), kept once per event ID."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="delivery_events"
    )
    event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=32)
    recipient = models.CharField(max_length=254, blank=True)
    reason = models.TextField(blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    objects = CustomerQuerySet["DeliveryEvent"].as_manager()

    class Meta:
        verbose_name = _("delivery event")
        verbose_name_plural = _("delivery events")
        ordering = ["occurred_at"]

    def __str__(self) -> str:
        return f"{self.event_type} for notification {self.notification_id}"
