from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Signed outbound webhooks to customers' ticketing systems."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from audit import records
        from webhooks.models import Subscription

        records.register(
            Subscription,
            secrets=["secret_encrypted", "previous_secret_encrypted"],
            labels={
                "secret_encrypted": _("signing secret"),
                "previous_secret_encrypted": _("previous signing secret"),
                "previous_secret_valid_until": _("previous signing secret works until"),
            },
        )
