from __future__ import annotations

from typing import Any, ClassVar, cast

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from accounts import tokens
from accounts.models import ApiToken, Customer, Membership, User
from audit.admin import AuditHistoryMixin

# Where save_model leaves a new token's plain text for response_add, within one request.
ISSUED_ATTRIBUTE = "_tairyo_issued_token"


class MembershipInline(admin.TabularInline[Membership, Customer]):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Customer)
class CustomerAdmin(AuditHistoryMixin, admin.ModelAdmin[Customer]):
    list_display = ("name", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "memo")
    inlines: ClassVar = [MembershipInline]


class TairyoUserCreationForm(UserCreationForm[User]):
    class Meta:
        model = User
        fields = ("email",)


class TairyoUserChangeForm(UserChangeForm[User]):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(AuditHistoryMixin, BaseUserAdmin[User]):
    form = TairyoUserChangeForm
    add_form = TairyoUserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "is_staff", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("full_name", "language", "time_zone")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(ApiToken)
class ApiTokenAdmin(AuditHistoryMixin, admin.ModelAdmin[ApiToken]):
    """Staff make tokens for a customer or for every customer; read-only unless superuser.

    A new token is shown once, on the page that answers the form, and never again.
    """

    list_display = (
        "name",
        "prefix",
        "customer",
        "can_write",
        "created_by",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("can_write", "revoked_at")
    search_fields = ("name", "prefix", "customer__name")
    autocomplete_fields = ("customer",)
    actions = ("revoke",)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        fields = ["name", "customer", "expires_at"]
        if request.user.is_superuser:
            fields.insert(2, "can_write")
        if obj is not None:
            fields = [*fields, "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        # A token's scope never changes after it was shown: make a new one instead.
        return self.get_fields(request, obj) if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False  # revoked, not deleted: the record of who could read what stays

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if not change:
            if not request.user.is_superuser:
                obj.can_write = False
            obj.created_by = cast(User, request.user)
            setattr(request, ISSUED_ATTRIBUTE, tokens.set_secret(obj))
        super().save_model(request, obj, form, change)

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "token": obj,
            "plain": getattr(request, ISSUED_ATTRIBUTE),
            "title": _("Copy the new token now"),
        }
        return TemplateResponse(request, "admin/accounts/apitoken/issued.html", context)

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            tokens.revoke(token)
