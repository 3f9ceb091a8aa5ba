from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """The audit log: who changed which setting or secret, when, from what to what.

    Built on django-auditlog; this app holds only how Tairyo uses it (masking, actors outside a
    request, the admin pages), and depends on nothing but Django, so every app may use it.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"
    verbose_name = _("audit log")
