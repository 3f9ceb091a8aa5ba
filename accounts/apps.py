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

        _audit()


def _audit() -> None:
    """Log every change of customers, their people and API tokens (docs/authorization.md)."""
    from django.utils.translation import gettext_lazy as _

    from accounts.models import ApiToken, Customer, Membership, User
    from audit import records

    records.register(Customer)
    records.register(Membership)
    # Who was made staff or superuser, and when; a login's last_login is not a change.
    records.register(
        User, secrets=["password"], exclude=["last_login"], m2m=["groups", "user_permissions"]
    )
    records.register(
        ApiToken, secrets=["digest"], exclude=["last_used_at"], labels={"digest": _("token")}
    )
