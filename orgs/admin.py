from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from orgs.forms import OrganizationAdminForm
from orgs.models import Organization

# The shape django-stubs gives ModelAdmin.get_fields.
AdminFields = list[str | list[str] | tuple[str, ...] | tuple[()]]


# notifications/admin.py registers a subclass with the organization's routes inline: orgs sits
# below notifications and may not import it (design.md, "Layers").
@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin[Organization]):
    form = OrganizationAdminForm
    list_display = ("name", "display_name", "customer", "is_active", "api_key_hint")
    list_filter = ("is_active", "customer")
    search_fields = ("name", "display_name", "memo", "customer__name")
    readonly_fields = ("api_key_hint", "api_key_updated_at", "created_at", "updated_at")
    autocomplete_fields = ("customer",)

    @admin.display(description=_("API key"))
    def api_key_hint(self, org: Organization) -> str:
        return org.api_key_masked or "—"

    def get_fields(self, request: HttpRequest, obj: Organization | None = None) -> AdminFields:
        fields: AdminFields = ["customer", "name", "display_name", "memo", "is_active"]
        # Only superusers manage secrets; sales see that a key is set, not how to change it.
        if request.user.is_superuser:
            fields += ["new_api_key", "clear_api_key"]
        return [*fields, "api_key_hint", "api_key_updated_at", "created_at", "updated_at"]
