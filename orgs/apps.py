from __future__ import annotations

from django.apps import AppConfig


class OrgsConfig(AppConfig):
    """Mackerel organizations, the Mackerel client and the mirrors of Mackerel's objects."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "orgs"
    verbose_name = "Organizations"
