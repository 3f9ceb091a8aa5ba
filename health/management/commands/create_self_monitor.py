"""Create (or bring up to date) the monitor that alerts when Tairyo's heartbeat stops."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from health import watch
from orgs import mackerel


class Command(BaseCommand):
    help = (
        "Creates, in the Mackerel organization of TAIRYO_SELF_MACKEREL_API_KEY, the service "
        "TAIRYO_SELF_MACKEREL_SERVICE and a service monitor with interruption detection on "
        "Tairyo's heartbeat. Safe to run again: it changes only what differs."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not watch.posting_enabled():
            raise CommandError(
                "TAIRYO_SELF_MACKEREL_API_KEY is not set: give the API key (read-write) of the "
                "Mackerel organization that should watch Tairyo"
            )
        try:
            with watch.client() as api:
                outcome = watch.ensure_monitor(api)
        except mackerel.MackerelError as exc:
            raise CommandError(f"Mackerel refused: {exc}") from exc
        service = settings.TAIRYO_SELF_MACKEREL_SERVICE
        if outcome.service_created:
            self.stdout.write(f"created service {service}")
        monitor = outcome.monitor
        minutes = monitor.definition.get("missingDurationCritical")
        self.stdout.write(
            f"{outcome.action} monitor {monitor.id} {monitor.name!r}: service {service}, metric "
            f"{watch.HEARTBEAT_METRIC}, critical after {minutes} minutes without a heartbeat"
        )
