from __future__ import annotations

from django.apps import AppConfig


class OrgsConfig(AppConfig):
    """Mackerel organizations, the Mackerel client and the mirrors of Mackerel's objects."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "orgs"
    verbose_name = "Organizations"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from audit import records
        from orgs.models import SYNC_STATE_FIELDS, Organization

        # The key, the token and their digests and ciphertexts never reach the log: only that
        # they were set, changed or cleared (and the key's last four, as the admin shows them).
        records.register(
            Organization,
            secrets=[
                "api_key_encrypted",
                "webhook_token_digest",
                "webhook_token_hint",
                "previous_webhook_token_digest",
                "webhook_password_hash",
            ],
            exclude=[*sorted(SYNC_STATE_FIELDS), "updated_at"],
            labels={
                "api_key_encrypted": _("Mackerel API key"),
                "api_key_last4": _("API key ends in"),
                "api_key_updated_at": _("API key set at"),
                "webhook_token_digest": _("webhook token"),
                "webhook_token_hint": _("webhook token ends in"),
                "previous_webhook_token_digest": _("previous webhook token"),
                "previous_webhook_token_valid_until": _("previous webhook token works until"),
                "webhook_password_hash": _("webhook password"),
            },
        )
