from __future__ import annotations

from django.apps import AppConfig


class SupportConfig(AppConfig):
    """Support's pages over every organization: the search over hosts, cases, organizations and
    customers.

    An app of its own because it reads both ``orgs`` and ``alerts`` (design.md "Layers").
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "support"
    verbose_name = "Support"
