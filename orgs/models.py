"""Mackerel organizations, each owned by one customer."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
import uuid
from datetime import datetime, timedelta
from typing import Self, TypedDict, TypeVar

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer
from accounts.tenancy import CustomerQuerySet
from orgs import encryption

_Mirror = TypeVar("_Mirror", bound=models.Model)

# Consecutive failed (or partial) syncs after which staff see an organization flagged.
SYNC_FAILING_AFTER = 3
# Written only by sync, with conditional updates; a form saving the row must not put back the
# values it read (a lock released meanwhile, an error since cleared).
SYNC_STATE_FIELDS = frozenset(
    {
        "last_sync_at",
        "last_sync_success_at",
        "sync_error",
        "consecutive_sync_failures",
        "alerts_reconciled_at",
        "sync_lock_token",
        "sync_started_at",
        "sync_lock_expires_at",
    }
)


def trigram_index(field: str, name: str) -> GinIndex:
    """A pg_trgm index for ``icontains`` and ``istartswith`` on ``field``: Django compares
    ``UPPER(field)``, so that is what is indexed."""
    return GinIndex(OpClass(Upper(field), name="gin_trgm_ops"), name=name)


def upper_index(field: str, name: str) -> models.Index:
    """A btree on ``UPPER(field)`` for ``iexact`` and ``istartswith`` (pattern operators: the
    databases' collation is not C): the rows of an exact or prefix match without the trigram
    index's recheck of every row sharing its trigrams."""
    return models.Index(OpClass(Upper(field), name="text_pattern_ops"), name=name)


def ip_address_list(field: str = "ip_addresses") -> models.Func:
    """A host's space-separated addresses as an array, for an exact match by a GIN index."""
    return models.Func(
        models.F(field),
        models.Value(" "),
        function="string_to_array",
        output_field=ArrayField(models.TextField()),
    )


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

    def by_webhook_token_cached(self, token: str) -> Organization | None:
        """``by_webhook_token``, remembered by this process for TAIRYO_WEBHOOK_TOKEN_CACHE_SECONDS.

        The lookup was a third of the intake's cost. A token revoked or an organization
        deactivated elsewhere keeps working for at most the cache's lifetime in other processes;
        this process forgets at once whenever it saves an organization. Misses are not cached.
        """
        ttl = settings.TAIRYO_WEBHOOK_TOKEN_CACHE_SECONDS
        digest = _token_digest(token)
        now = time.time()
        hit = _TOKEN_CACHE.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        org = self.by_webhook_token(token)
        if org is not None and ttl > 0:
            if len(_TOKEN_CACHE) >= _TOKEN_CACHE_SIZE:
                _TOKEN_CACHE.clear()
            _TOKEN_CACHE[digest] = (now + ttl, org)
        return org


# Webhook token digest → (expiry, organization), per process; see by_webhook_token_cached.
_TOKEN_CACHE: dict[str, tuple[float, Organization]] = {}
_TOKEN_CACHE_SIZE = 1000


def forget_webhook_tokens() -> None:
    _TOKEN_CACHE.clear()


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

    # Sync health, for staff: when sync last ran and last succeeded, what is wrong now.
    last_sync_at = models.DateTimeField(_("last sync"), null=True, blank=True, editable=False)
    last_sync_success_at = models.DateTimeField(
        _("last successful sync"), null=True, blank=True, editable=False
    )
    sync_error = models.TextField(_("sync error"), blank=True, editable=False)
    consecutive_sync_failures = models.PositiveIntegerField(
        _("failed syncs in a row"), default=0, editable=False
    )
    # Alerts opened before this moment (less a margin) have been reconciled: the next
    # reconciliation pages back through closed alerts only this far.
    alerts_reconciled_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The sync lock: a lease that a dead worker cannot hold for ever. Taken with a conditional
    # UPDATE (free or expired), released only by the holder of the token.
    sync_lock_token = models.CharField(max_length=32, blank=True, editable=False)
    sync_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    sync_lock_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["previous_webhook_token_digest"]),
            # Support search (support/search.py).
            trigram_index("name", "org_name_trgm"),
            trigram_index("display_name", "org_display_name_trgm"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.name

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.webhook_token_digest:
            # Every organization has a token from birth; the plain value is shown once, on rotation.
            self.set_webhook_token(secrets.token_urlsafe(32))
        if not self._state.adding and not args and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in SYNC_STATE_FIELDS
            ]
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        forget_webhook_tokens()

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

    @property
    def sync_failing(self) -> bool:
        """Sync has failed often enough in a row that staff should look."""
        return self.consecutive_sync_failures >= SYNC_FAILING_AFTER

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
    # When sync last wrote the host from Mackerel's list (created or changed); unchanged hosts are
    # not rewritten, so the organization's last successful sync says how fresh they are.
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
        indexes = [
            models.Index(fields=["customer", "is_retired", "status"]),
            # Support search (support/search.py): a host ID of any organization, the text fields
            # by substring, an address exactly (array) or by prefix (regular expression).
            models.Index(fields=["mackerel_id"], name="host_mackerel_id_idx"),
            trigram_index("name", "host_name_trgm"),
            trigram_index("display_name", "host_display_name_trgm"),
            trigram_index("custom_identifier", "host_custom_identifier_trgm"),
            trigram_index("memo", "host_memo_trgm"),
            upper_index("name", "host_name_upper_idx"),
            upper_index("display_name", "host_display_upper_idx"),
            upper_index("custom_identifier", "host_custom_id_upper_idx"),
            GinIndex(OpClass("ip_addresses", name="gin_trgm_ops"), name="host_ip_trgm"),
            GinIndex(ip_address_list(), name="host_ip_list_idx"),
        ]

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


class SyncCounts(TypedDict, total=False):
    """What one sync saw and changed; stored as ``SyncRun.counts``."""

    hosts_seen: int
    hosts_created: int
    hosts_updated: int
    hosts_retired: int
    services: int
    roles: int
    monitors: int
    monitors_deleted: int
    alerts_open: int
    alerts_opened: int
    alerts_changed: int
    alerts_closed: int
    alerts_silenced: int


class SyncRun(models.Model):
    """One sync of an organization from Mackerel's API: when, how it ended, what it changed."""

    class Outcome(models.TextChoices):
        RUNNING = "running", _("running")
        SUCCESS = "success", _("success")
        PARTIAL = "partial", _("partial")
        FAILED = "failed", _("failed")

    class ErrorKind(models.TextChoices):
        NONE = "", _("none")
        AUTHENTICATION = "authentication", _("authentication failed")
        PERMISSION = "permission", _("permission denied")
        WRONG_ORGANIZATION = "wrong_organization", _("key of another organization")
        RATE_LIMITED = "rate_limited", _("rate limited")
        UNREACHABLE = "unreachable", _("unreachable")
        SERVER_ERROR = "server_error", _("server error")
        UNEXPECTED = "unexpected", _("unexpected answer")
        TIMEOUT = "timeout", _("timed out")
        INTERRUPTED = "interrupted", _("interrupted")
        INTERNAL = "internal", _("internal error")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="sync_runs"
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.RUNNING
    )
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    error_kind = models.CharField(
        _("error"), max_length=32, choices=ErrorKind.choices, default="", blank=True
    )
    error_message = models.TextField(_("error message"), blank=True)
    # Registered (non-retired) hosts Mackerel listed, of every status: the history behind the
    # host-count trend. Null when the run did not get as far as the host list.
    host_count = models.PositiveIntegerField(_("hosts"), null=True, blank=True)

    # Not stored: the wait Mackerel asked for with a 429, for the task that reschedules the run.
    retry_after: float | None = None

    objects = CustomerQuerySet["SyncRun"].as_manager()

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["organization", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.started_at:%Y-%m-%d %H:%M:%S} {self.outcome}"

    @property
    def duration(self) -> timedelta | None:
        return None if self.finished_at is None else self.finished_at - self.started_at
