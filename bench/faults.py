"""Faults injected during the storm: ``bench/notify.py --fault NAME`` (or ``--fault all``).

Each fault gets a storm of its own, on a clean state: a database copied from a migrated
template, a private ``redis-server`` (the machine's Redis is shared and must never be
restarted), a new mail simulator, gunicorn, the three Celery workers and beat. A few seconds into
the storm the fault begins; at a set time it ends (the processes it took away come back, as an
orchestrator would bring them back). Then the bench waits for the backlog to drain and matches
every mail the provider received to every (case event, contact) pair the cases imply, exactly
as the storm phase does: lost and doubled must be 0 whatever the fault.

Recovery is the application's own: Celery's visibility timeout is left at its production value
(900 s), so what a dead worker held comes back through the PostgreSQL sweeps, not through
Redis. The mail simulator posts delivery reports to anymail's tracking webhook as the real
provider does (retrying for a while when refused), since those reports are what tells a row
left "sending" by a dead worker apart from one the provider never took.

Results: ``bench/results/notify-faults.json`` and one plot per fault,
``bench/results/notify-fault-<name>.png``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import intake
import notify
import psycopg
import redis
import storm_plot
from intake import HOST, VENV_BIN, Setup, log
from psycopg import sql

RESULTS = notify.BENCH / "results"
# design.md: "backlog drained within 5 min of recovery".
TARGET_RECOVER_S = 300.0
# How often pg-terminate ends every connection to the bench database during its window.
PG_TERMINATE_EVERY_S = 5.0


# --- Processes that can be taken away and brought back -------------------------------------------
class Service:
    """A server process in a session of its own, logging to ``workdir/<name>.log`` (appended
    across restarts), ready when ``ready`` appears in what it logged since it started, or when
    ``probe()`` holds."""

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        workdir: Path,
        *,
        ready: str | None = None,
        probe: Callable[[], bool] | None = None,
    ) -> None:
        self.name, self.command, self.env = name, command, env
        self.log_path = workdir / f"{name}.log"
        self.ready, self.probe = ready, probe
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command, cwd=intake.ROOT, env=self.env, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.starts += 1
        deadline = time.monotonic() + 90
        while not self._is_ready(offset):
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log_path.read_bytes()[offset:].decode(errors="replace")[-3000:]
                raise RuntimeError(f"{self.name} did not start:\n{tail}")
            time.sleep(0.2)

    def _is_ready(self, offset: int) -> bool:
        if self.ready is not None:
            with self.log_path.open("rb") as handle:
                handle.seek(offset)
                return self.ready in handle.read().decode(errors="replace")
        if self.probe is not None:
            with contextlib.suppress(OSError, IndexError, ValueError, redis.RedisError):
                return self.probe()
            return False
        return True

    def kill(self) -> None:
        """SIGKILL to the whole process group: no warm shutdown, nothing handed back."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        self._close_log()

    def stop(self) -> None:
        """SIGTERM (Celery's warm shutdown, gunicorn's graceful stop), SIGKILL if it lingers."""
        if self.process is not None:
            notify.stop_group(self.process, self.name)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def redis_ready(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    finally:
        client.close()


def serving(port: int, path: str) -> bool:
    return intake.http_get(port, path)[0] == 200


@dataclass
class Rig:
    """Every process of one fault run and how to reach them."""

    setup: Setup
    env: dict[str, str]
    mail_port: int
    redis_port: int
    services: dict[str, Service] = field(default_factory=dict)
    actions: list[tuple[float, str]] = field(default_factory=list)

    WORKERS = ("worker-intake", "worker-notify", "worker-deliver")

    def note(self, text: str) -> None:
        self.actions.append((time.time(), text))
        log(f"fault: {text}")

    def start_all(self) -> None:
        for service in self.services.values():
            service.start()

    def stop_all(self) -> None:
        for service in reversed(self.services.values()):
            try:
                service.stop()
            except intake.Interrupted:
                raise
            except Exception as exc:  # stop the others all the same
                log(f"stopping {service.name}: {exc}")


def build_rig(args: argparse.Namespace, setup: Setup) -> Rig:
    """The processes of one run, not started yet: private Redis, mail simulator (posting
    delivery reports to anymail's tracking webhook), gunicorn, workers, beat."""
    redis_port = int(setup.redis_url.rsplit(":", 1)[1].split("/", 1)[0])
    mail_port = intake.free_port()
    env = notify.bench_env(args, setup, mail_port)
    rig = Rig(setup, env, mail_port, redis_port)
    python, celery = str(VENV_BIN / "python"), str(VENV_BIN / "celery")
    commands: list[tuple[str, list[str], dict[str, Any]]] = [
        ("redis", ["redis-server", "--port", str(redis_port), "--bind", HOST, "--save", "",
                   "--appendonly", "no", "--dir", str(setup.workdir)],
         {"ready": "Ready to accept connections"}),
        ("mail_sim", [python, "-m", "mail_sim", "--port", str(mail_port), "--any-key",
                      "--quiet"],
         {"probe": lambda: serving(mail_port, "/_sim/health")}),
        ("gunicorn", [str(VENV_BIN / "gunicorn"), "portal.wsgi", "--bind",
                      f"{HOST}:{setup.port}", "--workers", str(setup.workers),
                      "--worker-class", "sync", "--access-logfile", "-",
                      "--logger-class", "portal.gunicorn_logging.MaskedTokenLogger",
                      "--access-logformat", intake.ACCESS_LOG_FORMAT],
         {"probe": lambda: serving(setup.port, "/livez")}),
        ("worker-intake", notify.celery_worker("intake", "intake", args.intake_concurrency),
         {"ready": " ready."}),
        ("worker-notify",
         notify.celery_worker("notify", "notify,default", args.notify_concurrency),
         {"ready": " ready."}),
        ("worker-deliver",
         notify.celery_worker("deliver", "deliver", args.deliver_concurrency, pool="threads"),
         {"ready": " ready."}),
        ("beat", [celery, "-A", "portal", "beat", "--loglevel=INFO",
                  f"--schedule={setup.workdir / 'celerybeat-schedule'}"], {}),
    ]  # fmt: skip
    for name, command, options in commands:
        rig.services[name] = Service(name, command, env, setup.workdir, **options)
    return rig


def configure_tracking(rig: Rig) -> None:
    """Delivery reports to anymail's tracking webhook, signed with the bench's key. The
    provider retries a refused report for a while (Mailgun: hours), so a web restart does not
    lose them: 40 tries, 3 s apart. (This replaces the simulator's whole tracking setting.)"""
    auth = rig.env["ANYMAIL_WEBHOOK_SECRET"]
    settings = {
        "url": f"http://{auth}@{HOST}:{rig.setup.port}/anymail/mailgun/tracking/",
        "mailgun_signing_key": rig.env["MAILGUN_WEBHOOK_SIGNING_KEY"],
        "retries": 40,
        "retry_delay": 3.0,
        "timeout": 10.0,
    }
    body = json.dumps(settings).encode()
    request = urllib.request.Request(  # noqa: S310 -- loopback
        f"http://{HOST}:{rig.mail_port}/_sim/tracking", data=body, method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()


# --- The faults -----------------------------------------------------------------------------------
def _redis_flush(rig: Rig, window: float) -> None:
    client = redis.Redis.from_url(rig.setup.redis_url)
    try:
        keys = int(client.dbsize())
        client.flushdb()
    finally:
        client.close()
    rig.note(f"FLUSHDB of {rig.setup.redis_url} ({keys} keys)")


def _redis_restart(rig: Rig, window: float) -> None:
    service = rig.services["redis"]
    service.kill()
    rig.note(f"redis-server on :{rig.redis_port} SIGKILLed")
    time.sleep(window)
    service.start()
    rig.note(f"redis-server started again on :{rig.redis_port} (empty: no persistence)")


def _kill_workers(names: tuple[str, ...]) -> Callable[[Rig, float], None]:
    def inject(rig: Rig, window: float) -> None:
        for name in names:
            rig.services[name].kill()
        rig.note(f"SIGKILL to {', '.join(names)} (whole process groups)")
        time.sleep(window)
        for name in names:
            rig.services[name].start()
        rig.note(f"{', '.join(names)} started again")

    return inject


def _workers_stop(rig: Rig, window: float) -> None:
    began = time.monotonic()
    for name in rig.WORKERS:
        rig.services[name].stop()
    rig.note(f"SIGTERM to every worker (warm shutdown), stopped after "
             f"{time.monotonic() - began:.1f} s")  # fmt: skip
    time.sleep(max(0.0, window - (time.monotonic() - began)))
    for name in rig.WORKERS:
        rig.services[name].start()
    rig.note("every worker started again")


def _provider_503(rig: Rig, window: float) -> None:
    body = json.dumps({"kind": "status", "status": 503, "window_seconds": window}).encode()
    request = urllib.request.Request(  # noqa: S310 -- loopback
        f"http://{HOST}:{rig.mail_port}/_sim/faults", data=body, method="POST",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()
    rig.note(f"mail provider answers 503 to every send for {window:g} s")
    time.sleep(window)
    rig.note("mail provider accepts mail again")


def _pg_terminate(rig: Rig, window: float) -> None:
    end = time.monotonic() + window
    while True:
        with psycopg.connect(rig.setup.pg_admin_url, autocommit=True) as conn:
            row = conn.execute(
                """
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = %s AND pid <> pg_backend_pid()
                """,
                (rig.setup.db_name,),
            ).fetchone()
        rig.note(f"pg_terminate_backend on {row[0] if row else 0} connections")
        if time.monotonic() + PG_TERMINATE_EVERY_S > end:
            break
        time.sleep(PG_TERMINATE_EVERY_S)
    time.sleep(max(0.0, end - time.monotonic()))


def _none(rig: Rig, window: float) -> None:
    rig.note("nothing done: the storm's own drain, to compare the faults with")


def _web_restart(rig: Rig, window: float) -> None:
    service = rig.services["gunicorn"]
    service.stop()
    rig.note("gunicorn stopped (SIGTERM: graceful)")
    service.start()
    rig.note(f"a new gunicorn serves on :{rig.setup.port}")


@dataclass(frozen=True)
class Fault:
    name: str
    summary: str
    inject: Callable[[Rig, float], None]
    # Seconds the fault lasts (default run, --quick), 0 for an instant; --fault-window overrides.
    window: float
    quick_window: float


FAULTS = {
    fault.name: fault
    for fault in (
        Fault("redis-flush", "FLUSHDB of the bench's Redis database: every queued and "
              "unacknowledged message and every flag gone", _redis_flush, 0, 0),
        Fault("redis-restart", "the private redis-server SIGKILLed, started again empty on "
              "the same port after the window", _redis_restart, 10, 5),
        Fault("worker-kill", "SIGKILL to every Celery worker (intake, notify, deliver), "
              "started again after the window", _kill_workers(Rig.WORKERS), 10, 5),
        Fault("workers-stop", "every Celery worker stopped (SIGTERM), started again after the "
              "window", _workers_stop, 60, 20),
        Fault("provider-503", "the mail provider answers 503 to every send for the window",
              _provider_503, 60, 20),
        Fault("pg-terminate", f"pg_terminate_backend on every connection to the bench database, "
              f"every {PG_TERMINATE_EVERY_S:g} s over the window", _pg_terminate, 30, 10),
        Fault("web-restart", "gunicorn stopped and a new one started on the same port while "
              "Mackerel keeps posting", _web_restart, 0, 0),
        # Variants and the baseline, by name only (not in "all").
        Fault("none", "no fault: the same storm on the same servers, for comparison", _none,
              0, 0),
        Fault("worker-kill-intake", "SIGKILL to the intake worker",
              _kill_workers(("worker-intake",)), 10, 5),
        Fault("worker-kill-notify", "SIGKILL to the notify+default worker (the planner)",
              _kill_workers(("worker-notify",)), 10, 5),
        Fault("worker-kill-deliver", "SIGKILL to the deliver worker (mail being sent)",
              _kill_workers(("worker-deliver",)), 10, 5),
    )
}  # fmt: skip
ALL = ("redis-flush", "redis-restart", "worker-kill", "workers-stop", "provider-503",
       "pg-terminate", "web-restart")  # fmt: skip


# --- Command line ---------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """notify.py's fault flags."""
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help=f"inject a fault into a storm of its own (repeatable): {', '.join(FAULTS)}; "
        f"'all' runs {', '.join(ALL)} one after another",
    )
    parser.add_argument(
        "--fault-at",
        type=float,
        default=None,
        metavar="SECONDS",
        help="when the fault begins, seconds into the storm (10; 5 with --quick)",
    )
    parser.add_argument(
        "--fault-window",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long every fault that lasts lasts (each fault's own by default: 60 s for a "
        "worker stop or a provider outage, 20 s with --quick)",
    )
    parser.add_argument(
        "--recover-limit",
        type=float,
        default=TARGET_RECOVER_S + 60,
        metavar="SECONDS",
        help="stop waiting for the backlog this long after the fault ended (360)",
    )
    parser.add_argument(
        "--webhook-retries",
        type=int,
        default=0,
        help="times the Mackerel simulator retries a refused webhook (0: Mackerel documents "
        "no redelivery, mackerel-api.md 9.1)",
    )
    parser.add_argument(
        "--faults-output",
        type=Path,
        default=RESULTS / "notify-faults.json",
        help="JSON results of the fault runs (bench/results/notify-faults.json)",
    )


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Expand ``all``, refuse unknown names."""
    names: list[str] = []
    for value in args.fault:
        for name in value.split(","):
            if name == "all":
                names += ALL
            elif name in FAULTS:
                names.append(name)
            else:
                parser.error(f"unknown fault {name!r}: {', '.join(FAULTS)} or all")
    args.fault = list(dict.fromkeys(names))
    if args.fault_at is None:
        args.fault_at = 5.0 if args.quick else 10.0


def window_of(args: argparse.Namespace, fault: Fault) -> float:
    if args.fault_window is not None and fault.window:
        return float(args.fault_window)
    return fault.quick_window if args.quick else fault.window


# --- One fault run --------------------------------------------------------------------------------
@dataclass
class FaultRun:
    """One fault's storm: when the fault was, what was done, and the storm's figures."""

    fault: str
    summary: str
    window_s: list[float]  # seconds into the storm: began, ended
    actions: list[str]
    drained: bool
    recovered_after_s: float | None  # fault end → backlog drained
    refused: int  # alert webhooks not answered 2xx
    refused_statuses: dict[str, int]
    lost: int
    doubled: int
    passed: bool
    plot: str
    phase: dict[str, Any]


def storm_with_fault(
    args: argparse.Namespace, rig: Rig, fault: Fault, points: list[storm_plot.PairPoint]
) -> FaultRun:
    """The outage storm with ``fault`` injected ``--fault-at`` seconds in; drain; analyse."""
    setup, window = rig.setup, window_of(args, fault)
    orgs = notify.storm_orgs(args)
    sim = notify.build_simulator(args.seed + 1, setup.base_url, orgs, args.hosts_per_org,
                                 args.senders)  # fmt: skip
    sim.sender.retries = args.webhook_retries
    times: dict[str, float] = {}
    failure: list[BaseException] = []

    def inject(started_at: float) -> None:
        try:
            time.sleep(max(0.0, started_at + args.fault_at - time.time()))
            times["began"] = time.time()
            fault.inject(rig, window)
        except BaseException as exc:  # reported by the main thread
            failure.append(exc)
        finally:
            times["ended"] = time.time()

    try:
        log(f"{fault.name}: storm of {args.storm_webhooks} alerts in {args.storm_seconds:g} s, "
            f"fault at {args.fault_at:g} s for {window:g} s: {fault.summary}")  # fmt: skip
        started_at = time.time()
        injector = threading.Thread(target=inject, args=(started_at,), daemon=True)
        injector.start()
        run = sim.run_scenario("network-outage", hosts=args.storm_webhooks,
                               within=args.storm_seconds, down_for=3600)  # fmt: skip
        outages = sum(1 for step in run.plan if step.at < 3600)
        while run.applied < outages and not run.done:
            time.sleep(0.2)
        run.stop()
        load_done = time.time()
        injector.join()
        if failure:
            raise RuntimeError(f"injecting {fault.name} failed") from failure[0]
        log(f"{fault.name}: load sent in {load_done - started_at:.1f} s, fault over at "
            f"{times['ended'] - started_at:.1f} s; waiting for the backlog")  # fmt: skip
        drained_at = notify.drained_at(setup, sim, orgs, args.recover_limit)
        time.sleep(0.5)  # a mail accepted just now
        result = notify.analyse(
            setup, name=f"storm + {fault.name}", orgs=orgs, deliveries=sim.deliveries(),
            mails=notify.received_mails(rig.mail_port), started_at=started_at, points=points,
        )  # fmt: skip
    finally:
        sim.close()
    result.seconds = round(load_done - started_at, 2)
    result.drained = drained_at is not None
    end = max(load_done, times["ended"])
    result.drain_seconds = round((drained_at or time.time()) - end, 1)
    recovered = None if drained_at is None else round(max(0.0, drained_at - times["ended"]), 1)
    refused = result.alert_webhooks - result.requests_2xx
    refused_statuses = {k: v for k, v in result.request_statuses.items()
                        if not k.isdigit() or not 200 <= int(k) < 300}  # fmt: skip
    base = started_at
    return FaultRun(
        fault=fault.name,
        summary=fault.summary,
        window_s=[round(times["began"] - base, 1), round(times["ended"] - base, 1)],
        actions=[f"{at - base:6.1f} s  {text}" for at, text in rig.actions],
        drained=result.drained,
        recovered_after_s=recovered,
        refused=refused,
        refused_statuses=refused_statuses,
        lost=result.lost,
        doubled=result.doubled,
        passed=result.lost == 0 and result.doubled == 0 and result.drained,
        plot="",
        phase=asdict(result),
    )


def clone_database(setup: Setup, template: str) -> None:
    """A fresh copy of the migrated template with the storm's organizations."""
    with psycopg.connect(setup.pg_admin_url, autocommit=True) as conn:
        name = sql.Identifier(setup.db_name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(name, sql.Identifier(template))
        )


def one_fault(args: argparse.Namespace, fault: Fault, template: Setup, workdir: Path) -> FaultRun:
    """A clean database, private servers, the storm with the fault; everything stopped after."""
    redis_port = intake.free_port()
    setup = Setup(
        db_name=args.db_name,
        pg_admin_url=args.pg_url,
        redis_url=f"redis://{HOST}:{redis_port}/0",
        port=intake.free_port(),
        workers=args.web_workers,
        workdir=workdir,
    )
    clone_database(setup, template.db_name)
    rig = build_rig(args, setup)
    points: list[storm_plot.PairPoint] = []
    try:
        rig.start_all()
        configure_tracking(rig)
        outcome = storm_with_fault(args, rig, fault, points)
    finally:
        rig.stop_all()
        with contextlib.suppress(Exception):
            intake.drop_database(setup)
    if args.plot is not None:
        path = args.plot.parent / f"notify-fault-{fault.name}.png"
        recovered = outcome.recovered_after_s
        storm_plot.plot_time_to_provider(
            points, path,
            title=f"Storm of {args.storm_webhooks} alerts in {args.storm_seconds:g} s with "
            f"{fault.name}: lost {outcome.lost}, doubled {outcome.doubled}, "
            + (f"drained {recovered:g} s after the fault" if recovered is not None
               else "not drained"),
            fault_window=(outcome.window_s[0], outcome.window_s[1]), fault_label=fault.name,
            drained_s=None if recovered is None else outcome.window_s[1] + recovered,
        )  # fmt: skip
        outcome.plot = str(path.relative_to(intake.ROOT) if path.is_relative_to(intake.ROOT)
                           else path)  # fmt: skip
    return outcome


# --- The whole run --------------------------------------------------------------------------------
def main(args: argparse.Namespace, started: float) -> int:
    """Every fault of ``--fault`` in turn; exit status 1 if any lost, doubled or did not drain."""
    if shutil.which("redis-server") is None:
        log("redis-server is not installed: the fault runs need a private one")
        return 2
    with tempfile.TemporaryDirectory(prefix="tairyo-bench-faults-") as tmp:
        template = Setup(
            db_name=f"{args.db_name}_template", pg_admin_url=args.pg_url,
            redis_url=args.redis_url, port=0, workers=args.web_workers, workdir=Path(tmp),
        )  # fmt: skip
        runs: list[FaultRun] = []
        try:
            orgs = notify.storm_orgs(args)
            log(f"template database {template.db_name}: migrate, {len(orgs)} organizations")
            intake.create_database(template)
            env = notify.bench_env(args, template, intake.free_port())
            intake.manage(env, "migrate", "--noinput", "-v", "0")
            notify.create_organizations(env, orgs, args.contacts)
            machine = intake.machine_info(template, packages=("django-anymail",))
            for name in args.fault:
                workdir = Path(tmp) / name
                workdir.mkdir()
                runs.append(one_fault(args, FAULTS[name], template, workdir))
                log(f"{name}: lost {runs[-1].lost}, doubled {runs[-1].doubled}, recovered "
                    f"after {runs[-1].recovered_after_s} s")  # fmt: skip
        except (KeyboardInterrupt, intake.Interrupted) as exc:
            log(f"interrupted ({exc or 'Ctrl-C'}); cleaning up")
            return 130
        finally:
            for name in (template.db_name, args.db_name):
                with contextlib.suppress(Exception):
                    intake.drop_database(Setup(name, args.pg_url, "", 0, 0, Path(tmp)))
            log("cleaned up: databases dropped, private Redis servers stopped")
    print(table(runs))
    write_results(args, runs, machine, time.monotonic() - started)
    return 0 if all(run.passed for run in runs) else 1


def table(runs: list[FaultRun]) -> str:
    """One line per fault run."""

    def pct(values: dict[str, float]) -> str:
        if not values:
            return "-"
        return " / ".join(f"{values[k]:g}" for k in ("p50", "p95", "p99", "max"))

    header = ("fault", "window s", "lost", "doubled", "recovered s", "refused",
              "told / expected", "time to provider p50/p95/p99/max s", "verdict")  # fmt: skip
    rows = [header]
    for run in runs:
        phase = run.phase
        rows.append((
            run.fault, f"{run.window_s[0]:g}–{run.window_s[1]:g}", str(run.lost),
            str(run.doubled),
            "not drained" if run.recovered_after_s is None else f"{run.recovered_after_s:g}",
            str(run.refused), f"{phase['pairs_told']} / {phase['pairs_expected']}",
            pct(phase["time_to_provider_s"]), "ok" if run.passed else "FAIL",
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["Faults during the storm (webhook receipt → mail simulator)", ""]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    for run in runs:
        lines += ["", f"{run.fault}: {run.summary}", *(f"  {a}" for a in run.actions)]
        if run.refused:
            lines.append(f"  refused webhooks: {run.refused} {run.refused_statuses}")
        for example in run.phase["lost_examples"] + run.phase["doubled_examples"]:
            lines.append(f"  e.g. {example}")
    return "\n".join(lines)


def write_results(
    args: argparse.Namespace, runs: list[FaultRun], machine: dict[str, Any], wall: float
) -> None:
    """bench/results/notify-faults.json: machine, command, settings, every run's figures."""
    document = {
        **intake.result_header("notify-faults", wall, machine),
        "settings": {
            "storm_webhooks": args.storm_webhooks,
            "storm_seconds": args.storm_seconds,
            "storm_orgs": args.storm_orgs,
            "contacts_per_org": args.contacts,
            "fault_at_seconds": args.fault_at,
            "recover_limit_seconds": args.recover_limit,
            "webhook_retries": args.webhook_retries,
            "celery_visibility_timeout": "900 (production default, unchanged)",
            "delivery_reports": "mail_sim posts them to anymail's tracking webhook, 40 tries",
            "digest_threshold": args.digest_threshold or notify.DEFAULT_DIGEST_THRESHOLD,
            "digest_window_seconds": args.digest_window or notify.DEFAULT_DIGEST_WINDOW_S,
        },
        "targets": {"lost": 0, "doubled": 0, "recovered_within_seconds": TARGET_RECOVER_S},
        "runs": [asdict(run) for run in runs],
        "passed": all(run.passed for run in runs),
        "counts": dict(Counter("passed" if run.passed else "failed" for run in runs)),
    }
    args.faults_output.parent.mkdir(parents=True, exist_ok=True)
    args.faults_output.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    log(f"results written to {args.faults_output}")
