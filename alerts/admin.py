"""Staff views of webhook receipts and cases: read-only, with "process again" for receipts."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from alerts import services
from alerts.models import Case, CaseEvent, WebhookReceipt


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Records of what happened: nobody edits them in the admin."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]


@admin.register(WebhookReceipt)
class WebhookReceiptAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "organization", "event", "status", "attempts", "reason_short")
    list_filter = ("status", "event", "organization__customer", "organization")
    list_select_related = ("organization",)
    search_fields = ("body", "reason", "organization__name")
    date_hierarchy = "received_at"
    actions = ("process_again",)

    @admin.display(description=_("reason"))
    def reason_short(self, receipt: WebhookReceipt) -> str:
        return receipt.reason if len(receipt.reason) <= 80 else receipt.reason[:79] + "…"

    @admin.action(description=_("Process again"), permissions=["reprocess"])
    def process_again(self, request: HttpRequest, queryset: QuerySet[WebhookReceipt]) -> None:
        count = services.reprocess(list(queryset.values_list("pk", flat=True)))
        messages.success(
            request,
            ngettext("%(n)d receipt will be processed again.",
                     "%(n)d receipts will be processed again.", count) % {"n": count},
        )  # fmt: skip

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        # Support read everything and change nothing; processing again changes cases.
        return bool(request.user.has_perm("alerts.change_webhookreceipt"))


class CaseEventInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ("occurred_at", "kind", "severity", "previous_severity", "source", "trigger",
              "applied", "message", "planned_at")  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("alert_id", "organization", "host", "monitor_name", "severity", "is_open",
                    "opened_at", "closed_at", "source")  # fmt: skip
    list_filter = ("is_open", "severity", "source", "organization__customer", "organization")
    list_select_related = ("organization", "host")
    search_fields = ("alert_id", "host__name", "monitor_name", "message")
    date_hierarchy = "opened_at"
    inlines = (CaseEventInline,)
