"""Benchmark of the Mackerel sync against design.md's target: 70 organizations x 1,000 hosts.

What it does, all on loopback:

1. creates a dedicated PostgreSQL database, runs ``migrate`` there with production settings
   (DJANGO_DEBUG=false, throw-away secrets), and creates one customer and organization per
   simulated organization with its API key;
2. starts the Mackerel simulator as its own process (``python -m mackerel_sim --demo ...``): a
   demo world of N organizations x M hosts with every host status, memos, custom identifiers,
   IPv4 and IPv6 interfaces, agent metadata, services, roles and monitors;
3. syncs every organization (inventory, then alert reconciliation: what the
   ``alerts.tasks.sync_organization`` task does) from a pool of worker processes, as a Celery
   worker on the ``sync`` queue would, three times: the first sync (every host new), a sync with
   nothing changed (the steady state), and a sync after memos, statuses and retirements changed
   in the simulator;
4. checks that every run succeeded and that the mirror holds every host, and reports wall time,
   queries per host (every SQL statement the syncs sent, divided by the hosts synced), peak
   memory (resident set of the worker processes, and tracemalloc's peak for one organization's
   sync in this process);
5. prints a table, writes ``bench/results/sync.json``, and always stops the simulator and drops
   the database, even on Ctrl-C.

Run it with ``.venv/bin/python bench/sync.py --help``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import multiprocessing
import os
import platform
import random
import resource
import secrets
import shlex
import signal
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
HOST = "127.0.0.1"
TARGET_SECONDS = 60.0


def log(message: str) -> None:
    print(f"[bench/sync {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Interrupted(Exception):
    """SIGTERM or SIGHUP: clean up as for Ctrl-C."""


def _raise_interrupted(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signal.Signals(signum).name)


# --- Environment --------------------------------------------------------------------------------
def production_env(db_url: str, mackerel_url: str) -> dict[str, str]:
    """Production settings with throw-away secrets: DEBUG off, so Django keeps no query log
    (which would otherwise hold every statement and distort the memory figures)."""
    prefixes = ("DJANGO_", "TAIRYO_", "DATABASE_", "REDIS_", "MAILGUN_", "SENDGRID_", "CELERY_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
            "DJANGO_ALLOWED_HOSTS": HOST,
            "TAIRYO_BASE_URL": f"http://{HOST}:8000",
            "TAIRYO_FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "TAIRYO_ENV_FILE": "/nonexistent",  # a developer's .env must not change the figures
            "TAIRYO_LOG_LEVEL": "WARNING",  # one line per request to Mackerel is not the point
            "DATABASE_URL": db_url,
            "DATABASE_CONN_MAX_AGE": "600",
            # Nothing listens: wake-ups of the notification planner are dropped, as with Redis
            # away; the benchmark measures the sync, not the queue.
            "REDIS_URL": f"redis://{HOST}:9/0",
            "TAIRYO_EMAIL_PROVIDER": "mailgun",
            "MAILGUN_API_KEY": "bench-unused",
            "MAILGUN_SENDER_DOMAIN": "mg.bench.invalid",
            "MAILGUN_API_URL": f"http://{HOST}:9/v3",
            "ANYMAIL_WEBHOOK_SECRET": f"bench:{secrets.token_urlsafe(16)}",
            "MACKEREL_API_URL": mackerel_url,
        }
    )
    return env


def create_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@contextlib.contextmanager
def simulator(orgs: list[str], hosts: int, seed: int) -> Iterator[dict[str, Any]]:
    """The Mackerel simulator in its own process (its own interpreter, as Mackerel is remote)."""
    command = [
        str(VENV_PYTHON), "-m", "mackerel_sim", "--host", HOST, "--port", "0",
        "--seed", str(seed), "--hosts-per-org", str(hosts), "--demo", *orgs,
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the simulator exited with {process.wait()}")
        yield json.loads(line) | {"pid": process.pid}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- CPU accounting (Linux /proc) ---------------------------------------------------------------
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (every core) since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS


@dataclass
class CpuMeter:
    """CPU seconds spent during a phase, by who spent them."""

    simulator_pid: int
    postgres_pids: list[int]

    def read(self) -> dict[str, float]:
        return {
            "simulator": process_cpu(self.simulator_pid),
            "postgres": sum(process_cpu(pid) for pid in self.postgres_pids),
            "machine": machine_busy(),
        }


def postgres_backends(admin_url: str, db_name: str) -> list[int]:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [db_name])
        return [int(row[0]) for row in rows.fetchall()]


# --- The worker processes -----------------------------------------------------------------------
@dataclass
class OrgResult:
    """One organization's sync, as a worker process saw it."""

    org_id: int
    outcome: str
    error: str
    seconds: float
    cpu_seconds: float
    queries: int
    hosts: int
    counts: dict[str, int]
    worker_pid: int
    worker_max_rss_mb: float


def _worker_init(env: dict[str, str]) -> None:
    setup_django(env)
    from django.db import connection

    connection.ensure_connection()


def _sync_one(org_id: int) -> OrgResult:
    from django.db import connection

    from alerts import reconcile

    queries = 0

    def count(execute: Callable[..., Any], *args: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(*args)

    started, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(count):
        run = reconcile.sync_organization(org_id)
    seconds = time.perf_counter() - started
    assert run is not None
    return OrgResult(
        org_id=org_id,
        outcome=run.outcome,
        error=run.error_message,
        seconds=seconds,
        cpu_seconds=time.process_time() - cpu,
        queries=queries,
        hosts=run.host_count or 0,
        counts=dict(run.counts),
        worker_pid=os.getpid(),
        worker_max_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def _warm_up(_: int) -> int:
    time.sleep(0.2)  # every worker gets one, so every one has connected before the clock starts
    return os.getpid()


# --- Phases -------------------------------------------------------------------------------------
@dataclass
class Phase:
    """One sync of every organization."""

    name: str
    wall_seconds: float
    organizations: int
    hosts: int
    queries: int
    outcomes: dict[str, int]
    slowest_org_seconds: float
    median_org_seconds: float
    max_queries_per_org: int
    hosts_created: int
    hosts_updated: int
    hosts_retired: int
    worker_max_rss_mb: float
    # CPU seconds during the phase: the sync workers, the simulator, PostgreSQL's backends of the
    # bench database, the whole machine, and what is left: other processes on the machine.
    cpu_seconds: dict[str, float]

    @property
    def queries_per_host(self) -> float:
        return self.queries / self.hosts if self.hosts else 0.0

    @property
    def quiet_estimate_seconds(self) -> float:
        """The wall time on a machine with nothing else running: this benchmark's CPU spread
        over every core (a lower bound; the figure to compare across runs)."""
        ours = sum(self.cpu_seconds[k] for k in ("sync_workers", "simulator", "postgres"))
        return ours / (os.cpu_count() or 1)


def sync_all(
    pool: Any, name: str, org_ids: list[int], meter: CpuMeter
) -> tuple[Phase, list[OrgResult]]:
    log(f"{name}: syncing {len(org_ids)} organizations")
    before = meter.read()
    started = time.perf_counter()
    results: list[OrgResult] = list(pool.imap_unordered(_sync_one, org_ids))
    wall = time.perf_counter() - started
    after = meter.read()
    cpu = {key: round(after[key] - before[key], 2) for key in before}
    cpu["sync_workers"] = round(sum(result.cpu_seconds for result in results), 2)
    ours = cpu["sync_workers"] + cpu["simulator"] + cpu["postgres"]
    cpu["other"] = round(cpu["machine"] - ours, 2)
    outcomes: dict[str, int] = {}
    for result in results:
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    per_org = sorted(result.seconds for result in results)
    phase = Phase(
        name=name,
        wall_seconds=wall,
        organizations=len(results),
        hosts=sum(result.hosts for result in results),
        queries=sum(result.queries for result in results),
        outcomes=outcomes,
        slowest_org_seconds=per_org[-1],
        median_org_seconds=per_org[len(per_org) // 2],
        max_queries_per_org=max(result.queries for result in results),
        hosts_created=sum(r.counts.get("hosts_created", 0) for r in results),
        hosts_updated=sum(r.counts.get("hosts_updated", 0) for r in results),
        hosts_retired=sum(r.counts.get("hosts_retired", 0) for r in results),
        worker_max_rss_mb=max(result.worker_max_rss_mb for result in results),
        cpu_seconds=cpu,
    )
    log(f"{name}: {wall:.1f} s, {phase.queries_per_host:.4f} queries per host, {outcomes}")
    return phase, results


def change_the_world(url: str, orgs: list[dict[str, str]], per_org: int, seed: int) -> int:
    """Through the simulator's admin API: in each organization, ``per_org`` memos edited, as many
    statuses changed and a few hosts retired, as a day of operations would."""
    rng = random.Random(seed)
    changed = 0
    with httpx.Client(base_url=url, timeout=30) as client:
        for org in orgs:
            hosts = client.get("/api/v0/hosts", headers={"X-Api-Key": org["roKey"]}).json()["hosts"]
            picked = rng.sample(hosts, min(len(hosts), per_org * 2 + per_org // 4))
            base = f"/_sim/orgs/{org['name']}/hosts"
            for host in picked[:per_org]:
                client.post(f"{base}/{host['id']}/memo", json={"memo": f"変更 {rng.random():.6f}"})
            for host in picked[per_org : per_org * 2]:
                status = rng.choice(["working", "standby", "maintenance", "poweroff"])
                client.post(f"{base}/{host['id']}/status", json={"status": status})
            for host in picked[per_org * 2 :]:
                client.post(f"{base}/{host['id']}/retire", json={})
            changed += len(picked)
    return changed


def traced_sync(org_id: int) -> tuple[float, float]:
    """One organization's sync under tracemalloc: (peak MB of Python allocations, seconds)."""
    from alerts import reconcile

    tracemalloc.start()
    started = time.perf_counter()
    reconcile.sync_organization(org_id)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024 / 1024, seconds


# --- Report -------------------------------------------------------------------------------------
def table(phases: list[Phase], workers: int, traced_mb: float, main_rss_mb: float) -> str:
    lines = [
        f"{'phase':<12}{'wall s':>8}{'orgs':>6}{'hosts':>8}{'queries':>9}{'q/host':>9}"
        f"{'max q/org':>10}{'org s p50':>10}{'org s max':>10}{'new':>7}{'changed':>8}"
        f"{'retired':>8}{'RSS MB':>8}  {'CPU s sync/sim/pg/other':<24}{'quiet s':>8}"
    ]
    for p in phases:
        c = p.cpu_seconds
        cpu = f"{c['sync_workers']:.1f}/{c['simulator']:.1f}/{c['postgres']:.1f}/{c['other']:.1f}"
        lines.append(
            f"{p.name:<12}{p.wall_seconds:>8.1f}{p.organizations:>6}{p.hosts:>8}{p.queries:>9}"
            f"{p.queries_per_host:>9.4f}{p.max_queries_per_org:>10}{p.median_org_seconds:>10.2f}"
            f"{p.slowest_org_seconds:>10.2f}{p.hosts_created:>7}{p.hosts_updated:>8}"
            f"{p.hosts_retired:>8}{p.worker_max_rss_mb:>8.0f}  {cpu:<24}"
            f"{p.quiet_estimate_seconds:>8.1f}"
        )
    worker_rss = max(p.worker_max_rss_mb for p in phases)
    lines.append(
        f"{workers} worker processes; peak RSS of a worker {worker_rss:.0f} MB; tracemalloc peak "
        f"of one organization's sync {traced_mb:.1f} MB; this process {main_rss_mb:.0f} MB"
    )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    assert __doc__ is not None
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--orgs", type=int, default=70, help="organizations (70)")
    parser.add_argument("--hosts", type=int, default=1000, help="hosts per organization (1000)")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 2,
        help="worker processes syncing in parallel, like a sync-queue worker's concurrency "
        "(one per core: more only contend for the same cores)",
    )
    parser.add_argument(
        "--changes", type=int, default=10, help="memos and statuses changed per org"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--db-name", default="tairyo_bench_sync", help="database created and dropped"
    )
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "sync.json")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupted)
    signal.signal(signal.SIGHUP, _raise_interrupted)
    db_url = f"{args.pg_url.rsplit('/', 1)[0]}/{args.db_name}"
    try:
        create_database(args.pg_url, args.db_name)
        return run(args, db_url)
    except (KeyboardInterrupt, Interrupted) as exc:
        log(f"interrupted ({exc or 'Ctrl-C'}); cleaning up")
        return 130
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        with contextlib.suppress(Exception):
            drop_database(args.pg_url, args.db_name)
        log(f"cleaned up: database {args.db_name} dropped, simulator stopped")


def run(args: argparse.Namespace, db_url: str) -> int:
    load_at_start = os.getloadavg()
    names = [f"org{index:03d}" for index in range(1, args.orgs + 1)]
    log(f"building the simulated world: {args.orgs} organizations x {args.hosts} hosts")
    with simulator(names, args.hosts, args.seed) as world:
        env = production_env(db_url, world["url"])
        subprocess.run(
            [str(VENV_PYTHON), "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        setup_django(env)
        from accounts.models import Customer
        from orgs.models import Host, Organization, SyncRun

        org_ids = []
        for org in world["organizations"]:
            customer = Customer.objects.create(name=f"Customer of {org['name']}")
            tairyo_org = Organization(customer=customer, name=org["name"])
            tairyo_org.set_api_key(org["roKey"])
            tairyo_org.save()
            org_ids.append(tairyo_org.pk)
        from django.db import connections

        connections.close_all()
        context = multiprocessing.get_context("spawn")
        with context.Pool(args.workers, initializer=_worker_init, initargs=(env,)) as pool:
            pool.map(_warm_up, range(args.workers), chunksize=1)
            meter = CpuMeter(world["pid"], postgres_backends(args.pg_url, args.db_name))
            phases = []
            first, _ = sync_all(pool, "first", org_ids, meter)
            phases.append(first)
            phases.append(sync_all(pool, "unchanged", org_ids, meter)[0])
            changed = change_the_world(
                world["url"], world["organizations"], args.changes, args.seed
            )
            log(f"changed {changed} hosts in the simulator")
            phases.append(sync_all(pool, "changed", org_ids, meter)[0])
        traced_mb, traced_seconds = traced_sync(org_ids[0])
        mirrored = Host.objects.count()
        live = Host.objects.filter(is_retired=False).count()
        failed = SyncRun.objects.exclude(outcome=SyncRun.Outcome.SUCCESS).count()
    main_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(table(phases, args.workers, traced_mb, main_rss))
    met = first.wall_seconds < TARGET_SECONDS
    correct = failed == 0 and mirrored == args.orgs * args.hosts
    print(
        f"target: full sync of {args.orgs} x {args.hosts} hosts < {TARGET_SECONDS:.0f} s: "
        f"{'met' if met else 'MISSED'} ({first.wall_seconds:.1f} s); mirror {mirrored} hosts "
        f"({live} not retired), runs not successful: {failed}"
    )
    document = {
        "benchmark": "sync",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join([sys.executable, *sys.argv]),
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # Other processes share the cores: figures taken under load are not comparable.
            "load_average_at_start": load_at_start,
            "load_average_at_end": os.getloadavg(),
        },
        "settings": {
            "organizations": args.orgs,
            "hosts_per_organization": args.hosts,
            "worker_processes": args.workers,
            "changes_per_organization": args.changes,
            "seed": args.seed,
            "simulator": "python -m mackerel_sim --demo, own process",
        },
        "phases": [
            asdict(phase)
            | {
                "queries_per_host": phase.queries_per_host,
                "quiet_estimate_seconds": round(phase.quiet_estimate_seconds, 1),
            }
            for phase in phases
        ],
        "memory": {
            "worker_peak_rss_mb": max(phase.worker_max_rss_mb for phase in phases),
            "one_org_sync_tracemalloc_peak_mb": round(traced_mb, 2),
            "one_org_sync_traced_seconds": round(traced_seconds, 2),
            "bench_process_peak_rss_mb": round(main_rss, 1),
        },
        "checks": {
            "target_seconds": TARGET_SECONDS,
            "target_met": met,
            "hosts_mirrored": mirrored,
            "hosts_expected": args.orgs * args.hosts,
            "runs_not_successful": failed,
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    log(f"results written to {args.output}")
    if not correct:
        return 1
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
