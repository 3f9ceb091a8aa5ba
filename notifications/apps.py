from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Contacts, routes, templates, the notification ledger and sending."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self) -> None:
        from anymail.signals import tracking

        from notifications.tracking import on_tracking

        # anymail's only way of handing over delivery reports is this signal.
        tracking.connect(on_tracking, dispatch_uid="notifications.on_tracking")
