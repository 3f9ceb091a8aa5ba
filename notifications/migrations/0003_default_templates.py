from __future__ import annotations

from typing import Any

from django.db import migrations


def create_defaults(apps: Any, schema_editor: Any) -> None:
    from notifications.defaults import ensure_default_templates

    ensure_default_templates(apps.get_model("notifications", "Template"))


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_routes_templates_ledger")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
