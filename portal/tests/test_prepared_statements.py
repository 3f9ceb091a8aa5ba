"""The workers' repeated queries are prepared on PostgreSQL; the web's (the default) are not."""

from __future__ import annotations

import pytest
from django.db import connection

from portal.tests.test_settings import manage

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)

COUNT_PREPARED = """
from django.db import connection
from orgs.models import Organization
for _ in range(8):
    list(Organization.objects.filter(name="nobody"))
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM pg_prepared_statements")
    print("prepared", cursor.fetchone()[0])
"""


def _prepared_after_repeating(**overrides: str) -> int:
    result = manage("shell", "-c", COUNT_PREPARED, DATABASE_URL=_test_database_url(), **overrides)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split("prepared", 1)[1])


def _test_database_url() -> str:
    params = connection.settings_dict
    host, port = params["HOST"] or "127.0.0.1", params["PORT"] or 5432
    return f"postgres://{params['USER']}@{host}:{port}/{params['NAME']}"


@pytest.mark.slow
@pytest.mark.django_db
def test_with_prepared_statements_a_repeated_query_is_planned_once() -> None:
    # As docker-compose.yml runs the workers.
    assert _prepared_after_repeating(DATABASE_PREPARED_STATEMENTS="true") >= 1


@pytest.mark.slow
@pytest.mark.django_db
def test_by_default_nothing_is_prepared() -> None:
    # The web: a generic plan for the support search's patterns took seconds.
    assert _prepared_after_repeating() == 0
