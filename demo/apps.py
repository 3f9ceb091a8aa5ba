from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and the one-command demo; sits above every other app."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
