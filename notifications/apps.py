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
        _audit()


def _audit() -> None:
    """Log every change of who is told what, and with which words."""
    from audit import records
    from notifications.models import Contact, Route, Template

    records.register(Contact, exclude=["updated_at"])
    records.register(Route, exclude=["updated_at"], m2m=["contacts"])
    records.register(Template, exclude=["updated_at"])
