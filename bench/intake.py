"""Benchmark of the webhook intake (`POST /hooks/mackerel/<token>/`) against design.md's targets.

What it does, all on loopback:

1. creates a dedicated PostgreSQL database and takes an empty Redis database, then runs
   ``migrate`` and ``seed_demo`` there with production settings (DJANGO_DEBUG=false, throw-away
   secrets);
2. starts gunicorn (sync workers, persistent database connections) on a free port;
3. saturates ``GET /livez`` (the trivial baseline) and the intake with wrk at the same concurrency,
   every request a new alert of one of the demo organizations, and checks that every intake answer
   was 2xx and that every receipt it acknowledged is in the database;
4. drives the intake at fixed rates with an open-loop generator (latency measured from the moment
   each request was due, so a slow server cannot hide its queueing) and reports percentiles;
5. prints one table, writes ``bench/results/intake.json``, and always stops gunicorn, drops the
   database and flushes the Redis database, even on Ctrl-C.

Run it with ``make bench`` or ``.venv/bin/python bench/intake.py --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import json
import math
import os
import platform
import resource
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

import cpu_weights
import psycopg
import redis
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV_BIN = ROOT / ".venv" / "bin"
WRK_SCRIPT = BENCH / "intake.lua"
HOST = "127.0.0.1"

# design.md "Targets": intake >= 400/s and >= 60% of a trivial view; p99 < 50 ms at 150/s.
TARGET_RPS = 400.0
TARGET_RATIO = 0.60
TARGET_P99_MS = 50.0
TARGET_P99_RATE = 150.0
# Marks a Redis database as the benchmark's, so that a run killed before its clean-up does not
# block the next one, while anybody else's database is never flushed.
BENCH_MARKER = "tairyo:bench:owner"
# Other processes using less than this many cores leave the figures essentially unaffected.
QUIET_CORES = 0.2


# --- Results --------------------------------------------------------------------------------------
@dataclass
class Throughput:
    """One saturated wrk run against one endpoint."""

    endpoint: str
    requests: int
    seconds: float
    ok: int
    other_statuses: dict[str, int]
    socket_errors: dict[str, int]
    latency_ms: dict[str, float]
    # CPU milliseconds per request by who spent them (see CpuMeter).
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)
    # Filled for the intake only: what the database and Redis saw during the run.
    receipts_added: int | None = None
    acknowledged_receipts_found: int | None = None
    db_connections: int | None = None
    redis_commands_per_request: dict[str, float] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        """Completed requests per second over the measured window."""
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Latency:
    """One fixed-rate, open-loop run against the intake."""

    rate: float
    seconds: float
    sent: int
    ok: int
    statuses: dict[str, int]
    errors: dict[str, int]
    latency_ms: dict[str, float]
    achieved_rps: float
    max_schedule_lag_ms: float
    generator_cpu_percent: float
    receipts_added: int
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)


@dataclass
class Check:
    """A pass/fail line of the summary.

    ``kind`` is "correctness" (a lost or doubled webhook, an error answer: the run fails),
    "target" (design.md's figures) or "capacity" (a fixed rate the server could not keep up
    with: timeouts are the expected symptom of overload, not a bug).
    """

    kind: str
    name: str
    passed: bool
    detail: str


# --- Small helpers --------------------------------------------------------------------------------
def log(message: str) -> None:
    """Progress on stderr, so stdout carries only the table."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """Nearest-rank p50/p90/p95/p99/max of ``values`` (milliseconds)."""
    if not values:
        return {}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]

    return {
        "p50": rank(50),
        "p90": rank(90),
        "p95": rank(95),
        "p99": rank(99),
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


def free_port() -> int:
    """A loopback port nobody listens on now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class CpuSample:
    """CPU seconds used so far: the whole machine, and the parts this benchmark runs."""

    total: float
    groups: dict[str, float]


class CpuMeter:
    """Who used the CPU during a phase, from /proc: gunicorn, PostgreSQL, Redis, the load
    generator, and everything else on the machine.

    The machine is shared, so "other" is reported too: figures taken while something else
    was busy are pessimistic, and the table says so.
    """

    def __init__(self, gunicorn_pgid: int, db_name: str = "") -> None:
        self.gunicorn_pgid = gunicorn_pgid
        self.db_name = db_name
        self.tick = float(os.sysconf("SC_CLK_TCK"))

    def _ours(self, entry: Path) -> bool:
        """A PostgreSQL process working for this benchmark: a backend of its database, or one
        of the server's shared processes (WAL writer, checkpointer...); other databases'
        backends (someone's test run) are someone else's."""
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return False
        # Backends are titled "postgres: 15/main: <user> <database> <client> <state>".
        words = title.split()
        is_backend = len(words) >= 5 and words[0] == "postgres:" and "(" in title
        return not is_backend or words[3] == self.db_name

    def sample(self) -> CpuSample:
        """CPU seconds so far per group; "load" is this script plus its finished children (wrk)."""
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields[:7])
        groups = {"gunicorn": 0.0, "postgres": 0.0, "redis": 0.0}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # the process ended meanwhile
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            rest = stat[stat.rindex(")") + 2 :].split()
            used = (int(rest[11]) + int(rest[12])) / self.tick
            if int(rest[2]) == self.gunicorn_pgid:
                groups["gunicorn"] += used
            elif comm in {"postgres", "postmaster"}:
                if self._ours(entry):
                    groups["postgres"] += used
            elif comm == "redis-server":
                groups["redis"] += used
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        # gunicorn is a child too, but only counts in RUSAGE_CHILDREN once reaped, at the end.
        groups["load generator"] = own.ru_utime + own.ru_stime + children.ru_utime
        groups["load generator"] += children.ru_stime
        return CpuSample((user + nice + system + irq + softirq) / self.tick, groups)

    @staticmethod
    def per_request(before: CpuSample, after: CpuSample, requests: int) -> dict[str, float]:
        """CPU milliseconds per request by group, "other" being the rest of the machine."""
        # max(0, ...): a process that exited between the samples (a short-lived connection's
        # backend) takes its CPU time with it; better a zero than a negative figure.
        spent = {name: max(0.0, after.groups[name] - before.groups[name]) for name in after.groups}
        spent["other"] = max(0.0, after.total - before.total - sum(spent.values()))
        return {name: round(1000 * value / max(1, requests), 3) for name, value in spent.items()}


def other_cpu_load(gunicorn_pgid: int = -1, db_name: str = "", seconds: float = 1.0) -> float:
    """Cores busy with processes that are not part of the benchmark, over ``seconds``."""
    meter = CpuMeter(gunicorn_pgid, db_name)
    before = meter.sample()
    time.sleep(seconds)
    after = meter.sample()
    return round(CpuMeter.per_request(before, after, 1)["other"] / 1000 / seconds, 2)


class Interrupted(Exception):
    """SIGTERM or SIGHUP arrived; raised so that the ``finally`` blocks clean up."""


def _raise_interrupted(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signal.Signals(signum).name)


# --- Environment and services ---------------------------------------------------------------------
@dataclass
class Setup:
    """Where everything lives for this run."""

    db_name: str
    pg_admin_url: str
    redis_url: str
    port: int
    workers: int
    workdir: Path

    @property
    def db_url(self) -> str:
        """The bench database, as Django's DATABASE_URL."""
        base = self.pg_admin_url.rsplit("/", 1)[0]
        return f"{base}/{self.db_name}"

    @property
    def base_url(self) -> str:
        """The gunicorn under test."""
        return f"http://{HOST}:{self.port}"


def production_env(setup: Setup, conn_max_age: int) -> dict[str, str]:
    """Production settings with throw-away secrets; none of the developer's own variables leak in.

    Mirrors portal/tests/test_settings.py: DJANGO_DEBUG=false needs every secret, hosts and a
    mail provider (console is refused in production, so mailgun with values nothing ever uses).
    """
    prefixes = ("DJANGO_", "TAIRYO_", "DATABASE_", "REDIS_", "MAILGUN_", "SENDGRID_", "CELERY_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    env.update(
        {
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
            "DJANGO_ALLOWED_HOSTS": HOST,
            # Plain HTTP on loopback: no TLS proxy in front, so no redirect to https.
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "TAIRYO_BASE_URL": setup.base_url,
            "TAIRYO_FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "TAIRYO_ENV_FILE": "/nonexistent",  # a developer's .env must not change the figures
            "DATABASE_URL": setup.db_url,
            "DATABASE_CONN_MAX_AGE": str(conn_max_age),
            "REDIS_URL": setup.redis_url,
            "TAIRYO_EMAIL_PROVIDER": "mailgun",
            "MAILGUN_API_KEY": "bench-unused",
            "MAILGUN_SENDER_DOMAIN": "mg.bench.invalid",
            "MAILGUN_API_URL": f"http://{HOST}:9/v3",  # never called; loopback if it were
            "MACKEREL_API_URL": f"http://{HOST}:9",
            "ANYMAIL_WEBHOOK_SECRET": f"bench:{secrets.token_urlsafe(16)}",
        }
    )
    return env


def create_database(setup: Setup) -> None:
    """A fresh, empty bench database (a leftover from a killed run is dropped first)."""
    with psycopg.connect(setup.pg_admin_url, autocommit=True) as conn:
        name = sql.Identifier(setup.db_name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def drop_database(setup: Setup) -> None:
    """Drop the bench database; FORCE ends any connection a dying worker still holds."""
    with psycopg.connect(setup.pg_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(setup.db_name))
        )


class RedisTaken(Exception):
    """The chosen Redis database holds someone else's keys."""


def claim_redis(url: str) -> None:
    """Make ``url``'s database the benchmark's: empty it, but only if it is empty already or
    left over from an earlier benchmark run (marked with BENCH_MARKER).

    The test suite gives each parallel process a Redis database (15, 14, 13, 12 by default, other
    blocks with TAIRYO_TEST_REDIS_DB), whose Celery workers must not lose their queues to a
    benchmark running beside them.
    """
    client = redis.Redis.from_url(url)
    try:
        keys = int(client.dbsize())
        if keys and not client.exists(BENCH_MARKER):
            raise RedisTaken(
                f"{url} holds {keys} keys that are not the benchmark's (a test run's Celery "
                "queues?); pick an empty database with --redis-url"
            )
        client.flushdb()
        client.set(BENCH_MARKER, os.getpid())
    finally:
        client.close()


def flush_redis(url: str) -> None:
    """Empty the bench's own Redis database (the Celery messages nobody consumed)."""
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def manage(env: dict[str, str], *args: str) -> str:
    """Run a manage.py command in the bench environment; its output, or an error naming it."""
    result = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)s'


@contextlib.contextmanager
def gunicorn(
    setup: Setup, env: dict[str, str], access_log: bool
) -> Iterator[subprocess.Popen[bytes]]:
    """gunicorn with sync workers, as docker-compose runs it (with the web's CPU weight,
    bench/cpu_weights.py), stopped however the block ends."""
    log_path = setup.workdir / "gunicorn.log"
    command = [
        *cpu_weights.command_prefix("web"),
        str(VENV_BIN / "gunicorn"),
        "portal.wsgi",
        "--bind",
        f"{HOST}:{setup.port}",
        "--workers",
        str(setup.workers),
        "--worker-class",
        "sync",
        # Production (Dockerfile, docker-compose.yml) logs every request to stdout.
        *(["--access-logfile", "-"] if access_log else []),
        *(["--logger-class", "portal.gunicorn_logging.MaskedTokenLogger"] if access_log else []),
        # gunicorn's default line, then the milliseconds the worker spent on the request: the
        # client's time minus this is the time spent waiting to be accepted.
        *(["--access-logformat", ACCESS_LOG_FORMAT] if access_log else []),
    ]
    with log_path.open("wb") as log_file:
        # A session of its own: Ctrl-C in the terminal reaches only this script, which then
        # stops gunicorn in order instead of leaving workers half-killed.
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            wait_until_serving(setup, process, log_path)
            yield process
        finally:
            stop_process_group(process)


def wait_until_serving(setup: Setup, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Wait until gunicorn answers /livez, or fail with its log."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log_path.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            status, _ = http_get(setup.port, "/livez")
            if status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /livez within 60 s:\n{log_path.read_text()}")


def http_get(port: int, path: str) -> tuple[int, bytes]:
    """One plain GET on loopback (start-up probe)."""
    with socket.create_connection((HOST, port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (gunicorn's graceful stop), then SIGKILL the whole group if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            log("gunicorn did not stop in 15 s; killing its process group")
    # Workers are in the master's process group; none may outlive the run.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian's package when missing and we may (root, apt)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk is missing: apt-get install -y wrk")
        install = ["apt-get", "install", "-y", "-qq", "wrk"]
        if subprocess.run(install, capture_output=True, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, check=False)
            subprocess.run(install, capture_output=True, check=True)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed: apt-get install wrk (Debian package)")
    return found


# --- Database and Redis observations --------------------------------------------------------------
def receipt_count(setup: Setup) -> int:
    """Rows in the intake's outbox table."""
    with psycopg.connect(setup.db_url) as conn:
        row = conn.execute("SELECT count(*) FROM alerts_webhookreceipt").fetchone()
    return int(row[0]) if row else 0


def settled_receipt_count(setup: Setup, quiet: float = 0.5, limit: float = 15.0) -> int:
    """The receipt count once it has stopped changing for ``quiet`` seconds."""
    deadline = time.monotonic() + limit
    count = receipt_count(setup)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = receipt_count(setup)
        if now == count:
            break
        count = now
    return count


def receipts_found(setup: Setup, pks: list[int]) -> int:
    """How many of the receipt ids the intake acknowledged exist in the database."""
    with psycopg.connect(setup.db_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM alerts_webhookreceipt WHERE id = ANY(%s)", (pks,)
        ).fetchone()
    return int(row[0]) if row else 0


def db_connections(setup: Setup) -> int:
    """Client connections open to the bench database (gunicorn's, kept between requests)."""
    with psycopg.connect(setup.pg_admin_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (setup.db_name,),
        ).fetchone()
    return int(row[0]) if row else 0


def redis_calls(url: str) -> Counter[str]:
    """Calls per command since Redis started (server-wide; differences are what count)."""
    client = redis.Redis.from_url(url)
    try:
        stats: dict[str, Any] = client.info("commandstats")
    finally:
        client.close()
    return Counter(
        {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}
    )


def organization_names(setup: Setup) -> list[str]:
    """The organizations seed_demo created, whose tokens are demo-<name>-webhook-token."""
    with psycopg.connect(setup.db_url) as conn:
        rows = conn.execute("SELECT name FROM orgs_organization ORDER BY name").fetchall()
    return [str(row[0]) for row in rows]


def webhook_templates(orgs: list[str], placeholder: str) -> list[tuple[str, str]]:
    """(path, body) per organization: a real Mackerel alert webhook with a placeholder ID."""
    from alerts.tests import payloads  # stdlib-only module; needs the repo on sys.path

    templates = []
    for org in orgs:
        body = payloads.alert(alert_id=placeholder, org=org)
        # Mackerel sends UTF-8 as is (the host memo is Japanese), not \\u escapes.
        text = json.dumps(body, ensure_ascii=False)
        templates.append((f"/hooks/mackerel/demo-{org}-webhook-token/", text))
    return templates


# What one intake request asks of PostgreSQL, from Django's own query log (CONN_HEALTH_CHECKS adds
# a "SELECT 1" per request on a reused connection, which psycopg runs outside that log).
QUERY_PROBE = """
import json, os
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
path, body = json.loads(os.environ["BENCH_PROBE"])
client = Client(HTTP_HOST="127.0.0.1")
for n in range(2):  # the second request is the steady state (connection open, caches warm)
    with CaptureQueriesContext(connection) as ctx:
        data = body.replace("@ID@", f"probe{n}")
        response = client.post(path, data, content_type="application/json")
    assert response.status_code == 200, response.content
print(json.dumps([q["sql"] for q in ctx.captured_queries]))
"""


def intake_queries(env: dict[str, str], template: tuple[str, str]) -> list[str]:
    """The SQL statements of one intake request, in order."""
    output = manage({**env, "BENCH_PROBE": json.dumps(template)}, "shell", "-c", QUERY_PROBE)
    statements: list[str] = json.loads(output.strip().splitlines()[-1])
    return statements


# --- Saturation with wrk --------------------------------------------------------------------------
def run_wrk(
    wrk: str,
    setup: Setup,
    *,
    path: str,
    templates_file: Path | None,
    tag: str,
    seconds: float,
    connections: int,
    threads: int,
) -> tuple[dict[str, Any], list[int]]:
    """One closed-loop wrk run; its summary (written by intake.lua's done()) and receipt ids."""
    out = setup.workdir / f"wrk-{tag}.json"
    env = {
        **os.environ,
        "BENCH_TAG": tag,
        "BENCH_OUT": str(out),
        "BENCH_TEMPLATES": str(templates_file) if templates_file else "",
    }
    command = [
        wrk,
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=10s",
        f"--script={WRK_SCRIPT}",
        setup.base_url + path,
    ]
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if result.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    summary: dict[str, Any] = json.loads(out.read_text())
    receipts_path = Path(summary["receipts_file"])
    pks = [int(line) for line in receipts_path.read_text().split()]
    return summary, pks


def saturate(
    wrk: str,
    setup: Setup,
    *,
    endpoint: str,
    path: str,
    templates_file: Path | None,
    tag: str,
    args: argparse.Namespace,
    meter: CpuMeter,
) -> Throughput:
    """Warm up, then measure one endpoint at full load; for the intake, check the database."""
    common = {"connections": args.connections, "threads": args.wrk_threads}
    # The warm-up opens every worker's database and Redis connections and imports what a first
    # request imports, so the measured window sees only steady-state work.
    run_wrk(
        wrk, setup, path=path, templates_file=templates_file, tag=f"{tag}w", seconds=2, **common
    )
    # Requests the warm-up left in gunicorn's queue are still being committed; count from a
    # quiet database, or they would pass for receipts of the measured run.
    before_receipts = settled_receipt_count(setup)
    before_redis = redis_calls(setup.redis_url)
    before_cpu = meter.sample()
    summary, pks = run_wrk(
        wrk, setup, path=path, templates_file=templates_file, tag=tag, seconds=args.seconds,
        **common,
    )  # fmt: skip
    after_cpu = meter.sample()
    latency = summary["latency_us"]
    result = Throughput(
        endpoint=endpoint,
        requests=int(summary["requests"]),
        seconds=summary["duration_us"] / 1e6,
        ok=int(summary["ok"]),
        other_statuses={str(k): int(v) for k, v in summary["other_statuses"].items()},
        socket_errors={k: int(v) for k, v in summary["errors"].items() if v},
        latency_ms={
            **{f"p{k}": v / 1000 for k, v in latency["percentiles"].items()},
            "max": latency["max"] / 1000,
            "mean": latency["mean"] / 1000,
        },
        cpu_ms_per_request=CpuMeter.per_request(before_cpu, after_cpu, int(summary["requests"])),
    )
    if templates_file is not None:
        after_redis = redis_calls(setup.redis_url)
        result.receipts_added = settled_receipt_count(setup) - before_receipts
        result.acknowledged_receipts_found = receipts_found(setup, pks) if pks else 0
        result.db_connections = db_connections(setup)
        requests = max(1, result.requests)
        # Server-wide counts: another user of this Redis server would show up here too.
        result.redis_commands_per_request = {
            name: round(calls / requests, 2)
            for name, calls in (after_redis - before_redis).most_common()
            if calls >= requests / 10
        }
    return result


def saturate_floor(
    wrk: str, setup: Setup, env: dict[str, str], templates_file: Path, args: argparse.Namespace
) -> Throughput:
    """The intake's floor (bench/floor_urls.py: store the body, answer, nothing else), saturated
    like the intake on a second gunicorn with the same settings and one more URL."""
    floor_setup = dataclasses.replace(setup, port=free_port())
    floor_env = env | {"DJANGO_SETTINGS_MODULE": "floor_settings", "PYTHONPATH": str(BENCH)}
    log("the floor: a view that only stores the body (bench/floor_urls.py), second gunicorn")
    with gunicorn(floor_setup, floor_env, args.access_log) as server:
        return saturate(
            wrk, floor_setup, endpoint="floor: one durable INSERT", path="/",
            templates_file=templates_file, tag=f"floor{secrets.token_hex(3)}", args=args,
            meter=CpuMeter(server.pid, setup.db_name),
        )  # fmt: skip


# --- Open-loop constant rate ----------------------------------------------------------------------
class LoopbackClient:
    """A minimal HTTP/1.1 client over asyncio streams that keeps connections when allowed.

    gunicorn's sync workers close every connection after one response, so in practice each
    request opens a new one, exactly like a webhook sender would; a server that keeps connections
    alive gets them reused.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.connections_opened = 0

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
        if self.idle:
            reader, writer = self.idle.pop()
            return reader, writer, True
        reader, writer = await asyncio.open_connection(HOST, self.port)
        self.connections_opened += 1
        return reader, writer, False

    async def post(self, path: str, body: bytes) -> int:
        """POST ``body`` as JSON; the status code (the body is read and dropped)."""
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            "Content-Type: application/json\r\nUser-Agent: Mackerel-Webhook\r\n"
            f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
        ).encode()
        reader, writer, reused = await self._connection()
        try:
            writer.write(head + body)
            status, keep = await self._read_response(reader)
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            if not reused:
                raise
            # The server closed an idle kept connection just as we used it: once more, fresh.
            return await self.post(path, body)
        if keep:
            self.idle.append((reader, writer))
        else:
            writer.close()
        return status

    @staticmethod
    async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, status, *_ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        if "content-length" in headers:
            await reader.readexactly(int(headers["content-length"]))
            keep = version == "HTTP/1.1" and headers.get("connection") != "close"
        else:
            await reader.read()  # no length: the body ends when the server closes
            keep = False
        return int(status), keep


async def open_loop(
    port: int,
    templates: list[tuple[str, str]],
    *,
    rate: float,
    seconds: float,
    tag: str,
    timeout: float,
) -> tuple[list[float], Counter[str], Counter[str], float, float]:
    """Send ``rate`` requests/s for ``seconds``, each at its due time, whatever the server does.

    Latency runs from the due time to the last byte of the answer, so time spent waiting behind a
    slow request counts (no coordinated omission). Returns latencies (ms), statuses, errors, the
    largest lateness of a send (ms) and the wall time of the run.
    """
    client = LoopbackClient(port)
    loop = asyncio.get_running_loop()
    count = int(rate * seconds)
    parts = [(path, body.split("@ID@")) for path, body in templates]
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    max_lag = 0.0

    async def one(index: int, due: float) -> None:
        path, pieces = parts[index % len(parts)]
        body = f"{tag}n{index}".join(pieces).encode()
        try:
            status = await asyncio.wait_for(client.post(path, body), timeout)
        except TimeoutError:
            errors["timeout"] += 1
        except OSError as exc:
            errors[type(exc).__name__] += 1
        else:
            statuses[str(status)] += 1
        # A request that failed or timed out still took this long: leaving it out would make
        # an overloaded server's percentiles look better than those of a healthy one.
        latencies.append((loop.time() - due) * 1000)

    start = loop.time() + 0.05
    tasks = []
    for index in range(count):
        due = start + index / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        max_lag = max(max_lag, loop.time() - due)
        tasks.append(asyncio.create_task(one(index, due)))
    await asyncio.gather(*tasks)
    return latencies, statuses, errors, max_lag * 1000, loop.time() - start


def fixed_rate(
    setup: Setup, templates: list[tuple[str, str]], rate: float, seconds: float, meter: CpuMeter
) -> Latency:
    """One open-loop run at ``rate``; checks that every 2xx left exactly one receipt."""
    before = settled_receipt_count(setup)
    cpu_before = time.process_time()
    before_cpu = meter.sample()
    tag = f"r{int(rate)}x{secrets.token_hex(3)}"
    latencies, statuses, errors, lag_ms, wall = asyncio.run(
        open_loop(setup.port, templates, rate=rate, seconds=seconds, tag=tag, timeout=10.0)
    )
    cpu = time.process_time() - cpu_before
    # The server's work per request: every request it handled, answered in time or not, with
    # the CPU it spent until the last one was committed.
    handled = settled_receipt_count(setup) - before
    after_cpu = meter.sample()
    ok = sum(n for status, n in statuses.items() if status.startswith("2"))
    return Latency(
        rate=rate,
        seconds=round(wall, 2),
        sent=int(rate * seconds),
        ok=ok,
        statuses=dict(statuses),
        errors=dict(errors),
        latency_ms=percentiles(latencies),
        achieved_rps=round(sum(statuses.values()) / wall, 1) if wall else 0.0,
        max_schedule_lag_ms=round(lag_ms, 2),
        generator_cpu_percent=round(100 * cpu / wall, 1) if wall else 0.0,
        receipts_added=handled,
        cpu_ms_per_request=CpuMeter.per_request(before_cpu, after_cpu, handled),
    )


# --- Report ---------------------------------------------------------------------------------------
def machine_info(
    setup: Setup, wrk: str | None = None, packages: tuple[str, ...] = ()
) -> dict[str, Any]:
    """What the figures were measured on; they mean little without it (shared by every bench)."""
    cpu_model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory_gib = 0.0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024**2, 1)
    with psycopg.connect(setup.pg_admin_url) as conn:
        pg: dict[str, str] = {}
        for name in ("server_version", "synchronous_commit", "fsync", "shared_buffers"):
            row = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
            pg[name] = str(row[0]) if row else ""
    client = redis.Redis.from_url(setup.redis_url)
    try:
        redis_version = str(client.info("server").get("redis_version", ""))
    finally:
        client.close()
    info: dict[str, Any] = {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "memory_gib": memory_gib,
        "kernel": platform.release(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "postgresql": pg,
        "redis": redis_version,
        "packages": {
            name: metadata.version(name)
            for name in ("Django", "gunicorn", "psycopg", "celery", "kombu", "redis", *packages)
        },
    }
    if wrk is not None:
        info["wrk"] = (
            subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
            .stdout.split("\n", 1)[0]
            .strip()
        )
    return info


def checks(
    livez: Throughput,
    intake: Throughput,
    rates: list[Latency],
    connections: int,
    floor: Throughput | None = None,
) -> list[Check]:
    """Correctness first (a fast wrong intake is worthless), then design.md's targets."""
    ratio = intake.rps / livez.rps if livez.rps else 0.0
    extra = (intake.receipts_added or 0) - intake.ok
    result = [
        Check(
            "correctness",
            "livez: every answer 2xx, no socket error",
            livez.ok == livez.requests and not livez.other_statuses and not livez.socket_errors,
            f"{livez.ok}/{livez.requests} 2xx, errors {livez.socket_errors or 0}",
        ),
        Check(
            "correctness",
            "intake (wrk): every answer 2xx, no socket error",
            intake.ok == intake.requests and not intake.other_statuses and not intake.socket_errors,
            f"{intake.ok}/{intake.requests} 2xx, other {intake.other_statuses or 0}, "
            f"errors {intake.socket_errors or 0}",
        ),
        Check(
            "correctness",
            "intake (wrk): every acknowledged receipt is in the database",
            intake.acknowledged_receipts_found == intake.ok,
            f"{intake.acknowledged_receipts_found}/{intake.ok} found",
        ),
        Check(
            "correctness",
            "intake (wrk): receipts = 2xx answers + requests cut at wrk's deadline",
            0 <= extra <= connections,
            f"{intake.receipts_added} rows for {intake.ok} 2xx; {extra} committed after wrk "
            f"stopped reading (at most one per connection, {connections})",
        ),
    ]
    if floor is not None:
        result.append(
            Check(
                "correctness",
                "floor: every answer 2xx and every acknowledged row in the database",
                floor.ok == floor.requests
                and not floor.other_statuses
                and not floor.socket_errors
                and floor.acknowledged_receipts_found == floor.ok,
                f"{floor.ok}/{floor.requests} 2xx, {floor.acknowledged_receipts_found} found",
            )
        )
    for run in rates:
        unanswered = run.sent - run.ok
        result.append(
            Check(
                "correctness",
                f"{run.rate:g}/s: one receipt per 2xx, none lost or doubled",
                run.ok <= run.receipts_added <= run.sent and not run.statuses.keys() - {"200"},
                f"{run.receipts_added} receipts for {run.ok} 2xx of {run.sent} sent, "
                f"statuses {run.statuses}",
            )
        )
        result.append(
            Check(
                "capacity",
                f"{run.rate:g}/s: every request answered within the timeout",
                unanswered == 0,
                f"{unanswered} without an answer {run.errors or ''}".strip(),
            )
        )
    result.append(
        Check(
            "target",
            f"intake >= {TARGET_RPS:g}/s",
            intake.rps >= TARGET_RPS,
            f"{intake.rps:.0f}/s",
        )
    )
    result.append(
        Check(
            "target",
            f"intake >= {TARGET_RATIO:.0%} of /livez",
            ratio >= TARGET_RATIO,
            f"{ratio:.0%} ({intake.rps:.0f} / {livez.rps:.0f})"
            + (
                f"; a view that only stores the body: {floor.rps / livez.rps:.0%}"
                if floor is not None and livez.rps
                else ""
            ),
        )
    )
    at_target = [run for run in rates if run.rate == TARGET_P99_RATE]
    if at_target:
        p99 = at_target[0].latency_ms.get("p99", math.inf)
        result.append(
            Check(
                "target",
                f"p99 < {TARGET_P99_MS:g} ms at {TARGET_P99_RATE:g}/s",
                p99 < TARGET_P99_MS,
                f"p99 {p99:.1f} ms",
            )
        )
    return result


def ceiling(cpu_ms_per_request: dict[str, float], cores: int) -> float:
    """Requests/s that ``cores`` would sustain if the benchmark's own processes had them all.

    On a CPU-bound run this is the throughput a quiet machine would show; it is what makes
    figures from a shared machine comparable.
    """
    own = sum(ms for name, ms in cpu_ms_per_request.items() if name != "other")
    return cores * 1000 / own if own else 0.0


@dataclass
class Report:
    """Everything one run measured, and where."""

    machine: dict[str, Any]
    setup: Setup
    args: argparse.Namespace
    livez: Throughput
    intake: Throughput
    rates: list[Latency]
    outcome: list[Check]
    queries: list[str]
    floor: Throughput | None = None
    seconds: float = 0.0


def table(report: Report) -> str:
    """The one table the benchmark prints."""
    machine, setup, args = report.machine, report.setup, report.args
    livez, intake, rates = report.livez, report.intake, report.rates
    lines = [
        f"Tairyo intake benchmark  {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"machine: {machine['nproc']} cores {machine['cpu_model']}, {machine['memory_gib']} GiB, "
        f"other processes at start {machine['other_cpu_cores_at_start']} cores; "
        f"Python {machine['python']}, "
        f"PostgreSQL {machine['postgresql']['server_version']}, Redis {machine['redis']}",
        f"server: gunicorn {setup.workers} sync workers, CONN_MAX_AGE {args.conn_max_age}, "
        f"access log {'on' if args.access_log else 'off'}; load generator on the same cores",
        "",
        f"Saturation (wrk, {args.connections} connections, {args.wrk_threads} threads, "
        f"{args.seconds:g} s each)",
        f"  {'endpoint':<28}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}  answers",
    ]
    for run in (livez, intake, *([report.floor] if report.floor else [])):
        lines.append(
            f"  {run.endpoint:<28}{run.rps:>9.0f}{run.latency_ms.get('p50', 0):>9.1f}"
            f"{run.latency_ms.get('p99', 0):>9.1f}{run.latency_ms.get('max', 0):>9.1f}"
            f"  {run.ok}/{run.requests} 2xx"
        )
    ratio = intake.rps / livez.rps if livez.rps else 0.0
    lines.append(f"  {'intake / livez':<28}{ratio:>9.0%}")
    if report.floor is not None and livez.rps:
        lines.append(f"  {'floor / livez':<28}{report.floor.rps / livez.rps:>9.0%}")
    lines += [
        "",
        f"Fixed rate, open loop (intake, {args.rate_seconds:g} s each; latency from due time)",
        f"  {'rate/s':>7}{'done/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'errors':>8}{'gen lag ms':>12}{'gen CPU':>9}",
    ]
    for fixed in rates:
        ms = fixed.latency_ms
        failed = fixed.sent - fixed.ok  # non-2xx answers and requests that got no answer
        lines.append(
            f"  {fixed.rate:>7g}{fixed.achieved_rps:>8.0f}{ms.get('p50', 0):>9.1f}"
            f"{ms.get('p95', 0):>9.1f}{ms.get('p99', 0):>9.1f}{ms.get('max', 0):>9.1f}"
            f"{failed:>8}{fixed.max_schedule_lag_ms:>12.1f}{fixed.generator_cpu_percent:>8.0f}%"
        )
    groups = ("gunicorn", "postgres", "redis", "load generator", "other")
    lines += [
        "",
        "CPU ms per request (other = the rest of the machine, not part of the benchmark; "
        "ceiling = cores / the benchmark's own CPU per request,",
        " the rate these cores would sustain with nothing else running)",
        f"  {'run':<22}" + "".join(f"{name:>15}" for name in groups) + f"{'ceiling/s':>11}",
    ]
    phases = [
        ("GET /livez", livez.cpu_ms_per_request),
        ("intake saturated", intake.cpu_ms_per_request),
    ]
    phases += [(f"intake at {r.rate:g}/s", r.cpu_ms_per_request) for r in rates]
    if report.floor is not None:
        phases.append(("floor saturated", report.floor.cpu_ms_per_request))
    for name, cpu in phases:
        lines.append(
            f"  {name:<22}"
            + "".join(f"{cpu.get(g, 0):>15.2f}" for g in groups)
            + f"{ceiling(cpu, machine['nproc']):>11.0f}"
        )
    lines += [
        "",
        f"Intake per request: {len(report.queries)} SQL statements "
        "(no SELECT 1 of CONN_HEALTH_CHECKS: the intake retries a dead connection itself):",
        *(f"  {query[:110]}{'...' if len(query) > 110 else ''}" for query in report.queries),
        "  Redis commands (server-wide): "
        + (", ".join(f"{k} {v:g}" for k, v in intake.redis_commands_per_request.items()) or "-")
        + f"; {intake.db_connections} database connections open after the run",
    ]
    lines.append("")
    for check in report.outcome:
        verdict = "PASS" if check.passed else "FAIL"
        lines.append(f"  [{verdict}] {check.kind}: {check.name}: {check.detail}")
    return "\n".join(lines)


# --- Main -----------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line flags; the defaults keep a run under about three minutes."""
    cores = len(os.sched_getaffinity(0))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=15, help="wrk run per endpoint (15)")
    parser.add_argument(
        "--rates",
        default="50,150,300",
        help="fixed rates for the latency runs, comma-separated (50,150,300)",
    )
    parser.add_argument("--rate-seconds", type=float, default=20, help="each fixed rate (20)")
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * cores,
        help=f"gunicorn sync workers (2 x cores = {2 * cores})",
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument(
        "--conn-max-age", type=int, default=600, help="DATABASE_CONN_MAX_AGE, seconds (600)"
    )
    parser.add_argument(
        "--no-access-log",
        dest="access_log",
        action="store_false",
        help="turn off gunicorn's access log (on in production)",
    )
    parser.add_argument("--db-name", default="tairyo_bench", help="database created and dropped")
    parser.add_argument(
        "--pg-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL superuser connection used to create the bench database",
    )
    parser.add_argument(
        "--redis-url",
        # Not 12-15: the test suite's parallel processes use those (portal/settings_test.py).
        default="redis://127.0.0.1:6379/1",
        help="Redis database for this benchmark alone: must be empty; flushed afterwards",
    )
    parser.add_argument(
        "--output", type=Path, default=BENCH / "results" / "intake.json", help="JSON results"
    )
    parser.add_argument(
        "--no-floor",
        action="store_true",
        help="skip the floor (a view that only stores the body, bench/floor_urls.py)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave gunicorn running until Enter is pressed (to profile it), then clean up",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="wait up to this long for other processes to leave the CPU idle first (0)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a target is missed or a fixed rate overloads the server, too",
    )
    args = parser.parse_args(argv)
    args.rate_list = [float(r) for r in args.rates.split(",") if r.strip()]
    for name in ("pg_url", "redis_url"):
        host = getattr(args, name).split("://", 1)[1].split("@")[-1].split(":")[0].split("/")[0]
        if host not in {"127.0.0.1", "localhost", "::1", "[::1]"}:
            parser.error(f"--{name.replace('_', '-')} must point at loopback, not {host}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Set up, measure, report, and clean up whatever happens."""
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))  # for alerts.tests.payloads, the real webhook shapes
    signal.signal(signal.SIGTERM, _raise_interrupted)
    signal.signal(signal.SIGHUP, _raise_interrupted)
    wrk = ensure_wrk()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tairyo-bench-") as tmp:
        setup = Setup(
            db_name=args.db_name,
            pg_admin_url=args.pg_url,
            redis_url=args.redis_url,
            port=free_port(),
            workers=args.workers,
            workdir=Path(tmp),
        )
        env = production_env(setup, args.conn_max_age)
        return run_guarded(setup, lambda: run(args, setup, env, wrk, started))


def run_guarded(setup: Setup, body: Callable[[], int]) -> int:
    """Claim the benchmark's Redis database, run ``body``, and always drop the database and
    flush Redis afterwards, Ctrl-C included; the exit status (2: Redis taken, 130: interrupted)."""
    try:
        claim_redis(setup.redis_url)
    except RedisTaken as exc:
        log(str(exc))
        return 2
    try:
        return body()
    except (KeyboardInterrupt, Interrupted) as exc:
        log(f"interrupted ({exc or 'Ctrl-C'}); cleaning up")
        return 130
    finally:
        with contextlib.suppress(Exception):
            drop_database(setup)
        with contextlib.suppress(Exception):
            flush_redis(setup.redis_url)
        cpu_weights.remove_groups()
        log(f"cleaned up: database {setup.db_name} dropped, {setup.redis_url} flushed")


def run(
    args: argparse.Namespace, setup: Setup, env: dict[str, str], wrk: str, started: float
) -> int:
    """The benchmark proper; ``main`` owns the cleanup."""
    log(f"database {setup.db_name}: create, migrate, seed_demo")
    create_database(setup)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo", "--force")
    orgs = organization_names(setup)
    templates = webhook_templates(orgs, "@ID@")
    templates_file = setup.workdir / "templates.tsv"
    templates_file.write_text("".join(f"{path}\t{body}\n" for path, body in templates))
    queries = intake_queries(env, templates[0])
    machine = machine_info(setup, wrk)
    # The machine may be shared: say how busy it was before the benchmark added its own load,
    # having waited (if asked) for others to finish, since their CPU comes out of our figures.
    deadline = time.monotonic() + args.wait_quiet
    while (
        busy := other_cpu_load(db_name=setup.db_name)
    ) > QUIET_CORES and time.monotonic() < deadline:
        log(f"waiting for a quiet machine: {busy} cores busy with other processes")
    machine["other_cpu_cores_at_start"] = busy
    if busy > QUIET_CORES:
        log(f"warning: {machine['other_cpu_cores_at_start']} cores busy with other processes")
    log(f"gunicorn: {setup.workers} sync workers on {setup.base_url}")
    with gunicorn(setup, env, args.access_log) as server:
        meter = CpuMeter(server.pid, setup.db_name)
        log(f"saturating /livez, then the intake ({len(orgs)} orgs), {args.seconds:g} s each")
        livez = saturate(
            wrk, setup, endpoint="GET /livez", path="/livez", templates_file=None,
            tag="livez", args=args, meter=meter,
        )  # fmt: skip
        intake = saturate(
            wrk, setup, endpoint="POST /hooks/mackerel/<token>/", path="/",
            templates_file=templates_file, tag=f"sat{secrets.token_hex(3)}", args=args,
            meter=meter,
        )  # fmt: skip
        rates = []
        for rate in args.rate_list:
            log(f"fixed rate {rate:g}/s for {args.rate_seconds:g} s")
            rates.append(fixed_rate(setup, templates, rate, args.rate_seconds, meter))
        if args.keep:
            with contextlib.suppress(EOFError):  # stdin closed: same as Enter
                input(f"gunicorn is still serving on {setup.base_url}; press Enter to clean up ")
    floor = None if args.no_floor else saturate_floor(wrk, setup, env, templates_file, args)
    outcome = checks(livez, intake, rates, args.connections, floor)
    report = Report(
        machine, setup, args, livez, intake, rates, outcome, queries, floor,
        time.monotonic() - started,
    )  # fmt: skip
    print(table(report))
    write_results(report)
    if not all(check.passed for check in outcome if check.kind == "correctness"):
        return 1
    return 1 if args.strict and not all(check.passed for check in outcome) else 0


def result_header(benchmark: str, wall: float, machine: dict[str, Any]) -> dict[str, Any]:
    """What every bench/results/<name>.json starts with: what, when, how, how long, where."""
    return {
        "benchmark": benchmark,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join([sys.executable, *sys.argv]),
        "wall_seconds": round(wall, 1),
        "machine": machine,
    }


def write_results(report: Report) -> None:
    """bench/results/intake.json: machine, command, settings and every figure."""
    args, setup, livez, intake = report.args, report.setup, report.livez, report.intake
    document = {
        **result_header("intake", report.seconds, report.machine),
        "server": {
            "gunicorn_workers": setup.workers,
            "worker_class": "sync",
            "conn_max_age": args.conn_max_age,
            "access_log": args.access_log,
            "cpu_weights": cpu_weights.describe(),
            "settings": "DJANGO_DEBUG=false, SECURE_SSL_REDIRECT off, mailgun (unused)",
        },
        "load": {
            "tool": "wrk + bench/intake.lua (saturation); asyncio open loop (fixed rates)",
            "connections": args.connections,
            "wrk_threads": args.wrk_threads,
            "seconds": args.seconds,
            "rate_seconds": args.rate_seconds,
        },
        "throughput": {
            "livez": asdict(livez) | {"rps": round(livez.rps, 1)},
            "intake": asdict(intake) | {"rps": round(intake.rps, 1)},
            "ratio_intake_to_livez": round(intake.rps / livez.rps, 3) if livez.rps else None,
            "floor": asdict(report.floor) | {"rps": round(report.floor.rps, 1)}
            if report.floor
            else None,
            "ratio_floor_to_livez": round(report.floor.rps / livez.rps, 3)
            if report.floor and livez.rps
            else None,
            "ceiling_rps_quiet_machine": {
                "livez": round(ceiling(livez.cpu_ms_per_request, report.machine["nproc"])),
                "intake": round(ceiling(intake.cpu_ms_per_request, report.machine["nproc"])),
            },
        },
        "latency": [asdict(run) for run in report.rates],
        "checks": [asdict(check) for check in report.outcome],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    log(f"results written to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
