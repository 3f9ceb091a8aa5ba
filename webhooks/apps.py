from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Signed outbound webhooks to customers' ticketing systems."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
