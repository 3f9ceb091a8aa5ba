from __future__ import annotations

from typing import Any

from django.db import migrations


def use_default_from_email(apps: Any, schema_editor: Any) -> None:
    """The first default templates sent from noreply@tairyo.invalid, which no provider accepts;
    those nobody edited now send from DEFAULT_FROM_EMAIL's address."""
    from notifications.defaults import OLD_FROM_EMAILS, sender

    template = apps.get_model("notifications", "Template")
    for language, old in OLD_FROM_EMAILS.items():
        template.objects.filter(language=language, from_email=old).update(
            from_email=sender(language)
        )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0003_default_templates")]

    operations = [migrations.RunPython(use_default_from_email, migrations.RunPython.noop)]
