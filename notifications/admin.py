"""Where sales set up who is told what, and where staff read what was told.

Templates are checked against sample cases before they are saved and previewed on their page;
routes are edited on their own and inline on an organization's page; the notification ledger is
read-only for everyone, superusers included, because it is the record of what customers were told.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from alerts.models import Case
from audit.admin import AuditHistoryMixin
from notifications import previews, rendering, services
from notifications.forms import RouteForm, TemplateAdminForm
from notifications.models import Contact, DeliveryEvent, Notification, Route, Template
from notifications.transports.base import TransportError
from orgs.admin import OrganizationAdmin
from orgs.models import Organization

# How many recent cases the template page offers as previews.
RECENT_CASES = 8


# --- Templates ----------------------------------------------------------------------------------
@admin.register(Template)
class TemplateAdmin(AuditHistoryMixin, admin.ModelAdmin[Template]):
    form = TemplateAdminForm
    list_display = ("name", "kind", "language", "is_default", "from_email", "updated_at")
    list_filter = ("kind", "language", "is_default")
    search_fields = ("name", "subject", "from_email")
    readonly_fields = ("used_by", "updated_at")
    actions = ("send_test_mail",)
    fieldsets = (
        (None, {"fields": ("name", "kind", "language", "is_default")}),
        (_("Addresses"), {"fields": ("from_email", "reply_to", "to_override", "cc")}),
        (
            _("Words"),
            {
                "fields": ("subject", "body_text", "body_html"),
                "description": _(
                    "Django template language with the fields listed in "
                    "docs/notification-templates.md. Every part is rendered with sample cases "
                    "before it is saved."
                ),
            },
        ),
        (None, {"fields": ("used_by", "updated_at")}),
    )

    @admin.display(description=_("used by routes"))
    def used_by(self, template: Template) -> str:
        routes = Route.objects.filter(template=template).select_related("organization")
        return format_html_join(", ", "{}", ((str(route),) for route in routes)) or "—"

    def render_change_form(  # noqa: PLR0917 -- Django's signature
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Template | None = None,
    ) -> HttpResponse:
        if obj is not None:
            context |= self._preview_context(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _preview_context(self, request: HttpRequest, template: Template) -> dict[str, Any]:
        samples = previews.samples(template.kind, template.language)
        alert_id = request.GET.get("preview_case", "").strip()
        case = previews.find_case(alert_id) if alert_id else None
        if case is not None:
            samples.insert(0, previews.case_sample(case, template.kind, template.language))
        recent = Case.objects.select_related("organization").order_by("-opened_at")
        return {
            "previews": [previews.preview(template, sample) for sample in samples],
            "preview_case": alert_id,
            "preview_case_missing": bool(alert_id) and case is None,
            "recent_cases": recent[:RECENT_CASES],
        }

    @admin.action(
        description=_("Send a test mail of the sample case to me"), permissions=["change"]
    )
    def send_test_mail(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        address = getattr(request.user, "email", "")
        for template in queryset:
            try:
                message_id = previews.send_test(template, to=address)
            except (TransportError, rendering.TemplateError) as exc:
                self.message_user(
                    request,
                    _("Test mail of “%(template)s” was not sent: %(error)s")
                    % {"template": template, "error": exc},
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request,
                    _("Test mail of “%(template)s” sent to %(address)s (message ID %(id)s).")
                    % {"template": template, "address": address, "id": message_id or "—"},
                    messages.SUCCESS,
                )


# --- Routes -------------------------------------------------------------------------------------
def _route_queryset(queryset: QuerySet[Route]) -> QuerySet[Route]:
    return queryset.select_related("organization__customer", "service", "template").annotate(
        contact_count=Count("contacts")
    )


@admin.register(Route)
class RouteAdmin(AuditHistoryMixin, admin.ModelAdmin[Route]):
    form = RouteForm
    list_display = (
        "name", "organization", "customer_name", "service", "minimum_severity", "events",
        "contact_count", "template", "is_active",
    )  # fmt: skip
    list_filter = ("is_active", "minimum_severity", "customer", "organization")
    search_fields = ("name", "organization__name", "organization__display_name", "contacts__email")
    autocomplete_fields = ("organization",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Route]:
        return _route_queryset(super().get_queryset(request))

    @admin.display(description=_("customer"), ordering="organization__customer__name")
    def customer_name(self, route: Route) -> str:
        return route.organization.customer.name

    @admin.display(description=_("events"))
    def events(self, route: Route) -> str:
        labels = dict(Route.Trigger.choices)
        return ", ".join(str(labels.get(value, value)) for value in route.triggers)

    @admin.display(description=_("contacts"), ordering="contact_count")
    def contact_count(self, route: Route) -> int:
        return int(getattr(route, "contact_count", 0))


class RouteInline(admin.StackedInline[Route, Organization]):
    """The organization's routes, on its page, with choices limited to that organization."""

    model = Route
    form = RouteForm
    extra = 0
    show_change_link = True
    fields = (
        "name", "service", "minimum_severity", "triggers", "contacts", "template", "is_active",
    )  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[Route]:
        return _route_queryset(super().get_queryset(request)).prefetch_related("contacts")

    def get_formset(
        self, request: HttpRequest, obj: Organization | None = None, **kwargs: Any
    ) -> Any:
        if obj is not None:
            kwargs["form"] = RouteForm.for_organization(obj)
        return super().get_formset(request, obj, **kwargs)


# orgs may not import notifications (design.md, layers), so the organization page gains its
# routes here: this app extends the organization admin it sits above.
admin.site.unregister(Organization)


@admin.register(Organization)
class OrganizationWithRoutesAdmin(OrganizationAdmin):
    """The organization admin with the organization's routes inline."""

    inlines: ClassVar = [RouteInline]

    def get_inline_instances(
        self, request: HttpRequest, obj: Organization | None = None
    ) -> list[Any]:
        # A route needs its organization's customer to limit its contacts: save the org first.
        return super().get_inline_instances(request, obj) if obj is not None else []


# --- Contacts -----------------------------------------------------------------------------------
class BouncingFilter(admin.SimpleListFilter):
    """Contacts whose mail the provider reported as bouncing."""

    title = _("bouncing")
    parameter_name = "bouncing"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(bounced_at__isnull=self.value() == "no")
        return queryset


@admin.register(Contact)
class ContactAdmin(AuditHistoryMixin, admin.ModelAdmin[Contact]):
    list_display = ("name", "email", "customer", "language", "is_active", "bouncing", "bounced_at")
    list_filter = ("is_active", BouncingFilter, "language", "customer")
    list_select_related = ("customer",)
    search_fields = ("name", "email", "customer__name")
    autocomplete_fields = ("customer",)
    fields = (
        "customer", "name", "email", "language", "time_zone", "is_active", "bounced_at",
        "bounce_reason", "route_list",
    )  # fmt: skip
    readonly_fields = ("bounced_at", "bounce_reason", "route_list")
    actions = ("clear_bounce",)

    @admin.display(description=_("bouncing"), boolean=True, ordering="bounced_at")
    def bouncing(self, contact: Contact) -> bool:
        return contact.bounced_at is not None

    @admin.display(description=_("routes"))
    def route_list(self, contact: Contact) -> str:
        routes = contact.routes.select_related("organization")
        return format_html_join(", ", "{}", ((str(route),) for route in routes)) or "—"

    @admin.action(
        description=_("Clear the bounce mark (the address was fixed)"), permissions=["change"]
    )
    def clear_bounce(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        cleared = 0
        # One save per contact rather than one UPDATE, so that each shows in the audit log.
        for contact in queryset.exclude(bounced_at=None):
            contact.bounced_at = None
            contact.bounce_reason = ""
            contact.save(update_fields=["bounced_at", "bounce_reason", "updated_at"])
            cleared += 1
        self.message_user(
            request,
            ngettext(
                "Cleared the bounce mark of %(count)d contact.",
                "Cleared the bounce mark of %(count)d contacts.",
                cleared,
            )
            % {"count": cleared},
            messages.SUCCESS,
        )


# --- The ledger ---------------------------------------------------------------------------------
class DeliveryEventInline(admin.TabularInline[DeliveryEvent, Notification]):
    """What the provider reported about this mail."""

    model = DeliveryEvent
    extra = 0
    can_delete = False
    fields = ("occurred_at", "event_type", "recipient", "reason", "event_id", "received_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Every field of a notification, grouped as its page shows them.
LEDGER_FIELDS: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (None, ("customer", "organization", "kind", "status", "contact", "route")),
    (_("Case"), ("case", "case_event", "digest", "digest_category")),
    (
        _("Delivery"),
        (
            "attempts", "created_at", "send_after", "next_attempt_at", "claimed_at", "sent_at",
            "status_changed_at", "provider_message_id", "last_error", "reported_in",
        ),
    ),
    (_("What was sent"), ("from_email", "recipients", "subject", "body_text")),
)  # fmt: skip


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    """The record of every mail: viewed, searched and filtered, never edited."""

    list_display = (
        "created_at", "customer", "organization", "contact", "case_id", "kind", "status",
        "attempts", "provider_message_id",
    )  # fmt: skip
    # A period: today, the past 7 days, this month or year, or any from/to (created_at__gte and
    # created_at__lt in the URL); the date hierarchy picks a year, month or day.
    list_filter = ("status", "kind", "customer", ("created_at", admin.DateFieldListFilter))
    date_hierarchy = "created_at"
    search_fields = ("=case__alert_id", "contact__email", "provider_message_id")
    # Counting a large ledger on every page costs more than the number is worth.
    show_full_result_count = False
    actions = ("send_again",)
    inlines: ClassVar = [DeliveryEventInline]
    fieldsets = tuple((title, {"fields": fields}) for title, fields in LEDGER_FIELDS)
    readonly_fields = tuple(field for _title, fields in LEDGER_FIELDS for field in fields)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        return (
            super()
            .get_queryset(request)
            .select_related(
                "customer",
                "organization",
                "contact",
                "case",
                "case_event",
                "route__organization",
                "digest",
                "reported_in",
            )  # fmt: skip
        )

    @admin.action(description=_("Send failed mails again"), permissions=["resend"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = services.send_again(list(queryset.values_list("pk", flat=True)))
        skipped = queryset.count() - count
        messages.success(
            request,
            ngettext("%(n)d failed mail will be sent again.",
                     "%(n)d failed mails will be sent again.", count) % {"n": count},
        )  # fmt: skip
        if skipped:
            messages.warning(
                request,
                ngettext("%(n)d mail was left alone: only failed mails are sent again.",
                         "%(n)d mails were left alone: only failed mails are sent again.",
                         skipped) % {"n": skipped},
            )  # fmt: skip

    def has_resend_permission(self, request: HttpRequest) -> bool:
        # Whoever runs the routing (sales, superusers) may retry after fixing a key or address;
        # support read the ledger and change nothing.
        return bool(request.user.has_perm("notifications.change_route"))

    @admin.display(description=_("case ID"), ordering="case__alert_id")
    def case_id(self, notification: Notification) -> str:
        return notification.case.alert_id if notification.case else "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
