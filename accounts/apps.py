from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_groups(**_kwargs: Any) -> None:
    from accounts import roles

    roles.sync_staff_groups()


class AccountsConfig(AppConfig):
    """Users, customers, memberships and the tenancy mechanism."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        # Permissions only exist once every app has migrated, so groups are synced afterwards.
        post_migrate.connect(_sync_groups, dispatch_uid="accounts.sync_staff_groups")
        # Decides at each login whether the user owes a second factor.
        from accounts import two_factor  # noqa: F401
