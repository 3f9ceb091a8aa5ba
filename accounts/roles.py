"""Staff groups and what each may do in the admin.

Sales run customers, contacts and routing; support read everything and change nothing; only
superusers manage Mackerel API keys and webhook tokens. Permissions are named as
``app_label.codename`` so this module needs no import of the apps above it; a permission of an
app not installed (yet) is skipped.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth.models import Group, Permission

SALES = "sales"
SUPPORT = "support"

# Models sales edit (add, change, delete, view) and models they only read.
SALES_EDIT = {
    "accounts": ["customer", "membership"],
    "orgs": ["organization"],
    "notifications": ["contact", "route", "template"],
}
# Sales also make and revoke API tokens: read-only ones (ApiTokenAdmin); support change nothing.
TOKEN_EDIT = {"accounts": ["apitoken"]}
# Webhook subscriptions carry signing secrets: staff read them, superusers manage them. The
# audit log (auditlog) is read by both groups and written by nobody.
READ_ONLY_APPS = ("accounts", "orgs", "alerts", "notifications", "webhooks", "health", "auditlog")


def _permissions(app_label: str, models: list[str], actions: tuple[str, ...]) -> list[Permission]:
    codenames = [f"{action}_{model}" for model in models for action in actions]
    return list(
        Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
    )


def _view_permissions() -> list[Permission]:
    labels = [label for label in READ_ONLY_APPS if apps.is_installed(label)]
    return list(
        Permission.objects.filter(content_type__app_label__in=labels, codename__startswith="view_")
    )


def sync_staff_groups() -> None:
    """Create the staff groups and give them exactly their permissions (idempotent)."""
    view = _view_permissions()
    sales, _ = Group.objects.get_or_create(name=SALES)
    edit = [
        perm
        for app_label, models in SALES_EDIT.items()
        for perm in _permissions(app_label, models, ("add", "change", "delete"))
    ]
    tokens = [
        perm
        for app_label, models in TOKEN_EDIT.items()
        for perm in _permissions(app_label, models, ("add", "change"))
    ]
    sales.permissions.set(view + edit + tokens)
    support, _ = Group.objects.get_or_create(name=SUPPORT)
    support.permissions.set(view)


def group(name: str) -> Group:
    return Group.objects.get_or_create(name=name)[0]
