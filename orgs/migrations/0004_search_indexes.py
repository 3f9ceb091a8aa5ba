"""Indexes of the support search: pg_trgm for substrings, an array of addresses, host IDs."""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from portal.migration_operations import AddIndexOnPostgreSQL


def trigram(model: str, field: str, name: str) -> AddIndexOnPostgreSQL:
    return AddIndexOnPostgreSQL(
        model_name=model,
        index=django.contrib.postgres.indexes.GinIndex(
            django.contrib.postgres.indexes.OpClass(
                django.db.models.functions.text.Upper(field), name="gin_trgm_ops"
            ),
            name=name,
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_api_tokens"),
        ("orgs", "0003_sync_runs_and_health"),
    ]

    operations = [
        # Needs a superuser or, since PostgreSQL 13, a database owner (pg_trgm is trusted);
        # does nothing on SQLite.
        TrigramExtension(),
        migrations.AddIndex(
            model_name="host",
            index=models.Index(fields=["mackerel_id"], name="host_mackerel_id_idx"),
        ),
        trigram("host", "name", "host_name_trgm"),
        trigram("host", "display_name", "host_display_name_trgm"),
        trigram("host", "custom_identifier", "host_custom_identifier_trgm"),
        trigram("host", "memo", "host_memo_trgm"),
        AddIndexOnPostgreSQL(
            model_name="host",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass("ip_addresses", name="gin_trgm_ops"),
                name="host_ip_trgm",
            ),
        ),
        AddIndexOnPostgreSQL(
            model_name="host",
            index=django.contrib.postgres.indexes.GinIndex(
                models.Func(
                    models.F("ip_addresses"),
                    models.Value(" "),
                    function="string_to_array",
                    output_field=django.contrib.postgres.fields.ArrayField(
                        base_field=models.TextField(), size=None
                    ),
                ),
                name="host_ip_list_idx",
            ),
        ),
        trigram("organization", "name", "org_name_trgm"),
        trigram("organization", "display_name", "org_display_name_trgm"),
    ]
