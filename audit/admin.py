"""The audit log in the admin: browsed whole, or per object from its page; never edited.

The whole log is a read-only list filtered by model, actor and date. Every audited model's admin
takes ``AuditHistoryMixin``, whose "History" button opens that object's entries with each
change's before and after (secrets masked when they were written, see ``records``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from auditlog.mixins import AuditlogHistoryAdminMixin, LogEntryAdminMixin
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit import records


class ModelFilter(admin.SimpleListFilter):
    """Entries about one audited model."""

    title = _("model")
    parameter_name = "model"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        types = ContentType.objects.get_for_models(*auditlog.get_models())
        return sorted(
            ((str(ct.pk), capfirst(model._meta.verbose_name)) for model, ct in types.items()),
            key=lambda choice: str(choice[1]),
        )

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(content_type_id=value) if value and value.isdigit() else queryset


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AuditLogAdmin(LogEntryAdminMixin, admin.ModelAdmin):  # type: ignore[misc,type-arg]
    """Every audited change, newest first; nobody adds, edits or deletes an entry here."""

    date_hierarchy = "timestamp"
    list_select_related = ("content_type", "actor")
    list_display = ("created", "resource_url", "action", "msg_short", "who")
    list_filter = (
        ModelFilter,
        "action",
        ("actor", admin.RelatedOnlyFieldListFilter),
        ("timestamp", admin.DateFieldListFilter),
    )
    search_fields = ("object_repr", "actor_email", "=object_pk")
    readonly_fields = ("created", "who", "resource_url", "remote_addr", "action", "msg")
    fieldsets = (
        (None, {"fields": ("created", "who", "remote_addr", "resource_url")}),
        (_("Changes"), {"fields": ("action", "msg")}),
    )

    @admin.display(description=_("who"), ordering="actor_email")
    def who(self, entry: LogEntry) -> str:
        return records.describe_actor(entry)

    @admin.display(description=_("changes"))
    def msg_short(self, entry: LogEntry) -> str:
        if entry.action in (LogEntry.Action.DELETE, LogEntry.Action.ACCESS):
            return ""
        fields = list(entry.changes_dict)
        count = len(fields)
        return ngettext("%(count)d field: %(fields)s", "%(count)d fields: %(fields)s", count) % {
            "count": count,
            "fields": ", ".join(fields),
        }

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Audited models have no generic relation to entries, so no delete cascades here either.
        return False


class AuditHistoryMixin(AuditlogHistoryAdminMixin):  # type: ignore[misc]
    """The admin's "History" button opens the object's audit log (before and after of each
    change, who and when) instead of the admin's own one-line change messages."""

    auditlog_history_per_page = 25

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404
        response: HttpResponse = self.auditlog_history_view(request, object_id, extra_context)
        return response
