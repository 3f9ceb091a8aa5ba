"""The one-command demo: simulated Mackerel and mail provider, seeded data, the portal.

Everything runs in this process: the Mackerel simulator (its hosts go down and come back now
and then, and its webhooks reach the portal), the mail simulator (it prints every mail), a
thread that does beat's periodic work, and Django's development server. Tasks run in-process
(CELERY_TASK_ALWAYS_EAGER), so no Redis or worker is needed.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.management.commands.seed_demo import ORGANIZATIONS, demo_api_key, demo_webhook_token

SWEEP_SECONDS = 15
# The demo syncs more often than production's five minutes, so the mirror fills in quickly.
SYNC_SECONDS = 120


class Command(BaseCommand):
    help = "Serve the demo: simulators, seeded data and the portal on one port."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address of the portal")
        parser.add_argument("--mackerel-port", type=int, default=8081)
        parser.add_argument("--mail-port", type=int, default=8025)
        parser.add_argument(
            "--outage-every", type=int, default=90, help="seconds between simulated host failures"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError("run_demo runs tasks in-process: set CELERY_TASK_ALWAYS_EAGER=true")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", stdout=self.stdout)
        mackerel = self._start_mackerel(options)
        mail = self._start_mail(options["mail_port"])
        threading.Thread(target=_sweep_forever, name="demo-beat", daemon=True).start()
        self.stdout.write(
            self.style.SUCCESS(
                f"Simulated Mackerel at {mackerel}/ (admin API under /_sim/), "
                f"mail simulator at {mail}/_sim/messages; a host fails every "
                f"~{options['outage_every']} s."
            )
        )
        call_command("runserver", options["addr"], use_reloader=False)

    def _start_mackerel(self, options: dict[str, Any]) -> str:
        from mackerel_sim import Simulator

        sim = Simulator(seed=1)
        portal = f"http://{options['addr']}"
        names = [org.name for org in ORGANIZATIONS]
        for name in names:
            sim.add_organization(name, rw_key=demo_api_key(name))
        sim.build_demo(names, hosts_per_org=12)
        for name in names:
            sim.add_webhook_channel(name, f"{portal}/hooks/mackerel/{demo_webhook_token(name)}/")
        server = sim.serve(port=options["mackerel_port"])
        every = options["outage_every"]
        sim.run_scenario("demo-background", every=every, down_min=every // 3, down_max=every)
        return str(server.url)

    def _start_mail(self, port: int) -> str:
        from mail_sim import MailSimulator

        key = settings.ANYMAIL.get("MAILGUN_API_KEY")
        sim = MailSimulator(mailgun_api_key=str(key) if key else None)
        sim.on_message = self._print_mail
        server = sim.serve(port=port)
        return str(server.url)

    def _print_mail(self, message: Any) -> None:
        self.stdout.write(f"\n📨 mail to {', '.join(message.to)}: {message.subject}")


def _sweep_forever() -> None:
    """What beat does in production: sync every organization from the simulated Mackerel (at
    once, then every two minutes), and sweep receipts and notifications every 15 seconds."""
    from django.db import close_old_connections

    from alerts import reconcile
    from alerts import services as alert_services
    from notifications import services as notification_services
    from orgs.models import Organization

    last_sync = 0.0
    while True:
        try:
            if time.monotonic() - last_sync >= SYNC_SECONDS:
                last_sync = time.monotonic()
                for org_id in Organization.objects.filter(is_active=True).values_list(
                    "pk", flat=True
                ):
                    reconcile.sync_organization(org_id)
            alert_services.sweep()
            notification_services.sweep()
        except Exception:  # the demo goes on; the next sweep tries again
            import logging

            logging.getLogger(__name__).exception("demo sweep failed")
        finally:
            close_old_connections()
        time.sleep(SWEEP_SECONDS)
