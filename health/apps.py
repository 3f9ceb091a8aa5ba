from __future__ import annotations

from django.apps import AppConfig


class HealthConfig(AppConfig):
    """Tairyo watching itself: /healthz and the worker canary."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "health"
