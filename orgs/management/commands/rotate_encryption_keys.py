"""Re-encrypts every stored Mackerel API key under the first key of TAIRYO_FIELD_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from orgs import encryption
from orgs.models import Organization


class Command(BaseCommand):
    help = (
        "After putting a new key first in TAIRYO_FIELD_ENCRYPTION_KEYS, re-encrypt every API key "
        "with it; old keys can then be removed from the list."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = 0
        with transaction.atomic():
            for org in Organization.objects.exclude(api_key_encrypted="").select_for_update():
                if encryption.is_current(org.api_key_encrypted):
                    continue
                org.api_key_encrypted = encryption.rotate(org.api_key_encrypted)
                org.save(update_fields=["api_key_encrypted"])
                rotated += 1
        left = sum(
            not encryption.is_current(stored)
            for stored in Organization.objects.exclude(api_key_encrypted="").values_list(
                "api_key_encrypted", flat=True
            )
        )
        self.stdout.write(f"Re-encrypted {rotated} API keys; {left} remain under an old key.")
