"""A Celery task that failed on a dead database connection leaves a worker that works."""

from __future__ import annotations

import pytest
from celery import signals
from celery.utils.dispatch import Signal
from django.db import OperationalError

from conftest import terminate_database_connection
from orgs.models import Organization


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("signal", [signals.task_failure, signals.task_retry])
def test_after_a_task_failed_on_a_terminated_connection_the_next_one_gets_a_new_one(
    signal: Signal,
) -> None:
    Organization.objects.count()  # the worker's connection, in use
    terminate_database_connection()
    with pytest.raises(OperationalError):
        Organization.objects.count()  # the task that meets the dead connection fails
    # Without the handler, Celery keeps the dead connection for CELERY_DB_REUSE_MAX tasks.
    with pytest.raises(OperationalError):
        Organization.objects.count()
    signal.send(sender=None)
    assert Organization.objects.count() == 0
