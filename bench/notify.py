"""Benchmark of notification latency: from a Mackerel webhook to the mail provider, end to end.

What it does, all on loopback, with the processes production runs:

1. creates database ``tairyo_bench_notify`` and takes an empty Redis database (db 3), migrates,
   and creates the organizations of the run in bulk (one customer each, two contacts, one route
   telling both about every change), with production settings and throw-away secrets;
2. starts the mail provider simulator (``python -m mail_sim``) and points anymail's Mailgun
   backend at it; gunicorn; a Celery worker for the ``intake`` queue, another for ``notify`` and
   ``default``, a thread-pool worker for ``deliver`` (as docker-compose.yml runs them);
   ``celery beat``; and the Mackerel simulator in this process, whose webhook
   channels post real alert webhooks to gunicorn;
3. steady phase: 20 hosts/s go down across enough organizations that none reaches the storm
   digest threshold (a calm day: many customers, a few alerts each);
4. storm phase: design.md's outage, the simulator's ``network-outage`` scenario, 5,000 hosts of
   70 organizations down within 60 s;
5. after each phase waits for the pipeline to drain, then matches every mail the simulator
   received (``metadata["notification_id"]``) to the Notification rows and their case events:
   time from the webhook's receipt to the mail that first told each contact of each case
   (a digest tells every case it lists), lost and doubled mails;
6. prints one table, writes ``bench/results/notify.json``, and always stops every process,
   drops the database and flushes the Redis database, even on Ctrl-C.

Run it with ``make bench`` or ``.venv/bin/python bench/notify.py --help``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import math
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cpu_weights
import intake
import psycopg
import redis
import storm_plot
from intake import HOST, ROOT, VENV_BIN, Check, Setup, log, percentiles
from storm_plot import PairPoint

if TYPE_CHECKING:
    from mackerel_sim import Simulator

# bench/faults.py imports this module by name: run as a script, it must not be loaded twice.
sys.modules.setdefault("notify", sys.modules[__name__])

BENCH = ROOT / "bench"
# design.md "Targets".
TARGET_STEADY_P50_S = 2.0
TARGET_STEADY_P99_S = 5.0
TARGET_STORM_REQUEST_P99_MS = 200.0
TARGET_STORM_RECORDED_S = 60.0
TARGET_STORM_P95_S = 30.0
TARGET_STORM_MAX_S = 90.0
# portal/settings.py defaults, used to size the steady phase when no override is given.
DEFAULT_DIGEST_THRESHOLD = 5
DEFAULT_DIGEST_WINDOW_S = 120
DEFAULT_DIGEST_DELAY_S = 20
# Share of the simulator's demo hosts that are "working" (mackerel_sim/demo.py STATUS_WEIGHTS).
WORKING_SHARE = 0.85
# Notification statuses still on their way to the provider.
IN_FLIGHT = ("pending", "sending", "collecting")


# --- Organizations --------------------------------------------------------------------------------
def webhook_token(org: str) -> str:
    """The benchmark's webhook token of an organization (only its digest is stored)."""
    return f"bench-{org}-webhook-token"


# Runs in ``manage.py shell``: one customer per organization, its contacts, one route for every
# change of every case to all of them, all in a handful of bulk statements.
SETUP_ORGS = """
import json, os
from django.db import transaction
from accounts.models import Customer
from notifications.models import Contact, Route
from orgs.models import Organization
spec = json.loads(os.environ["BENCH_ORGS"])
with transaction.atomic():
    customers = Customer.objects.bulk_create(
        [Customer(name=f"Bench {name}") for name in spec["orgs"]]
    )
    orgs = []
    for name, customer in zip(spec["orgs"], customers):
        org = Organization(name=name, customer=customer, display_name=f"Bench {name}")
        org.set_webhook_token(f"bench-{name}-webhook-token")
        orgs.append(org)
    Organization.objects.bulk_create(orgs)
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                customer=customer,
                name=f"{org.name} contact {n}",
                email=f"c{n}@{org.name}.bench.invalid",
                language=("ja", "en")[n % 2],
            )
            for org, customer in zip(orgs, customers)
            for n in range(spec["contacts"])
        ]
    )
    triggers = [choice.value for choice in Route.Trigger]
    routes = Route.objects.bulk_create(
        [
            Route(customer=org.customer, organization=org, name="every case", triggers=triggers)
            for org in orgs
        ]
    )
    by_customer = {}
    for contact in contacts:
        by_customer.setdefault(contact.customer_id, []).append(contact)
    Route.contacts.through.objects.bulk_create(
        [
            Route.contacts.through(route_id=route.pk, contact_id=contact.pk)
            for route in routes
            for contact in by_customer[route.customer_id]
        ]
    )
print(len(orgs), len(contacts))
"""


def create_organizations(env: dict[str, str], orgs: list[str], contacts: int) -> None:
    """The organizations in the database, with tokens matching the simulator's channels."""
    spec = json.dumps({"orgs": orgs, "contacts": contacts})
    intake.manage({**env, "BENCH_ORGS": spec}, "shell", "-c", SETUP_ORGS)


# --- Processes ------------------------------------------------------------------------------------
def stop_group(process: subprocess.Popen[bytes], name: str) -> None:
    """SIGTERM (a warm shutdown for Celery), then SIGKILL the whole group if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            log(f"{name} did not stop in 20 s; killing its process group")
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


@contextlib.contextmanager
def background(
    name: str, command: list[str], env: dict[str, str], workdir: Path, ready: str | None
) -> Iterator[subprocess.Popen[bytes]]:
    """A process in a session of its own, logging to ``workdir/<name>.log``; waits until
    ``ready`` appears in its log (if given) and stops it however the block ends."""
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while ready is not None and ready not in log_path.read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
            yield process
        finally:
            stop_group(process, name)


def celery_worker(name: str, queues: str, concurrency: int, pool: str = "prefork") -> list[str]:
    """A Celery worker as docker-compose runs it, on some queues only, at its service's CPU
    weight (bench/cpu_weights.py) and with generic plans (docker-compose.yml's worker
    environment)."""
    service = "deliverer" if queues == "deliver" else "worker"
    return [
        *cpu_weights.command_prefix(service), "env", "DATABASE_GENERIC_PLANS=true",
        str(VENV_BIN / "celery"), "-A", "portal", "worker", f"--queues={queues}",
        f"--pool={pool}", f"--concurrency={concurrency}", f"--hostname={name}@bench",
        "--loglevel=INFO",
    ]  # fmt: skip


def mail_simulator_ready(port: int) -> None:
    """Wait until the mail simulator answers its health check."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, IndexError, ValueError):
            if intake.http_get(port, "/_sim/health")[0] == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("the mail simulator did not answer within 30 s")


def received_mails(port: int) -> list[tuple[int, datetime]]:
    """(notification id, received_at) of every message the mail simulator accepted."""
    with urllib.request.urlopen(f"http://{HOST}:{port}/_sim/messages", timeout=60) as response:  # noqa: S310
        document = json.loads(response.read())
    mails = []
    for message in document["messages"]:
        nid = (message.get("metadata") or {}).get("notification_id")
        if nid is not None:
            mails.append((int(nid), datetime.fromisoformat(message["received_at"])))
    return mails


# --- Machine load ---------------------------------------------------------------------------------
class LoadMeter:
    """CPU seconds by process group from /proc: each server process group of the run,
    PostgreSQL (this database's backends and the server's shared processes), Redis, this
    script (the Mackerel simulator's threads), and "other", the rest of the machine."""

    def __init__(self, groups: dict[str, int], db_name: str) -> None:
        self.by_pgid = {pgid: name for name, pgid in groups.items()}
        self.names = [*groups, "postgres", "redis", "bench (mackerel_sim)"]
        self.postgres = intake.CpuMeter(-1, db_name)
        self.tick = float(os.sysconf("SC_CLK_TCK"))

    def sample(self) -> intake.CpuSample:
        """CPU seconds so far: the machine's total and each group's."""
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields[:7])
        groups = dict.fromkeys(self.names, 0.0)
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            rest = stat[stat.rindex(")") + 2 :].split()
            used = (int(rest[11]) + int(rest[12])) / self.tick
            pgid = int(rest[2])
            if pgid in self.by_pgid:
                groups[self.by_pgid[pgid]] += used
            elif comm in {"postgres", "postmaster"}:
                if self.postgres._ours(entry):
                    groups["postgres"] += used
            elif comm == "redis-server":
                groups["redis"] += used
        own = resource.getrusage(resource.RUSAGE_SELF)
        groups["bench (mackerel_sim)"] = own.ru_utime + own.ru_stime
        return intake.CpuSample((user + nice + system + irq + softirq) / self.tick, groups)

    @staticmethod
    def cores(before: intake.CpuSample, after: intake.CpuSample, wall: float) -> dict[str, float]:
        """Average cores each group used between the samples, "other" being the rest."""
        spent = {name: max(0.0, after.groups[name] - before.groups[name]) for name in after.groups}
        spent["other"] = max(0.0, after.total - before.total - sum(spent.values()))
        spent["total"] = max(0.0, after.total - before.total)
        return {name: round(value / max(wall, 1e-9), 2) for name, value in spent.items()}


# --- Results --------------------------------------------------------------------------------------
@dataclass
class PhaseResult:
    """One phase's figures (times in seconds unless the name says ms)."""

    name: str
    orgs: int
    alert_webhooks: int
    seconds: float
    drained: bool
    drain_seconds: float
    requests_2xx: int
    request_statuses: dict[str, int]
    request_ms: dict[str, float]
    cases: int
    receipts_unprocessed: int
    record_lag_s: dict[str, float]
    all_recorded_after_s: float
    pairs_expected: int
    pairs_told: int
    pairs_told_by_digest: int
    time_to_provider_s: dict[str, float]
    time_to_provider_direct_s: dict[str, float]
    # The own-mail path split in two: case event written → Notification row (the planner),
    # Notification row → provider (the send queue and the send).
    planning_s: dict[str, float]
    sending_s: dict[str, float]
    mails: int
    case_mails: int
    digest_mails: int
    lost: int
    doubled: int
    lost_examples: list[str]
    doubled_examples: list[str]
    cpu_cores: dict[str, float] = field(default_factory=dict)
    cpu_cores_during_load: dict[str, float] = field(default_factory=dict)
    # Longest Celery queue seen (messages waiting in Redis), and the tasks the workers ran:
    # count, busy seconds, mean ms, from their logs.
    queue_max: dict[str, int] = field(default_factory=dict)
    tasks: dict[str, dict[str, float]] = field(default_factory=dict)
    load_average_end: list[float] = field(default_factory=list)
    # The part of request_ms spent in a gunicorn worker (the rest: waiting to be accepted).
    request_in_worker_ms: dict[str, float] = field(default_factory=dict)


def seconds(values: list[float]) -> dict[str, float]:
    """Percentiles of values in seconds, rounded to milliseconds."""
    return {name: round(value, 3) for name, value in percentiles(values).items()}


def phase_rows(setup: Setup, orgs: list[str]) -> tuple[list[Any], Any, Any, list[Any], list[Any]]:
    """What the database holds for these organizations: case events with their receipt time,
    (case count, last case), unprocessed receipts, route contacts, notifications."""
    with psycopg.connect(setup.db_url) as conn:
        events = conn.execute(
            """
            SELECT e.id, c.alert_id, c.organization_id, c.created_at,
                   coalesce(r.received_at, c.created_at), e.created_at
            FROM alerts_caseevent e JOIN alerts_case c ON c.id = e.case_id
            JOIN orgs_organization o ON o.id = c.organization_id
            LEFT JOIN alerts_webhookreceipt r ON r.id = e.receipt_id
            WHERE o.name = ANY(%s) AND e.applied
            """,
            (orgs,),
        ).fetchall()
        cases = conn.execute(
            """
            SELECT count(*), max(c.created_at) FROM alerts_case c
            JOIN orgs_organization o ON o.id = c.organization_id WHERE o.name = ANY(%s)
            """,
            (orgs,),
        ).fetchone()
        unprocessed = conn.execute(
            """
            SELECT count(*) FROM alerts_webhookreceipt r
            JOIN orgs_organization o ON o.id = r.organization_id
            WHERE o.name = ANY(%s) AND r.status <> 'processed'
            """,
            (orgs,),
        ).fetchone()
        route_contacts = conn.execute(
            """
            SELECT DISTINCT r.organization_id, rc.contact_id FROM notifications_route r
            JOIN notifications_route_contacts rc ON rc.route_id = r.id
            JOIN orgs_organization o ON o.id = r.organization_id
            WHERE o.name = ANY(%s) AND r.is_active
            """,
            (orgs,),
        ).fetchall()
        notifications = conn.execute(
            """
            SELECT n.id, n.kind, n.case_event_id, n.contact_id, n.status, n.digest_id,
                   n.created_at
            FROM notifications_notification n
            JOIN orgs_organization o ON o.id = n.organization_id WHERE o.name = ANY(%s)
            """,
            (orgs,),
        ).fetchall()
    return events, cases, unprocessed, route_contacts, notifications


def analyse(
    setup: Setup,
    *,
    name: str,
    orgs: list[str],
    deliveries: list[Any],
    mails: list[tuple[int, datetime]],
    started_at: float,
    points: list[PairPoint] | None = None,
) -> PhaseResult:
    """Match webhooks, receipts, cases, notifications and received mails of one phase;
    ``points``, if given, receives every told pair's arrival and time to provider (the plot)."""
    alert_deliveries = [d for d in deliveries if d.event == "alert"]
    statuses = Counter(str(d.status or d.error or "none") for d in alert_deliveries)
    ok = sum(1 for d in alert_deliveries if d.ok)
    events, cases, unprocessed, route_contacts, notifications = phase_rows(setup, orgs)
    contacts_of: dict[int, set[int]] = defaultdict(set)
    for org_id, contact_id in route_contacts:
        contacts_of[org_id].add(contact_id)
    mail_times: dict[int, list[datetime]] = defaultdict(list)
    for nid, at in mails:
        mail_times[nid].append(at)
    phase_ids = {row[0] for row in notifications}
    by_pair = {(row[2], row[3]): row for row in notifications if row[2] is not None}
    doubled_ids = [nid for nid in phase_ids if len(mail_times.get(nid, [])) > 1]
    doubled_examples = [
        f"notification {nid} received {len(mail_times[nid])}x" for nid in doubled_ids
    ]
    ttp: list[float] = []
    ttp_direct: list[float] = []
    planning: list[float] = []
    sending: list[float] = []
    lost_examples: list[str] = []
    expected = told = by_digest = lost = doubled_pairs = 0
    for event_id, alert_id, org_id, _created, received_at, event_at in events:
        for contact_id in sorted(contacts_of.get(org_id, ())):
            expected += 1
            row = by_pair.get((event_id, contact_id))
            mail_ids = [] if row is None else [row[0], *([row[5]] if row[5] else [])]
            times = sorted(at for nid in mail_ids for at in mail_times.get(nid, []))
            if not times:
                lost += 1
                if len(lost_examples) < 5:
                    status = "no notification" if row is None else f"status {row[4]}"
                    lost_examples.append(f"case {alert_id} contact {contact_id}: {status}")
                continue
            told += 1
            if sum(1 for nid in mail_ids if mail_times.get(nid)) > 1:
                doubled_pairs += 1  # told once on its own and once more in a digest
                if len(doubled_examples) < 5:
                    doubled_examples.append(f"case {alert_id} contact {contact_id}: {mail_ids}")
            delay = (times[0] - received_at).total_seconds()
            ttp.append(delay)
            if points is not None:
                in_digest = row is not None and bool(row[5])
                points.append(PairPoint(received_at.timestamp() - started_at, delay, in_digest))
            if row is not None and row[5]:
                by_digest += 1
            else:
                ttp_direct.append(delay)
                if row is not None:
                    planning.append((row[6] - event_at).total_seconds())
                    sending.append((times[0] - row[6]).total_seconds())
    requests_ms = [1000 * d.elapsed for d in alert_deliveries]
    record_lags = [(row[3] - row[4]).total_seconds() for row in events]
    last_case = cases[1] if cases else None
    kinds = Counter(row[1] for row in notifications if mail_times.get(row[0]))
    return PhaseResult(
        name=name,
        orgs=len(orgs),
        alert_webhooks=len(alert_deliveries),
        seconds=0.0,
        drained=False,
        drain_seconds=0.0,
        requests_2xx=ok,
        request_statuses=dict(statuses),
        request_ms={k: round(v, 1) for k, v in percentiles(requests_ms).items()},
        cases=int(cases[0]) if cases else 0,
        receipts_unprocessed=int(unprocessed[0]) if unprocessed else 0,
        record_lag_s=seconds(record_lags),
        all_recorded_after_s=round(last_case.timestamp() - started_at, 2) if last_case else 0.0,
        pairs_expected=expected,
        pairs_told=told,
        pairs_told_by_digest=by_digest,
        time_to_provider_s=seconds(ttp),
        time_to_provider_direct_s=seconds(ttp_direct),
        planning_s=seconds(planning),
        sending_s=seconds(sending),
        mails=sum(len(mail_times[nid]) for nid in phase_ids if nid in mail_times),
        case_mails=kinds.get("case", 0),
        digest_mails=kinds.get("digest", 0),
        lost=lost + max(0, ok - int(cases[0] if cases else 0)),
        doubled=len(doubled_ids) + doubled_pairs,
        lost_examples=lost_examples,
        doubled_examples=doubled_examples[:5],
    )


# --- Driving the simulator ------------------------------------------------------------------------
def build_simulator(
    seed: int, base_url: str, orgs: list[str], hosts_per_org: int, senders: int
) -> Simulator:
    """A Mackerel simulator with these organizations, each with a webhook channel to Tairyo."""
    from mackerel_sim import Simulator

    sim = Simulator(seed=seed, webhook_workers=senders, webhook_timeout=30.0)
    sim.build_demo(orgs, hosts_per_org=hosts_per_org, history=False)
    for org in orgs:
        sim.add_webhook_channel(org, f"{base_url}/hooks/mackerel/{webhook_token(org)}/")
    sim.clear_deliveries()
    return sim


def working_hosts(sim: Simulator, org: str) -> list[str]:
    """IDs of the organization's hosts whose going down opens a connectivity alert."""
    return [host["id"] for host in sim.hosts(org) if host["status"] == "working"]


def steady_load(sim: Simulator, orgs: list[str], rate: float, duration: float) -> float:
    """``rate`` hosts down per second, round-robin over the organizations, each at its due
    time (open loop); returns when the first was due (epoch seconds)."""
    pools = {org: working_hosts(sim, org) for org in orgs}
    count = int(rate * duration)
    start = time.monotonic() + 0.1
    started_at = time.time() + 0.1
    for index in range(count):
        due = start + index / rate
        if (delay := due - time.monotonic()) > 0:
            time.sleep(delay)
        org = orgs[index % len(orgs)]
        sim.host_down(org, pools[org][index // len(orgs)])
    return started_at


def backlog(setup: Setup, orgs: list[str]) -> int:
    """Receipts pending, timeline entries unplanned and notifications on their way, for these
    organizations."""
    with psycopg.connect(setup.db_url) as conn:
        row = conn.execute(
            """
            SELECT
              (SELECT count(*) FROM alerts_webhookreceipt r
               JOIN orgs_organization o ON o.id = r.organization_id
               WHERE o.name = ANY(%(orgs)s) AND r.status = 'pending'),
              (SELECT count(*) FROM alerts_caseevent e JOIN alerts_case c ON c.id = e.case_id
               JOIN orgs_organization o ON o.id = c.organization_id
               WHERE o.name = ANY(%(orgs)s) AND e.planned_at IS NULL),
              (SELECT count(*) FROM notifications_notification n
               JOIN orgs_organization o ON o.id = n.organization_id
               WHERE o.name = ANY(%(orgs)s) AND n.status = ANY(%(busy)s))
            """,
            {"orgs": orgs, "busy": list(IN_FLIGHT)},
        ).fetchone()
    return sum(row) if row else 1


def drained_at(setup: Setup, sim: Simulator, orgs: list[str], limit: float) -> float | None:
    """When the pipeline was first seen empty (epoch s), confirmed by a second look a second
    later: every webhook sent, nothing in ``backlog``. None if not within ``limit`` s."""
    deadline = time.monotonic() + limit
    first_quiet: float | None = None
    while time.monotonic() < deadline:
        sent = sim.wait_for_webhooks(timeout=1.0)
        busy = backlog(setup, orgs)
        checked_at = time.time()
        if sent and busy == 0:
            if first_quiet is not None:
                return first_quiet
            first_quiet = checked_at
        else:
            first_quiet = None
        time.sleep(1.0)
    return None


def wait_for_drain(setup: Setup, sim: Simulator, orgs: list[str], limit: float) -> bool:
    """Wait until the pipeline is empty (``drained_at``); False after ``limit`` s."""
    return drained_at(setup, sim, orgs, limit) is not None


class QueueWatch:
    """Samples the length of each Celery queue in Redis twice a second, keeping the maximum."""

    QUEUES = ("intake", "notify", "deliver", "default")

    def __init__(self, url: str) -> None:
        self.url = url
        self.maximum = dict.fromkeys(self.QUEUES, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        client = redis.Redis.from_url(self.url)
        try:
            while not self._stop.wait(0.5):
                for name in self.QUEUES:
                    self.maximum[name] = max(self.maximum[name], int(client.llen(name)))
        finally:
            client.close()

    def __enter__(self) -> QueueWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


TASK_LINE = re.compile(r"Task ([\w.]+)\[[^\]]+\] succeeded in ([0-9.]+)s")


def log_offsets(workdir: Path) -> dict[Path, int]:
    """Where each worker's log (and gunicorn's) ends now, to read a phase's lines only."""
    paths = [*workdir.glob("worker-*.log"), *workdir.glob("gunicorn.log")]
    return {path: path.stat().st_size for path in paths}


# An intake request in gunicorn's access log (bench/intake.py ACCESS_LOG_FORMAT): the worker's
# milliseconds are the last field.
INTAKE_ACCESS_LINE = re.compile(r'"POST /hooks/mackerel/[^"]*" \d+ .* (\d+)$')


def gunicorn_request_ms(offsets: dict[Path, int]) -> dict[str, float]:
    """Percentiles of the time gunicorn's workers spent on each webhook since ``offsets``."""
    times = []
    for path, offset in offsets.items():
        if path.name != "gunicorn.log":
            continue
        with path.open("rb") as handle:
            handle.seek(offset)
            for line in handle.read().decode(errors="replace").splitlines():
                if match := INTAKE_ACCESS_LINE.search(line):
                    times.append(float(match[1]))
    return {k: round(v, 1) for k, v in percentiles(times).items()} if times else {}


def task_stats(offsets: dict[Path, int]) -> dict[str, dict[str, float]]:
    """Tasks the workers finished since ``offsets``: count, busy seconds, mean milliseconds."""
    spent: dict[str, list[float]] = defaultdict(list)
    for path, offset in offsets.items():
        with path.open("rb") as handle:
            handle.seek(offset)
            for line in handle.read().decode(errors="replace").splitlines():
                if match := TASK_LINE.search(line):
                    spent[match[1].rsplit(".", 1)[-1]].append(float(match[2]))
    return {
        name: {
            "count": len(values),
            "busy_s": round(sum(values), 2),
            "mean_ms": round(1000 * statistics.fmean(values), 1),
            "max_ms": round(1000 * max(values), 1),
        }
        for name, values in sorted(spent.items())
    }


def run_phase(
    name: str,
    setup: Setup,
    *,
    sim: Simulator,
    orgs: list[str],
    meter: LoadMeter,
    mail_port: int,
    drain_limit: float,
    drive: Callable[[], float],
    points: list[PairPoint] | None = None,
) -> PhaseResult:
    """Drive one phase (``drive()`` returns when the load was started, epoch seconds), wait
    for the drain, and analyse it with the machine's load over the whole phase."""
    offsets = log_offsets(setup.workdir)
    before, wall_start = meter.sample(), time.monotonic()
    with QueueWatch(setup.redis_url) as queues:
        started_at = drive()
        load_done, at_load_done = time.monotonic(), meter.sample()
        log(f"{name}: load sent in {load_done - wall_start:.1f} s; waiting for the drain")
        drained = wait_for_drain(setup, sim, orgs, drain_limit)
    drain_s = time.monotonic() - load_done
    after, wall = meter.sample(), time.monotonic() - wall_start
    time.sleep(0.5)  # a mail accepted just now
    result = analyse(
        setup, name=name, orgs=orgs, deliveries=sim.deliveries(),
        mails=received_mails(mail_port), started_at=started_at, points=points,
    )  # fmt: skip
    result.seconds = round(load_done - wall_start, 2)
    result.drained = drained
    result.drain_seconds = round(drain_s, 1)
    result.cpu_cores = LoadMeter.cores(before, after, wall)
    result.cpu_cores_during_load = LoadMeter.cores(before, at_load_done, load_done - wall_start)
    result.load_average_end = [round(x, 2) for x in os.getloadavg()]
    result.queue_max = queues.maximum
    result.tasks = task_stats(offsets)
    result.request_in_worker_ms = gunicorn_request_ms(offsets)
    log(f"{name}: drained={drained} after {drain_s:.1f} s")
    return result


# --- Report ---------------------------------------------------------------------------------------
def checks(steady: PhaseResult | None, storm: PhaseResult | None) -> list[Check]:
    """Correctness (lost, doubled, webhooks without a case), then design.md's targets."""
    out: list[Check] = []
    for phase in (p for p in (steady, storm) if p is not None):
        out += [
            Check("correctness", f"{phase.name}: lost 0", phase.lost == 0,
                  f"lost {phase.lost} of {phase.pairs_expected} (case, contact) pairs"
                  + (f"; e.g. {phase.lost_examples}" if phase.lost_examples else "")),
            Check("correctness", f"{phase.name}: doubled 0", phase.doubled == 0,
                  f"doubled {phase.doubled}"
                  + (f"; e.g. {phase.doubled_examples}" if phase.doubled_examples else "")),
            Check("correctness", f"{phase.name}: drained", phase.drained,
                  f"pipeline idle {phase.drain_seconds} s after the load"),
            Check("target", f"{phase.name}: every request 2xx",
                  phase.requests_2xx == phase.alert_webhooks,
                  f"{phase.requests_2xx}/{phase.alert_webhooks}, {phase.request_statuses}"),
        ]  # fmt: skip
    if steady is not None:
        ttp = steady.time_to_provider_s
        out += [
            Check("target", "steady: time to provider p50 < 2 s",
                  ttp.get("p50", math.inf) < TARGET_STEADY_P50_S, f"p50 {ttp.get('p50')} s"),
            Check("target", "steady: time to provider p99 < 5 s",
                  ttp.get("p99", math.inf) < TARGET_STEADY_P99_S, f"p99 {ttp.get('p99')} s"),
        ]  # fmt: skip
    if storm is not None:
        ttp = storm.time_to_provider_s
        out += [
            Check("target", "storm: request p99 < 200 ms",
                  storm.request_ms.get("p99", math.inf) < TARGET_STORM_REQUEST_P99_MS,
                  f"p99 {storm.request_ms.get('p99')} ms"),
            Check("target", "storm: every case recorded within 60 s",
                  storm.record_lag_s.get("max", math.inf) <= TARGET_STORM_RECORDED_S
                  and storm.cases >= storm.requests_2xx,
                  f"{storm.cases} cases, worst receipt-to-case {storm.record_lag_s.get('max')} s,"
                  f" last case {storm.all_recorded_after_s} s after the first webhook"),
            Check("target", "storm: time to provider p95 <= 30 s",
                  ttp.get("p95", math.inf) <= TARGET_STORM_P95_S, f"p95 {ttp.get('p95')} s"),
            Check("target", "storm: time to provider max <= 90 s",
                  ttp.get("max", math.inf) <= TARGET_STORM_MAX_S, f"max {ttp.get('max')} s"),
        ]  # fmt: skip
    return out


def table(phases: list[PhaseResult], outcome: list[Check], settings: dict[str, Any]) -> str:
    """The run as one plain-text table, then the checks."""

    def pct(values: dict[str, float], unit: str = "") -> str:
        if not values:
            return "-"
        return " / ".join(f"{values[k]:g}" for k in ("p50", "p95", "p99", "max")) + unit

    rows: list[tuple[str, ...]] = [
        ("", *(p.name for p in phases)),
        ("organizations", *(str(p.orgs) for p in phases)),
        ("alert webhooks sent / s", *(f"{p.alert_webhooks} / {p.seconds:g}" for p in phases)),
        ("answered 2xx", *(str(p.requests_2xx) for p in phases)),
        ("request ms p50/p95/p99/max", *(pct(p.request_ms) for p in phases)),
        ("  of which in a gunicorn worker ms", *(pct(p.request_in_worker_ms) for p in phases)),
        ("cases recorded", *(str(p.cases) for p in phases)),
        ("receipt→case s p50/p95/p99/max", *(pct(p.record_lag_s) for p in phases)),
        ("last case after first webhook s", *(f"{p.all_recorded_after_s:g}" for p in phases)),
        ("(case, contact) told / expected",
         *(f"{p.pairs_told} / {p.pairs_expected}" for p in phases)),
        ("  of which in a digest", *(str(p.pairs_told_by_digest) for p in phases)),
        ("time to provider s p50/p95/p99/max", *(pct(p.time_to_provider_s) for p in phases)),
        ("  own mail only s", *(pct(p.time_to_provider_direct_s) for p in phases)),
        ("    event → row (planner) s", *(pct(p.planning_s) for p in phases)),
        ("    row → provider (send) s", *(pct(p.sending_s) for p in phases)),
        ("mails (case + digest)",
         *(f"{p.mails} ({p.case_mails} + {p.digest_mails})" for p in phases)),
        ("lost / doubled", *(f"{p.lost} / {p.doubled}" for p in phases)),
        ("drained after s", *(f"{p.drain_seconds:g}" for p in phases)),
    ]  # fmt: skip
    groups = sorted({name for p in phases for name in p.cpu_cores}, key=lambda n: n == "total")
    rows.append(("CPU cores used: load / +drain", *("" for _ in phases)))
    for name in groups:
        rows.append((f"  {name}", *(
            f"{p.cpu_cores_during_load.get(name, 0):.2f} / {p.cpu_cores.get(name, 0):.2f}"
            for p in phases)))  # fmt: skip
    rows.append(("load average at end", *(str(p.load_average_end) for p in phases)))
    rows.append(
        (
            "longest queue intake/notify/deliver",
            *(
                "{} / {} / {}".format(
                    *(p.queue_max.get(q, 0) for q in ("intake", "notify", "deliver"))
                )
                for p in phases
            ),
        )
    )
    for task in sorted({t for p in phases for t in p.tasks}):
        rows.append(
            (
                f"  {task}: n, busy s, mean ms",
                *(
                    "{count:g}, {busy_s:g}, {mean_ms:g}".format(**p.tasks[task])
                    if task in p.tasks
                    else "-"
                    for p in phases
                ),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "Notification latency (webhook receipt → mail simulator): "
        + ", ".join(f"{k} {v}" for k, v in settings.items()),
        "",
    ]
    for row in rows:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    lines.append("")
    for check in outcome:
        mark = "ok  " if check.passed else "FAIL"
        lines.append(f"{mark} [{check.kind}] {check.name}: {check.detail}")
    return "\n".join(lines)


# --- Command line ---------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line flags; the defaults keep a run under about six minutes."""
    cores = len(os.sched_getaffinity(0))
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="10 s steady, 1,000 webhooks in 20 s for the storm (~3 min)",
    )
    parser.add_argument("--steady-seconds", type=float, default=None, help="steady phase (30)")
    parser.add_argument("--steady-rate", type=float, default=20, help="alerts/s, steady (20)")
    parser.add_argument("--storm-webhooks", type=int, default=None, help="storm alerts (5000)")
    parser.add_argument(
        "--storm-seconds",
        type=float,
        default=None,
        help="the storm's alerts open within this many seconds (60)",
    )
    parser.add_argument("--storm-orgs", type=int, default=70, help="storm organizations (70)")
    parser.add_argument(
        "--hosts-per-org",
        type=int,
        default=100,
        help="simulated hosts per storm organization (100; 85%% working)",
    )
    parser.add_argument("--contacts", type=int, default=2, help="contacts per organization (2)")
    parser.add_argument("--skip-steady", action="store_true", help="storm phase only")
    parser.add_argument("--skip-storm", action="store_true", help="steady phase only")
    parser.add_argument(
        "--digest-window",
        type=int,
        default=None,
        metavar="SECONDS",
        help="TAIRYO_DIGEST_WINDOW_SECONDS (default: the application's, 120)",
    )
    parser.add_argument(
        "--digest-delay",
        type=int,
        default=None,
        metavar="SECONDS",
        help="TAIRYO_DIGEST_DELAY_SECONDS (default: the application's, 20)",
    )
    parser.add_argument(
        "--digest-threshold",
        type=int,
        default=None,
        help="TAIRYO_DIGEST_THRESHOLD (default: the application's, 5)",
    )
    parser.add_argument(
        "--web-workers",
        type=int,
        default=2 * cores,
        help=f"gunicorn sync workers (2 x cores = {2 * cores})",
    )
    parser.add_argument(
        "--intake-concurrency",
        type=int,
        default=2,
        help="prefork processes of the intake worker (2)",
    )
    parser.add_argument(
        "--notify-concurrency",
        type=int,
        default=2,
        help="prefork processes of the notify+default worker (2)",
    )
    parser.add_argument(
        "--deliver-concurrency",
        type=int,
        default=16,
        help="threads of the deliver worker (16, as docker-compose.yml)",
    )
    parser.add_argument(
        "--senders",
        type=int,
        default=16,
        help="the Mackerel simulator's concurrent webhook senders (16)",
    )
    parser.add_argument(
        "--drain-limit",
        type=float,
        default=240,
        help="give up waiting for the pipeline to drain after this (240 s)",
    )
    parser.add_argument("--seed", type=int, default=7, help="simulator seed (7)")
    parser.add_argument(
        "--db-name",
        default="tairyo_bench_notify",
        help="database created and dropped (tairyo_bench_notify)",
    )
    parser.add_argument(
        "--pg-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL superuser connection used to create the bench database",
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/3",
        help="Redis database for this benchmark alone: must be empty (db 3)",
    )
    parser.add_argument(
        "--output", type=Path, default=BENCH / "results" / "notify.json", help="JSON results"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="wait up to this long for other processes to leave the CPU idle",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed, too")
    parser.add_argument(
        "--plot",
        type=Path,
        default=BENCH / "results" / "notify-storm.png",
        metavar="PATH",
        help="PNG of time to provider over the storm (bench/results/notify-storm.png)",
    )
    parser.add_argument("--no-plot", dest="plot", action="store_const", const=None,
                        help="draw no plot")  # fmt: skip
    import faults

    faults.add_arguments(parser)
    args = parser.parse_args(argv)  # fmt: skip
    quick = args.quick
    if args.steady_seconds is None:
        args.steady_seconds = 10.0 if quick else 30.0
    if args.storm_webhooks is None:
        args.storm_webhooks = 1000 if quick else 5000
    if args.storm_seconds is None:
        args.storm_seconds = 20.0 if quick else 60.0
    for name in ("pg_url", "redis_url"):
        host = getattr(args, name).split("://", 1)[1].split("@")[-1].split(":")[0].split("/")[0]
        if host not in {"127.0.0.1", "localhost", "::1", "[::1]"}:
            parser.error(f"--{name.replace('_', '-')} must point at loopback, not {host}")
    if args.storm_webhooks > args.storm_orgs * args.hosts_per_org * 0.8:
        parser.error("not enough working hosts: raise --hosts-per-org")
    faults.check_arguments(parser, args)
    return args


def steady_orgs(args: argparse.Namespace) -> tuple[list[str], int]:
    """Enough organizations that none reaches the digest threshold in the steady phase, and
    the simulated hosts each needs: a calm day across many customers."""
    threshold = args.digest_threshold or DEFAULT_DIGEST_THRESHOLD
    window = args.digest_window or DEFAULT_DIGEST_WINDOW_S
    alerts = int(args.steady_rate * args.steady_seconds)
    count = max(1, math.ceil(args.steady_rate * min(args.steady_seconds, window) / threshold))
    per_org = math.ceil(alerts / count)
    return [f"steady{n:03d}" for n in range(1, count + 1)], 2 * per_org + 6


def main(argv: Sequence[str] | None = None) -> int:
    """Set up, measure, report, and clean up whatever happens."""
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))  # mackerel_sim
    signal.signal(signal.SIGTERM, intake._raise_interrupted)
    signal.signal(signal.SIGHUP, intake._raise_interrupted)
    started = time.monotonic()
    if args.fault:  # each fault in a storm of its own, on private servers (bench/faults.py)
        import faults

        return faults.main(args, started)
    with tempfile.TemporaryDirectory(prefix="tairyo-bench-notify-") as tmp:
        setup = Setup(
            db_name=args.db_name,
            pg_admin_url=args.pg_url,
            redis_url=args.redis_url,
            port=intake.free_port(),
            workers=args.web_workers,
            workdir=Path(tmp),
        )
        return intake.run_guarded(setup, lambda: run(args, setup, started))


def bench_env(args: argparse.Namespace, setup: Setup, mail_port: int) -> dict[str, str]:
    """intake.py's production environment, with anymail's Mailgun backend pointed at the mail
    simulator and the digest settings of the command line, if any."""
    env = intake.production_env(setup, conn_max_age=600)
    env.update(
        {
            "MAILGUN_API_KEY": "bench-mail-key",
            "MAILGUN_API_URL": f"http://{HOST}:{mail_port}/v3",
            "MAILGUN_WEBHOOK_SIGNING_KEY": base64.b16encode(os.urandom(16)).decode(),
        }
    )
    if args.digest_window is not None:
        env["TAIRYO_DIGEST_WINDOW_SECONDS"] = str(args.digest_window)
    if args.digest_threshold is not None:
        env["TAIRYO_DIGEST_THRESHOLD"] = str(args.digest_threshold)
    if args.digest_delay is not None:
        env["TAIRYO_DIGEST_DELAY_SECONDS"] = str(args.digest_delay)
    return env


def machine_when_quiet(args: argparse.Namespace, setup: Setup) -> dict[str, Any]:
    """Machine information, having waited (if asked) for other processes to leave the CPU."""
    machine = intake.machine_info(setup, packages=("django-anymail",))
    deadline = time.monotonic() + args.wait_quiet
    while (
        busy := intake.other_cpu_load(db_name=setup.db_name)
    ) > intake.QUIET_CORES and time.monotonic() < deadline:
        log(f"waiting for a quiet machine: {busy} cores busy with other processes")
    machine["other_cpu_cores_at_start"] = busy
    if busy > intake.QUIET_CORES:
        log(f"warning: {busy} cores busy with other processes")
    return machine


def start_servers(
    stack: contextlib.ExitStack, args: argparse.Namespace, setup: Setup, env: dict[str, str],
    mail_port: int,
) -> LoadMeter:  # fmt: skip
    """The mail simulator, gunicorn, the Celery workers and beat, stopped with ``stack``;
    a meter of the CPU each uses."""
    python = str(VENV_BIN / "python")
    mail_cmd = [python, "-m", "mail_sim", "--port", str(mail_port), "--any-key", "--quiet"]
    beat_cmd = [str(VENV_BIN / "celery"), "-A", "portal", "beat", "--loglevel=INFO",
                f"--schedule={setup.workdir / 'celerybeat-schedule'}"]  # fmt: skip
    mail = stack.enter_context(background("mail_sim", mail_cmd, env, setup.workdir, None))
    mail_simulator_ready(mail_port)
    web = stack.enter_context(intake.gunicorn(setup, env, access_log=True))
    intake_worker = stack.enter_context(
        background("worker-intake", celery_worker("intake", "intake", args.intake_concurrency),
                   env, setup.workdir, " ready.")
    )  # fmt: skip
    notify_worker = stack.enter_context(
        background("worker-notify",
                   celery_worker("notify", "notify,default", args.notify_concurrency),
                   env, setup.workdir, " ready.")
    )  # fmt: skip
    deliver_worker = stack.enter_context(
        background("worker-deliver",
                   celery_worker("deliver", "deliver", args.deliver_concurrency, pool="threads"),
                   env, setup.workdir, " ready.")
    )  # fmt: skip
    beat = stack.enter_context(background("beat", beat_cmd, env, setup.workdir, None))
    log(
        f"gunicorn {setup.workers} workers on {setup.base_url}; celery intake "
        f"-c {args.intake_concurrency}, notify+default -c {args.notify_concurrency}, deliver "
        f"threads {args.deliver_concurrency}; beat; mail_sim on :{mail_port}"
    )
    groups = {
        "gunicorn": web.pid,
        "celery intake": intake_worker.pid,
        "celery notify": notify_worker.pid,
        "celery deliver": deliver_worker.pid,
        "celery beat": beat.pid,
        "mail_sim": mail.pid,
    }
    return LoadMeter(groups, setup.db_name)


def steady_phase(
    args: argparse.Namespace, setup: Setup, meter: LoadMeter, mail_port: int
) -> PhaseResult:
    """20 alerts/s spread over enough organizations that nobody gets a digest."""
    calm, calm_hosts = steady_orgs(args)
    sim = build_simulator(args.seed, setup.base_url, calm, calm_hosts, args.senders)
    try:
        short = [org for org in calm if len(working_hosts(sim, org)) < calm_hosts // 2 - 3]
        if short:
            raise RuntimeError(f"too few working hosts in {short[:3]}")
        log(f"steady: {args.steady_rate:g} alerts/s for {args.steady_seconds:g} s "
            f"over {len(calm)} organizations")  # fmt: skip

        def drive() -> float:
            return steady_load(sim, calm, args.steady_rate, args.steady_seconds)

        return run_phase(
            "steady", setup, sim=sim, orgs=calm, meter=meter, mail_port=mail_port,
            drain_limit=args.drain_limit, drive=drive,
        )  # fmt: skip
    finally:
        sim.close()


def storm_phase(
    args: argparse.Namespace,
    setup: Setup,
    meter: LoadMeter,
    mail_port: int,
    points: list[PairPoint] | None = None,
) -> PhaseResult:
    """design.md's outage: the simulator's network-outage scenario over the storm orgs."""
    storm = storm_orgs(args)
    sim = build_simulator(args.seed + 1, setup.base_url, storm, args.hosts_per_org, args.senders)
    try:
        log(f"storm: network-outage, {args.storm_webhooks} hosts of {len(storm)} "
            f"organizations within {args.storm_seconds:g} s")  # fmt: skip

        def drive() -> float:
            started_at = time.time()
            run = sim.run_scenario(
                "network-outage", hosts=args.storm_webhooks, within=args.storm_seconds,
                down_for=3600,
            )  # fmt: skip
            # The plan brings every host back an hour later: stop once the last one went down.
            outages = sum(1 for step in run.plan if step.at < 3600)
            while run.applied < outages and not run.done:
                time.sleep(0.2)
            run.stop()
            return started_at

        return run_phase(
            "storm", setup, sim=sim, orgs=storm, meter=meter, mail_port=mail_port,
            drain_limit=args.drain_limit, drive=drive, points=points,
        )  # fmt: skip
    finally:
        sim.close()


def storm_orgs(args: argparse.Namespace) -> list[str]:
    """The storm's organizations, org001 to org070."""
    return [f"org{n:03d}" for n in range(1, args.storm_orgs + 1)]


def run(args: argparse.Namespace, setup: Setup, started: float) -> int:
    """The benchmark proper; ``main`` owns the cleanup."""
    mail_port = intake.free_port()
    env = bench_env(args, setup, mail_port)
    calm, storm = steady_orgs(args)[0], storm_orgs(args)
    log(f"database {setup.db_name}: create, migrate, {len(calm)} + {len(storm)} organizations")
    intake.create_database(setup)
    intake.manage(env, "migrate", "--noinput", "-v", "0")
    create_organizations(env, calm + storm, args.contacts)
    machine = machine_when_quiet(args, setup)
    phases: list[PhaseResult] = []
    storm_points: list[PairPoint] = []
    with contextlib.ExitStack() as stack:
        meter = start_servers(stack, args, setup, env, mail_port)
        if not args.skip_steady:
            phases.append(steady_phase(args, setup, meter, mail_port))
        if not args.skip_storm:
            phases.append(storm_phase(args, setup, meter, mail_port, storm_points))
            if args.plot is not None:
                storm_plot.plot_time_to_provider(
                    storm_points, args.plot, title=f"Storm: {args.storm_webhooks} alerts "
                    f"in {args.storm_seconds:g} s, {args.storm_orgs} organizations",
                )  # fmt: skip
    settings = {
        "digest threshold": args.digest_threshold or f"{DEFAULT_DIGEST_THRESHOLD} (default)",
        "digest window": f"{args.digest_window or DEFAULT_DIGEST_WINDOW_S} s"
        + ("" if args.digest_window else " (default)"),
        "digest delay": f"{args.digest_delay or DEFAULT_DIGEST_DELAY_S} s"
        + ("" if args.digest_delay else " (default)"),
        "cores": machine["nproc"],
    }
    by_name = {p.name: p for p in phases}
    outcome = checks(by_name.get("steady"), by_name.get("storm"))
    print(table(phases, outcome, settings))
    write_results(
        args, setup, machine=machine, phases=phases, outcome=outcome,
        wall=time.monotonic() - started,
    )  # fmt: skip
    if not all(check.passed for check in outcome if check.kind == "correctness"):
        return 1
    return 1 if args.strict and not all(check.passed for check in outcome) else 0


def write_results(
    args: argparse.Namespace,
    setup: Setup,
    *,
    machine: dict[str, Any],
    phases: list[PhaseResult],
    outcome: list[Check],
    wall: float,
) -> None:
    """bench/results/notify.json: machine, command, settings and every figure."""
    document = {
        **intake.result_header("notify", wall, machine),
        "processes": {
            "gunicorn_workers": setup.workers,
            "cpu_weights": cpu_weights.describe(),
            "celery_generic_plans": True,
            "celery_intake": {"queues": "intake", "concurrency": args.intake_concurrency},
            "celery_notify": {"queues": "notify,default", "concurrency": args.notify_concurrency},
            "celery_deliver": {
                "queues": "deliver",
                "pool": "threads",
                "concurrency": args.deliver_concurrency,
            },  # fmt: skip
            "celery_beat": True,
            "mail_provider": "mail_sim (Mailgun API), separate process",
            "mackerel": f"mackerel_sim in the bench process, {args.senders} webhook senders",
        },
        "settings": {
            "digest_threshold": args.digest_threshold or DEFAULT_DIGEST_THRESHOLD,
            "digest_window_seconds": args.digest_window or DEFAULT_DIGEST_WINDOW_S,
            "digest_delay_seconds": args.digest_delay or DEFAULT_DIGEST_DELAY_S,
            "steady_rate": args.steady_rate,
            "steady_seconds": args.steady_seconds,
            "storm_webhooks": args.storm_webhooks,
            "storm_seconds": args.storm_seconds,
            "storm_orgs": args.storm_orgs,
            "contacts_per_org": args.contacts,
        },
        "phases": [asdict(phase) for phase in phases],
        "checks": [asdict(check) for check in outcome],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    log(f"results written to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
