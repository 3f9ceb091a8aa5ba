"""Exit 0 when the worker canary ran recently, 1 otherwise (a container health check)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from health.models import Heartbeat


class Command(BaseCommand):
    help = "Fails unless the canary task has run on a worker within --max-age seconds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--max-age", type=int, default=120, help="seconds (default 120)")

    def handle(self, *args: Any, **options: Any) -> None:
        beat = Heartbeat.objects.filter(name="canary").first()
        if beat is None:
            raise CommandError("the canary has never run: are beat and a worker up?")
        age = timezone.now() - beat.beat_at
        if age > timedelta(seconds=options["max_age"]):
            raise CommandError(f"the canary last ran {int(age.total_seconds())} s ago")
        self.stdout.write(f"canary ran {int(age.total_seconds())} s ago")
