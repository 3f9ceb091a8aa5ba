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
@pytest.mark.parametrize(
    ("environment", "prepares", "plan_cache_mode"),
    [
        # The web: a generic plan for the support search's patterns took seconds.
        pytest.param({}, True, "force_custom_plan", id="web-planned-for-its-parameters"),
        # As docker-compose.yml runs the workers.
        pytest.param({"DATABASE_GENERIC_PLANS": "true"}, True, "auto", id="workers-keep-one-plan"),
        pytest.param(
            {"DATABASE_PREPARED_STATEMENTS": "false"}, False, None, id="behind-a-pooler-none"
        ),
    ],
)
def test_repeated_queries_are_prepared_as_configured(
    environment: dict[str, str], prepares: bool, plan_cache_mode: str | None
) -> None:
    prepared, mode = _after_repeating(**environment)
    assert (prepared >= 1) is prepares
    if plan_cache_mode is not None:
        assert mode == plan_cache_mode
