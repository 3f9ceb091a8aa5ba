"""CPU per alert, stage by stage: what one webhook costs the intake worker, the planner and the
sender, in this process and in PostgreSQL.

bench/notify.py measures the whole pipeline under load; this says where its CPU goes. It runs
the pipeline's own functions in this process, one stage after the other (no Celery, no HTTP in
front, nothing else competing), against PostgreSQL and the mail simulator:

1. creates database ``tairyo_bench_stages`` and takes an empty Redis database (db 1), migrates,
   and creates organizations as bench/notify.py does (one customer each, two contacts, one route
   telling both about every change), with production settings and throw-away secrets;
2. stores ``--alerts`` alert webhooks as the intake view does (``services.accept``), five per
   organization so that every mail is a mail of its own (no digest), each for a
   host Tairyo has not seen yet, as in the storm;
3. intake: ``services.process_pending()`` turns them into cases;
4. planning: ``planning.plan_pending()`` plans their mails;
5. sending: ``delivery.deliver()`` hands each mail to the mail simulator through anymail;
6. prints, per stage, this process's CPU, the PostgreSQL backend's CPU (``/proc``) and the SQL
   statements per item, writes ``bench/results/stages.json``, and always drops the database and
   flushes the Redis database.

Run it with ``.venv/bin/python bench/stages.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import intake
from intake import HOST, ROOT, VENV_BIN, Setup, log

# bench/notify.py's organizations and its mail simulator helpers.
import notify  # isort: skip

sys.path.insert(0, str(ROOT))


@dataclass
class Stage:
    """One stage's cost per item (a webhook, or a mail for the sender)."""

    name: str
    items: int
    app_cpu_ms: float
    postgres_cpu_ms: float
    queries: float
    wall_ms: float


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument("--alerts", type=int, default=1000, help="alert webhooks (1000)")
    parser.add_argument(
        "--orgs", type=int, default=200, help="organizations (200: five alerts each, no digest)"
    )
    parser.add_argument("--contacts", type=int, default=2, help="contacts per organization (2)")
    parser.add_argument("--db-name", default="tairyo_bench_stages")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/1")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "stages.json")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tairyo-bench-stages-") as tmp:
        setup = Setup(
            db_name=args.db_name, pg_admin_url=args.pg_url, redis_url=args.redis_url,
            port=intake.free_port(), workers=0, workdir=Path(tmp),
        )  # fmt: skip
        return intake.run_guarded(setup, lambda: run(args, setup))


@contextlib.contextmanager
def mail_simulator(env: dict[str, str], workdir: Path, port: int) -> Iterator[None]:
    command = [str(VENV_BIN / "python"), "-m", "mail_sim", "--port", str(port), "--any-key",
               "--quiet"]  # fmt: skip
    with notify.background("mail_sim", command, env, workdir, None):
        notify.mail_simulator_ready(port)
        yield


def run(args: argparse.Namespace, setup: Setup) -> int:
    mail_port = intake.free_port()
    env = intake.production_env(setup, conn_max_age=600)
    env |= {
        "MAILGUN_API_KEY": "bench-mail-key",
        "MAILGUN_API_URL": f"http://{HOST}:{mail_port}/v3",
        "MAILGUN_WEBHOOK_SIGNING_KEY": base64.b16encode(os.urandom(16)).decode(),
        # One line per receipt and per mail, as in production, but not on this terminal.
        "TAIRYO_LOG_FORMAT": "json",
        # As docker-compose.yml runs the workers.
        "DATABASE_GENERIC_PLANS": "true",
    }
    log(f"database {setup.db_name}: create, migrate, {args.orgs} organizations")
    intake.create_database(setup)
    intake.manage(env, "migrate", "--noinput", "-v", "0")
    orgs = [f"stage{n:03d}" for n in range(1, args.orgs + 1)]
    notify.create_organizations(env, orgs, args.contacts)
    machine = intake.machine_info(setup, packages=("django-anymail", "psycopg"))
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    import django

    django.setup()
    import logging

    # The log lines still go through the formatter, as in production, then nowhere.
    logging.getLogger().handlers[:] = [logging.NullHandler()]
    started = time.monotonic()
    with mail_simulator(env, setup.workdir, mail_port):
        stages = measure(args, orgs)
    for stage in stages:
        log(
            f"{stage.name:>9}: {stage.items} items, {stage.app_cpu_ms:.2f} ms CPU here + "
            f"{stage.postgres_cpu_ms:.2f} ms in PostgreSQL, {stage.queries:.1f} statements each"
        )
    per_alert = per_alert_ms(stages, args.contacts)
    log(f"per alert with {args.contacts} mails: {per_alert:.1f} ms of CPU")
    write_results(args, machine, stages, per_alert, time.monotonic() - started)
    return 0


def measure(args: argparse.Namespace, org_names: list[str]) -> list[Stage]:
    from alerts import services
    from alerts.tests import payloads
    from notifications import delivery, planning
    from orgs.models import Organization

    orgs = {org.name: org for org in Organization.objects.filter(name__in=org_names)}
    for n in range(args.alerts):
        name = org_names[n % len(org_names)]
        body = payloads.alert(f"S{n:010d}", org=name, changed=payloads.T0 + n)
        body["host"] = payloads.host(f"H{n:010d}", name=f"vm{n:05d}", org=name)
        services.accept(orgs[name], payloads.encode(body), {}, HOST, "alert")
    stages = [timed("intake", args.alerts, services.process_pending)]
    plan: list[planning.Plan] = []
    stages.append(timed("planning", args.alerts, lambda: plan.append(planning.plan_pending())))
    to_send = plan[0].to_send
    stages.append(timed("sending", len(to_send), lambda: [delivery.deliver(i) for i in to_send]))
    return stages


def timed(name: str, items: int, job: Callable[[], object]) -> Stage:
    """Run ``job`` once; its CPU here and in this connection's PostgreSQL backend, per item."""
    from django.db import connection

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    statements = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    pg_before, cpu_before, wall_before = backend_cpu(backend), time.process_time(), time.monotonic()
    with connection.execute_wrapper(count):
        job()
    cpu, wall = time.process_time() - cpu_before, time.monotonic() - wall_before
    pg = backend_cpu(backend) - pg_before
    return Stage(
        name, items, round(1000 * cpu / items, 2), round(1000 * pg / items, 2),
        round(statements / items, 1), round(1000 * wall / items, 2),
    )  # fmt: skip


def backend_cpu(pid: int) -> float:
    """Seconds a PostgreSQL backend has run on a CPU (the scheduler's own count, in ns)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


def per_alert_ms(stages: list[Stage], contacts: int) -> float:
    by_name = {stage.name: stage for stage in stages}
    one = by_name["intake"].app_cpu_ms + by_name["intake"].postgres_cpu_ms
    one += by_name["planning"].app_cpu_ms + by_name["planning"].postgres_cpu_ms
    mail = by_name["sending"].app_cpu_ms + by_name["sending"].postgres_cpu_ms
    return round(one + contacts * mail, 1)


def write_results(
    args: argparse.Namespace, machine: dict[str, Any], stages: list[Stage], per_alert: float,
    wall: float,
) -> None:  # fmt: skip
    document = {
        **intake.result_header("stages", wall, machine),
        "settings": {"alerts": args.alerts, "orgs": args.orgs, "contacts": args.contacts},
        "stages": [asdict(stage) for stage in stages],
        "cpu_ms_per_alert": per_alert,
        # For bench/report.py: a figure to read, not a target (design.md sets none for it).
        "checks": [
            {
                "kind": "capacity",
                "name": f"CPU per alert with {args.contacts} mails, each stage alone",
                "passed": True,
                "detail": f"{per_alert:g} ms: "
                + ", ".join(
                    f"{stage.name} {stage.app_cpu_ms:g} + {stage.postgres_cpu_ms:g}"
                    for stage in stages
                )
                + " ms per item (Python + PostgreSQL)",
            }
        ],
        "note": "each stage alone in one process; a webhook's gunicorn cost is in intake.json",
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    log(f"results written to {args.output}")


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
