from __future__ import annotations

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Webhook intake, cases and their timeline, reconciliation with Mackerel's alerts."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "alerts"
