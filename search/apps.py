from __future__ import annotations

from django.apps import AppConfig


class SearchConfig(AppConfig):
    """Support's search over every organization: hosts, cases, organizations and customers.

    An app of its own because it reads both ``orgs`` and ``alerts`` (design.md "Layers").
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "search"
    verbose_name = "Search"
