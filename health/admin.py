from __future__ import annotations

from django.contrib import admin

from health.models import Heartbeat, SelfCheck


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin[Heartbeat]):
    list_display = ("name", "beat_at", "count")
    readonly_fields = ("name", "beat_at", "count")

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(SelfCheck)
class SelfCheckAdmin(admin.ModelAdmin[SelfCheck]):
    """The auditor's verdict for staff: why the heartbeat was held back, what the figures are."""

    list_display = ("name", "checked_at", "healthy", "posted_at", "post_error")
    readonly_fields = (
        "name",
        "checked_at",
        "healthy",
        "problems",
        "figures",
        "posted_at",
        "post_error",
    )

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
