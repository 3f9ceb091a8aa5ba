"""Mackerel organizations, each owned by one customer."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Self, TypeVar

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer
from accounts.tenancy import CustomerQuerySet
from orgs import encryption

_Mirror = TypeVar("_Mirror", bound=models.Model)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class OrganizationQuerySet(CustomerQuerySet["Organization"]):
    """Organizations, scoped by customer, found by webhook token."""

    def by_webhook_token(self, token: str, now: datetime | None = None) -> Organization | None:
        """The organization whose current (or recently rotated-out) webhook token is ``token``.

        Tokens are stored as SHA-256 digests; the lookup is by digest, so the database
        comparison reveals nothing about the token, and the final check is constant-time.
        """
        digest = _token_digest(token)
        now = now or timezone.now()
        candidates = self.filter(
            Q(webhook_token_digest=digest)
            | Q(previous_webhook_token_digest=digest, previous_webhook_token_valid_until__gt=now)
        )
        for org in candidates[:2]:
            if org.webhook_token_matches(token, now=now):
                return org
        return None


class Organization(models.Model):
    """One Mackerel organization of a customer, with its API key and webhook token."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="organizations", verbose_name=_("customer")
    )
    name = models.CharField(
        _("name"),
        max_length=100,
        unique=True,
        help_text=_("The Mackerel organization's name, as shown in Mackerel's URLs."),
    )
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    memo = models.TextField(_("memo"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    # The API key is write-only: encrypted here, never rendered back, only its end shown.
    api_key_encrypted = models.TextField(blank=True, editable=False)
    api_key_last4 = models.CharField(max_length=4, blank=True, editable=False)
    api_key_updated_at = models.DateTimeField(null=True, blank=True, editable=False)

    webhook_token_digest = models.CharField(max_length=64, unique=True, editable=False)
    webhook_token_hint = models.CharField(max_length=4, blank=True, editable=False)
    previous_webhook_token_digest = models.CharField(max_length=64, blank=True, editable=False)
    previous_webhook_token_valid_until = models.DateTimeField(null=True, blank=True, editable=False)

    # Optional defences of the webhook URL beyond its token (Mackerel signs nothing): HTTP basic
    # auth, which Mackerel sends when the credentials are written in the URL, and source networks.
    webhook_username = models.CharField(_("webhook user name"), max_length=100, blank=True)
    webhook_password_hash = models.CharField(max_length=256, blank=True, editable=False)
    webhook_allowed_networks = models.TextField(
        _("webhook source networks"),
        blank=True,
        help_text=_("One CIDR per line (e.g. Mackerel's published egress ranges). Empty: any."),
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]
        indexes = [models.Index(fields=["previous_webhook_token_digest"])]

    def __str__(self) -> str:
        return self.display_name or self.name

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.webhook_token_digest:
            # Every organization has a token from birth; the plain value is shown once, on rotation.
            self.set_webhook_token(secrets.token_urlsafe(32))
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def get_absolute_url(self) -> str:
        return reverse("orgs:organization_detail", kwargs={"code": self.code})

    def clean(self) -> None:
        for network in self.webhook_allowed_networks.split():
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValidationError(
                    {"webhook_allowed_networks": _("%(net)s is not a network.") % {"net": network}}
                ) from None

    # --- API key ------------------------------------------------------------------------------
    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key_encrypted)

    @property
    def api_key_masked(self) -> str:
        return f"••••{self.api_key_last4}" if self.has_api_key else ""

    def set_api_key(self, api_key: str) -> None:
        api_key = api_key.strip()
        self.api_key_encrypted = encryption.encrypt(api_key) if api_key else ""
        self.api_key_last4 = api_key[-4:] if api_key else ""
        self.api_key_updated_at = timezone.now()

    def get_api_key(self) -> str:
        """The plain API key, for the Mackerel client only; never log or render it."""
        return encryption.decrypt(self.api_key_encrypted) if self.api_key_encrypted else ""

    # --- Webhook token ------------------------------------------------------------------------
    def set_webhook_token(self, token: str) -> None:
        self.webhook_token_digest = _token_digest(token)
        self.webhook_token_hint = token[-4:]

    def rotate_webhook_token(self, grace: timedelta | None = None) -> str:
        """Give the organization a new token and return it; the old one works for ``grace``."""
        grace = settings.WEBHOOK_TOKEN_GRACE if grace is None else grace
        token = secrets.token_urlsafe(32)
        if grace > timedelta(0):
            self.previous_webhook_token_digest = self.webhook_token_digest
            self.previous_webhook_token_valid_until = timezone.now() + grace
        else:
            self.previous_webhook_token_digest = ""
            self.previous_webhook_token_valid_until = None
        self.set_webhook_token(token)
        self.save()
        return token

    def webhook_token_matches(self, token: str, now: datetime | None = None) -> bool:
        digest = _token_digest(token)
        if hmac.compare_digest(digest, self.webhook_token_digest):
            return True
        now = now or timezone.now()
        return bool(
            self.previous_webhook_token_digest
            and self.previous_webhook_token_valid_until
            and self.previous_webhook_token_valid_until > now
            and hmac.compare_digest(digest, self.previous_webhook_token_digest)
        )

    def set_webhook_password(self, password: str) -> None:
        self.webhook_password_hash = make_password(password) if password else ""

    def webhook_credentials_match(self, username: str, password: str) -> bool:
        if not self.webhook_username:
            return True
        return hmac.compare_digest(username, self.webhook_username) and check_password(
            password, self.webhook_password_hash
        )

    def webhook_source_allowed(self, address: str) -> bool:
        networks = self.webhook_allowed_networks.split()
        if not networks:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(net, strict=False) for net in networks)

    @staticmethod
    def webhook_url(token: str) -> str:
        return f"{settings.PORTAL_BASE_URL}/hooks/mackerel/{token}/"

    @classmethod
    def with_token(cls, **fields: object) -> tuple[Self, str]:
        """A new, saved organization and its plain webhook token (seed data, tests)."""
        token = secrets.token_urlsafe(32)
        org = cls(**fields)
        org.set_webhook_token(token)
        org.save()
        return org, token


class MirrorQuerySet(CustomerQuerySet[_Mirror]):
    """Mirrors of Mackerel objects: scoped by customer, narrowed by organization."""

    def in_organization(self, organization: Organization) -> Self:
        return self.filter(organization=organization)


class Service(models.Model):
    """A Mackerel service of an organization (mirrored)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="services"
    )
    name = models.CharField(_("name"), max_length=100)
    memo = models.TextField(_("memo"), blank=True)
    is_deleted = models.BooleanField(default=False)

    objects = MirrorQuerySet["Service"].as_manager()

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="one_service_per_name")
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """A role within a Mackerel service (mirrored); hosts belong to roles."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="roles")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(_("name"), max_length=100)
    memo = models.TextField(_("memo"), blank=True)

    objects = MirrorQuerySet["Role"].as_manager()

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["service__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="one_role_per_name")
        ]

    def __str__(self) -> str:
        return self.fullname

    @property
    def fullname(self) -> str:
        """Mackerel's role full name, with the space after the colon as webhooks write it."""
        return f"{self.service.name}: {self.name}"


class Host(models.Model):
    """A server, VM or device monitored by Mackerel (mirrored; retired hosts are kept)."""

    class Status(models.TextChoices):
        WORKING = "working", _("working")
        STANDBY = "standby", _("standby")
        MAINTENANCE = "maintenance", _("maintenance")
        POWEROFF = "poweroff", _("power off")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="hosts")
    mackerel_id = models.CharField(_("host ID"), max_length=32)
    name = models.CharField(_("host name"), max_length=255)
    display_name = models.CharField(_("display name"), max_length=255, blank=True)
    custom_identifier = models.CharField(_("custom identifier"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.WORKING
    )
    memo = models.TextField(_("memo"), blank=True)
    roles = models.ManyToManyField(Role, related_name="hosts", blank=True)
    # Space-separated addresses of every interface, for search; `interfaces` keeps the detail.
    ip_addresses = models.TextField(_("IP addresses"), blank=True)
    interfaces = models.JSONField(default=list, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    is_retired = models.BooleanField(_("retired"), default=False)
    retired_at = models.DateTimeField(null=True, blank=True)
    mackerel_created_at = models.DateTimeField(null=True, blank=True)
    # True while the host is known only from a webhook and sync has not filled it in yet.
    is_placeholder = models.BooleanField(default=False)
    synced_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MirrorQuerySet["Host"].as_manager()

    class Meta:
        verbose_name = _("host")
        verbose_name_plural = _("hosts")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "mackerel_id"], name="one_host_per_id")
        ]
        indexes = [models.Index(fields=["customer", "is_retired", "status"])]

    def __str__(self) -> str:
        return self.display_name or self.name

    @property
    def mackerel_url(self) -> str:
        return f"https://mackerel.io/orgs/{self.organization.name}/hosts/{self.mackerel_id}"


class Monitor(models.Model):
    """A Mackerel monitor (mirrored with its full definition); deleted ones are kept, marked."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="monitors"
    )
    mackerel_id = models.CharField(_("monitor ID"), max_length=32)
    type = models.CharField(_("type"), max_length=32)
    name = models.CharField(_("name"), max_length=255)
    memo = models.TextField(_("memo"), blank=True)
    is_mute = models.BooleanField(_("muted"), default=False)
    definition = models.JSONField(default=dict, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MirrorQuerySet["Monitor"].as_manager()

    class Meta:
        verbose_name = _("monitor")
        verbose_name_plural = _("monitors")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "mackerel_id"], name="one_monitor_per_id"
            )
        ]

    def __str__(self) -> str:
        return self.name
