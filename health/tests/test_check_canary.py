from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from health.models import Heartbeat


@pytest.mark.django_db
def test_check_canary_fails_before_the_first_run() -> None:
    with pytest.raises(CommandError, match="never run"):
        call_command("check_canary")


@pytest.mark.django_db
def test_check_canary_passes_when_fresh_and_fails_when_stale() -> None:
    Heartbeat.beat("canary")
    out = StringIO()
    call_command("check_canary", stdout=out)
    assert "canary ran" in out.getvalue()
    with time_machine.travel(timedelta(minutes=3)), pytest.raises(CommandError, match="ago"):
        call_command("check_canary", "--max-age", "120")
