from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditHistoryMixin
from orgs import admin_actions
from orgs.forms import OrganizationAdminForm
from orgs.models import SYNC_FAILING_AFTER, Organization, SyncRun

# The shape django-stubs gives ModelAdmin.get_fields.
AdminFields = list[str | list[str] | tuple[str, ...] | tuple[()]]


SYNC_FIELDS = [
    "last_sync_at",
    "last_sync_success_at",
    "sync_error",
    "consecutive_sync_failures",
    "sync_failing",
    "sync_runs_link",
]


class SyncFailingFilter(admin.SimpleListFilter):
    """Organizations whose sync has failed several times in a row."""

    title = _("sync failing")
    parameter_name = "sync_failing"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(consecutive_sync_failures__gte=SYNC_FAILING_AFTER)
        if self.value() == "no":
            return queryset.filter(consecutive_sync_failures__lt=SYNC_FAILING_AFTER)
        return queryset


# notifications/admin.py registers a subclass with the organization's routes inline: orgs sits
# below notifications and may not import it (design.md, "Layers").
# The API key and the webhook URL's own defences beyond its token: superusers only.
SUPERUSER_FIELDS = (
    "new_api_key", "clear_api_key", "webhook_username", "new_webhook_password",
    "clear_webhook_password", "webhook_allowed_networks",
)  # fmt: skip


@admin.register(Organization)
class OrganizationAdmin(AuditHistoryMixin, admin.ModelAdmin[Organization]):
    form = OrganizationAdminForm
    list_display = (
        "name", "display_name", "customer", "is_active", "api_key_hint",
        "last_sync_at", "last_sync_success_at", "sync_failing", "sync_error_short",
    )  # fmt: skip
    list_filter = ("is_active", SyncFailingFilter, "customer")
    search_fields = ("name", "display_name", "memo", "customer__name")
    readonly_fields = (
        "api_key_hint", "api_key_updated_at", "last_test_webhook", "created_at", "updated_at",
        *SYNC_FIELDS,
    )  # fmt: skip
    autocomplete_fields = ("customer",)
    actions = ("check_api_key", "rotate_webhook_token")

    @admin.action(description=_("Check the Mackerel API key"), permissions=["view"])
    def check_api_key(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        admin_actions.check_keys(request, queryset)

    @admin.action(description=_("Rotate the webhook token (shows the new URL once)"),
                  permissions=["manage_secrets"])  # fmt: skip
    def rotate_webhook_token(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        admin_actions.rotate_tokens(request, queryset)

    def has_manage_secrets_permission(self, request: HttpRequest) -> bool:
        # Keys and tokens are for superusers only (docs/authorization.md).
        return bool(request.user.is_superuser)

    @admin.display(description=_("API key"))
    def api_key_hint(self, org: Organization) -> str:
        return org.api_key_masked or "—"

    @admin.display(description=_("last test webhook"))
    def last_test_webhook(self, org: Organization) -> str:
        """When Mackerel's "test" button last reached this organization's webhook URL."""
        if org.pk is None:
            return "—"
        sample = org.webhook_receipts.filter(event="sample").order_by("-received_at").first()
        return localtime(sample.received_at).strftime("%Y-%m-%d %H:%M:%S %Z") if sample else "—"

    @admin.display(
        description=_("sync failing"), boolean=True, ordering="consecutive_sync_failures"
    )
    def sync_failing(self, org: Organization) -> bool:
        return org.sync_failing

    @admin.display(description=_("sync error"))
    def sync_error_short(self, org: Organization) -> str:
        return org.sync_error if len(org.sync_error) <= 80 else org.sync_error[:79] + "…"

    @admin.display(description=_("sync runs"))
    def sync_runs_link(self, org: Organization) -> str:
        if org.pk is None:
            return "—"
        url = reverse("admin:orgs_syncrun_changelist") + f"?organization__id__exact={org.pk}"
        return format_html('<a href="{}">{}</a>', url, _("every sync of this organization"))

    def get_form(
        self, request: HttpRequest, obj: Organization | None = None, change: bool = False,
        **kwargs: Any,
    ) -> Any:  # fmt: skip
        form = super().get_form(request, obj, change, **kwargs)
        if not request.user.is_superuser:
            # Not rendering a declared field does not stop a crafted POST from filling it: the
            # secret fields leave the form itself (a new class per request) for everyone else.
            for name in SUPERUSER_FIELDS:
                form.base_fields.pop(name, None)
        return form

    def get_fields(self, request: HttpRequest, obj: Organization | None = None) -> AdminFields:
        fields: AdminFields = ["customer", "name", "display_name", "memo", "is_active"]
        # Only superusers manage secrets; sales see that a key is set, not how to change it.
        if request.user.is_superuser:
            fields += list(SUPERUSER_FIELDS)
        fields += ["api_key_hint", "api_key_updated_at", "last_test_webhook"]
        fields += ["created_at", "updated_at"]
        return [*fields, *SYNC_FIELDS] if obj is not None else fields


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin[SyncRun]):
    """Every sync run, read-only: the record of what sync saw and why it failed."""

    list_display = (
        "started_at", "organization", "outcome", "error_kind", "host_count", "took",
        "error_message_short",
    )  # fmt: skip
    list_filter = ("outcome", "error_kind", "started_at", "organization")
    list_select_related = ("organization",)
    search_fields = ("organization__name", "error_message")
    date_hierarchy = "started_at"
    fields = (
        "organization", "started_at", "finished_at", "outcome", "error_kind", "error_message",
        "host_count", "counts",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("took"))
    def took(self, run: SyncRun) -> str:
        duration = run.duration
        return "—" if duration is None else f"{duration.total_seconds():.1f} s"

    @admin.display(description=_("error message"))
    def error_message_short(self, run: SyncRun) -> str:
        text = run.error_message
        return text if len(text) <= 80 else text[:79] + "…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SyncRun | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: SyncRun | None = None) -> bool:
        return False
