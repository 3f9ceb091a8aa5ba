"""Re-encrypts every stored secret under the first key of TAIRYO_FIELD_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import models, transaction

from audit import records
from orgs import encryption
from orgs.models import Organization


def _encrypted_fields() -> list[tuple[type[models.Model], tuple[str, ...]]]:
    """Mackerel API keys, and every model of a higher app that declares ``ENCRYPTED_FIELDS``
    (webhook signing secrets), found through the app registry so this app imports none."""
    found: list[tuple[type[models.Model], tuple[str, ...]]] = [
        (Organization, ("api_key_encrypted",))
    ]
    for model in apps.get_models():
        fields = getattr(model, "ENCRYPTED_FIELDS", ())
        if fields and model is not Organization:
            found.append((model, tuple(fields)))
    return found


class Command(BaseCommand):
    help = (
        "After putting a new key first in TAIRYO_FIELD_ENCRYPTION_KEYS, re-encrypt every API key "
        "and webhook secret with it; old keys can then be removed from the list."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = 0
        left = 0
        with transaction.atomic(), records.by_command("rotate_encryption_keys"):
            for model, fields in _encrypted_fields():
                for row in model._default_manager.select_for_update():
                    changed = [
                        name
                        for name in fields
                        if getattr(row, name) and not encryption.is_current(getattr(row, name))
                    ]
                    for name in changed:
                        setattr(row, name, encryption.rotate(getattr(row, name)))
                    if changed:
                        row.save(update_fields=changed)
                        rotated += len(changed)
            for model, fields in _encrypted_fields():
                for values in model._default_manager.values_list(*fields):
                    left += sum(
                        bool(value) and not encryption.is_current(value) for value in values
                    )
        self.stdout.write(f"Re-encrypted {rotated} secrets; {left} remain under an old key.")
