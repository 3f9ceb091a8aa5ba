from __future__ import annotations

from typing import Any

from django.db import migrations


def create_defaults(apps: Any, schema_editor: Any) -> None:
    from notifications.defaults import BUILT_IN, SENDERS

    template = apps.get_model("notifications", "Template")
    names = {"case": "Case mail", "digest": "Digest mail"}
    for (kind, language), text in BUILT_IN.items():
        template.objects.get_or_create(
            name=f"{names[kind]} ({language})",
            defaults={
                "kind": kind,
                "language": language,
                "is_default": True,
                "from_email": SENDERS[language],
                **text,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_routes_templates_ledger")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
