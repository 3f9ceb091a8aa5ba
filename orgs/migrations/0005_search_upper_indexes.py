"""Support search: exact and prefix matches of host names by a btree on UPPER(field)."""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.db import migrations, models

from portal.migration_operations import AddIndexOnPostgreSQL


def upper(field: str, name: str) -> AddIndexOnPostgreSQL:
    return AddIndexOnPostgreSQL(
        model_name="host",
        index=models.Index(
            django.contrib.postgres.indexes.OpClass(
                django.db.models.functions.text.Upper(field), name="text_pattern_ops"
            ),
            name=name,
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orgs", "0004_search_indexes"),
    ]

    operations = [
        upper("name", "host_name_upper_idx"),
        upper("display_name", "host_display_upper_idx"),
        upper("custom_identifier", "host_custom_id_upper_idx"),
    ]
