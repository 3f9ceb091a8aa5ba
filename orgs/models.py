"""Mackerel organizations, each owned by one customer."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer
from accounts.tenancy import CustomerQuerySet
from orgs import encryption


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
