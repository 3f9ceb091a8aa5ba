"""Sync organizations from Mackerel by hand, as the beat schedule does, with a progress bar.

manage.py sync_mackerel --org acme-prod
manage.py sync_mackerel --all
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from alerts import reconcile
from orgs.models import Organization, SyncRun

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Sync hosts, services, roles, monitors and alerts from Mackerel's API now, one "
        "organization after the other, under the same lock as the scheduled syncs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--org", action="append", metavar="NAME", help="repeatable")
        which.add_argument("--all", action="store_true", help="every active organization")

    def handle(self, *args: Any, **options: Any) -> None:
        orgs = self._organizations(options["org"], options["all"])
        started = time.monotonic()
        results: list[tuple[Organization, SyncRun | None]] = []
        for index, org in enumerate(orgs):
            self._progress(index, len(orgs), org.name)
            results.append((org, reconcile.sync_organization(org.pk)))
        self._progress(len(orgs), len(orgs), "done")
        self.stderr.write("")
        failed = self._summary(results, time.monotonic() - started)
        if failed:
            raise CommandError(f"{failed} of {len(orgs)} organizations did not sync fully")

    def _organizations(self, names: list[str] | None, every: bool) -> list[Organization]:
        active = Organization.objects.filter(is_active=True).exclude(api_key_encrypted="")
        if every:
            return list(active.order_by("name"))
        found = {org.name: org for org in Organization.objects.filter(name__in=names or [])}
        missing = [name for name in names or [] if name not in found]
        if missing:
            raise CommandError(f"no such organization: {', '.join(missing)}")
        unusable = [org.name for org in found.values() if not org.is_active or not org.has_api_key]
        if unusable:
            raise CommandError(f"inactive or without an API key: {', '.join(unusable)}")
        return [found[name] for name in names or []]

    def _progress(self, done: int, total: int, label: str) -> None:
        filled = BAR_WIDTH * done // max(total, 1)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        # One line rewritten in place on a terminal; a log file gets one line per step.
        ending = "\r" if self.stderr.isatty() else "\n"
        self.stderr.write(f"[{bar}] {done}/{total} {label:<40.40}", ending=ending)

    def _summary(self, results: list[tuple[Organization, SyncRun | None]], seconds: float) -> int:
        failed = 0
        for org, run in results:
            if run is None:
                self.stdout.write(f"{org.name}: skipped (another sync holds its lock)")
                continue
            counts = run.counts
            hosts = "?" if run.host_count is None else run.host_count
            line = (
                f"{org.name}: {run.outcome}, {hosts} hosts ({counts.get('hosts_created', 0)} new, "
                f"{counts.get('hosts_updated', 0)} changed, {counts.get('hosts_retired', 0)} "
                f"retired), {counts.get('monitors', 0)} monitors, cases "
                f"{counts.get('alerts_opened', 0)} opened / {counts.get('alerts_closed', 0)} closed"
            )
            if run.outcome != SyncRun.Outcome.SUCCESS:
                failed += 1
                line += f": {run.get_error_kind_display()}: {run.error_message}"
            self.stdout.write(line)
        self.stdout.write(f"{len(results)} organizations in {seconds:.1f} s, {failed} not fully.")
        return failed
