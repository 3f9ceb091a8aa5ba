"""Staff manage customers' webhook subscriptions and read, test and replay deliveries."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditHistoryMixin
from webhooks import sending, services
from webhooks.models import Attempt, Delivery, Subscription
from webhooks.planning import make_test_delivery

# Where save_model leaves a new secret for response_add, within one request.
SECRET_ATTRIBUTE = "_tairyo_webhook_secret"  # noqa: S105 -- an attribute name


class SubscriptionForm(forms.ModelForm[Subscription]):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=[(event, event) for event in services.CASE_EVENTS],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Subscription
        fields = ("customer", "url", "description", "events", "is_active")

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"])
        try:
            services.check_url(url)
        except ValidationError as refused:
            raise forms.ValidationError(refused.messages) from None
        return url


@admin.register(Subscription)
class SubscriptionAdmin(AuditHistoryMixin, admin.ModelAdmin[Subscription]):
    form = SubscriptionForm
    list_display = ("url", "customer", "is_active", "failing_since", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "customer__name", "description")
    autocomplete_fields = ("customer",)
    readonly_fields = ("disabled_reason", "failing_since", "created_at")
    actions = ("send_test", "rotate")

    def save_model(self, request: HttpRequest, obj: Subscription, form: Any, change: bool) -> None:
        if not change:
            setattr(request, SECRET_ATTRIBUTE, services.set_new_secret(obj))
        if obj.is_active:
            obj.disabled_reason = ""
        super().save_model(request, obj, form, change)

    def response_add(
        self, request: HttpRequest, obj: Subscription, post_url_continue: str | None = None
    ) -> HttpResponse:
        return self._show_secret(request, obj, getattr(request, SECRET_ATTRIBUTE))

    def _show_secret(self, request: HttpRequest, obj: Subscription, secret: str) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "subscription": obj,
            "secret": secret,
            "title": _("Copy the signing secret now"),
        }
        return TemplateResponse(request, "admin/webhooks/subscription/secret.html", context)

    @admin.action(description=_("Send a test event"), permissions=["change"])
    def send_test(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        from webhooks import tasks

        for subscription in queryset:
            delivery = make_test_delivery(subscription)
            tasks.send_webhook.delay(delivery.pk)
        messages.success(request, _("Test events are on their way; see the deliveries."))

    @admin.action(description=_("Rotate the signing secret"), permissions=["change"])
    def rotate(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> HttpResponse | None:
        if queryset.count() != 1:
            messages.error(request, _("Rotate one subscription at a time."))
            return None
        subscription = queryset.get()
        return self._show_secret(request, subscription, services.rotate_secret(subscription))


class AttemptInline(admin.TabularInline[Attempt, Delivery]):
    model = Attempt
    extra = 0
    can_delete = False
    fields = ("at", "status_code", "error", "duration_ms", "response_body")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
    list_display = (
        "event_id",
        "event_type",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
        "delivered_at",
    )
    list_filter = ("status", "event_type")
    search_fields = ("event_id", "case__alert_id", "subscription__url")
    readonly_fields = (
        "customer",
        "subscription",
        "event_id",
        "event_type",
        "case",
        "case_event",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
    )
    exclude = ("claimed_at",)
    inlines = (AttemptInline,)
    actions = ("replay",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Replay (same event ID)"), permissions=["change"])
    def replay(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        from webhooks import tasks

        for delivery in queryset:
            sending.replay(delivery)
            tasks.send_webhook.delay(delivery.pk)
        messages.success(request, _("The deliveries will be sent again."))
