"""Repeated queries are prepared on PostgreSQL; only the workers let PostgreSQL keep one plan."""

from __future__ import annotations

import pytest
from django.db import connection

from portal.tests.test_settings import manage

REPEAT_A_QUERY = """
from django.db import connection
from orgs.models import Organization
for _ in range(8):
    list(Organization.objects.filter(name="nobody"))
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM pg_prepared_statements")
    prepared = cursor.fetchone()[0]
    cursor.execute("SHOW plan_cache_mode")
    print("result", prepared, cursor.fetchone()[0])
"""


def _after_repeating(**overrides: str) -> tuple[int, str]:
    """How many statements the connection prepared, and its plan_cache_mode."""
    result = manage("shell", "-c", REPEAT_A_QUERY, DATABASE_URL=_test_database_url(), **overrides)
    assert result.returncode == 0, result.stderr
    prepared, mode = result.stdout.split("result", 1)[1].split()
    return int(prepared), mode


def _test_database_url() -> str:
    params = connection.settings_dict
    host, port = params["HOST"] or "127.0.0.1", params["PORT"] or 5432
    return f"postgres://{params['USER']}@{host}:{port}/{params['NAME']}"


@pytest.mark.slow
@pytest.mark.django_db
def test_by_default_a_repeated_query_is_prepared_but_planned_for_its_parameters() -> None:
    # The web: a generic plan for the support search's patterns took seconds.
    prepared, mode = _after_repeating()
    assert prepared >= 1
    assert mode == "force_custom_plan"


@pytest.mark.slow
@pytest.mark.django_db
def test_the_workers_let_postgresql_keep_one_plan() -> None:
    # As docker-compose.yml runs the workers.
    prepared, mode = _after_repeating(DATABASE_GENERIC_PLANS="true")
    assert prepared >= 1
    assert mode == "auto"


@pytest.mark.slow
@pytest.mark.django_db
def test_behind_a_transaction_pooler_nothing_is_prepared() -> None:
    prepared, _ = _after_repeating(DATABASE_PREPARED_STATEMENTS="false")
    assert prepared == 0
