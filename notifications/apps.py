from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Contacts, routes, templates, the notification ledger and sending."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
