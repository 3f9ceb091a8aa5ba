from __future__ import annotations

from django.contrib import admin

from health.models import Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin[Heartbeat]):
    list_display = ("name", "beat_at", "count")
    readonly_fields = ("name", "beat_at", "count")

    def has_add_permission(self, request: object) -> bool:
        return False
