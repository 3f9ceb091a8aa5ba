from __future__ import annotations

from django.contrib import admin

from notifications.models import Contact


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin[Contact]):
    list_display = ("name", "email", "customer", "language", "is_active")
    list_filter = ("is_active", "language", "customer")
    search_fields = ("name", "email", "customer__name")
    autocomplete_fields = ("customer",)
