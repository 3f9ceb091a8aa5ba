"""Benchmark of support search (and the customer list pages) at design.md's sizes.

What it does, all on loopback:

1. creates database ``tairyo_bench_search``, migrates it with production settings and fills it
   with bench/dataset.py through COPY: 70 customers and organizations, 70,000 hosts (one
   customer with 5,000), 1,000,000 cases with their timelines;
2. makes a support user (with a verified second factor) and a customer user of the customer
   with 5,000 hosts, and a session for each;
3. counts the SQL queries of each measured page (Django's query log, in a ``manage.py shell``);
4. starts gunicorn (intake.py's: sync workers, persistent connections, access log) and times
   ``GET /staff/search/?q=`` one request at a time for a mix of queries, each kind from the
   data: exact case IDs and host IDs (answered by a redirect), IP addresses and their prefixes,
   host name fragments, Japanese display names, memo words, organization and customer names,
   and queries that match nothing; then the customer host list (5,000 hosts) and case list, and
   the staff case list over every case;
5. prints p50/p95/p99 per kind, writes ``bench/results/search.json``, and always stops gunicorn
   and drops the database, even on Ctrl-C.

Run it with ``make bench`` or ``.venv/bin/python bench/search.py --help``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shlex
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import dataset
import intake
from intake import HOST, ROOT, Setup, log, percentiles

TARGET_SEARCH_P95_MS = 100.0
TARGET_PAGES_P95_MS = 150.0

# Users and sessions for the HTTP client, and the query count of each measured page.
SESSIONS_AND_COUNTS = """
import json, os
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from accounts import roles
from accounts.models import Customer, Membership, User

roles.sync_staff_groups()
support = User.objects.create_user("support@bench.invalid", "x" * 20, is_staff=True)
support.groups.add(roles.group(roles.SUPPORT))
customer = User.objects.create_user("ops@bench.invalid", "x" * 20)
Membership.objects.create(user=customer, customer=Customer.objects.get(pk=1),
                          role=Membership.Role.VIEWER)
device = TOTPDevice.objects.create(user=support, name="bench", confirmed=True)
clients = {}
for name, user in (("support", support), ("customer", customer)):
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    if user.is_staff:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    clients[name] = client
counts = {}
for who, path in json.loads(os.environ["BENCH_PATHS"]):
    client = clients[who]
    client.get(path)  # the first request of a session warms caches; count the second
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    counts[f"{who} {path}"] = {"queries": len(ctx.captured_queries),
                               "status": response.status_code}
print(json.dumps({"cookies": {name: c.cookies["sessionid"].value for name, c in clients.items()},
                  "counts": counts}))
"""

MEMO_WORDS = ["再起動", "田中", "レプリカ", "maintenance", "runbook", "契約番号", "Backup", "障害"]
NO_MATCH = ["zz-nomatch", "存在しないホスト", "qqqq-0000", "xyz.example.org", "未登録"]


@dataclass
class KindResult:
    """One kind of query (or page), timed one request at a time."""

    kind: str
    who: str
    target: str  # "search" or "pages": which of design.md's targets it counts for
    requests: int
    statuses: dict[str, int]
    latency_ms: dict[str, float]
    examples: list[str]
    queries: dict[str, int]
    # CPU ms per request by who spent it (intake.CpuMeter): the server's own cost, which other
    # users of a shared machine do not inflate, and "other", the rest of the machine.
    cpu_ms_per_request: dict[str, float]


def query_mix(data: dataset.Dataset, per_kind: int, seed: int) -> dict[str, list[str]]:
    """Queries per kind, drawn from the loaded data (with a fixed seed)."""
    rng = random.Random(seed)

    def pick(values: Sequence[str]) -> list[str]:
        return [values[i % len(values)] for i in range(per_kind)] if values else []

    def fragment(name: str) -> str:
        start = rng.randrange(max(1, len(name) - 8))
        return name[start : start + rng.randint(6, 9)].strip("-.") or name

    addresses = data.addresses
    japanese = [f"{env} {role}" for env in dataset.JA_ENVS.values() for role in ("DB サーバ",)]
    japanese += ["Web サーバ 12号機", "キャッシュ 3号機", "本番 API サーバ", "バッチ"]
    return {
        "case ID (exact)": pick(data.case_ids),
        "host ID (exact)": pick(data.host_ids),
        "IP address": pick(addresses),
        "IP prefix": pick([a.rsplit(".", 1)[0] + "." for a in addresses]),
        "host name fragment": pick([fragment(name) for name in data.host_names]),
        "display name (ja)": pick(japanese),
        "memo word": pick(MEMO_WORDS),
        "organization/customer": pick(
            [n.split("-")[0] for n in data.organization_names]
            + [n.removeprefix("株式会社")[:3] for n in data.customer_names]
        ),
        "no match": pick(NO_MATCH),
    }


def timed_get(port: int, path: str, cookie: str) -> tuple[int, float]:
    """One GET on a new connection (gunicorn's sync workers close each one): status and ms to
    the last byte."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", path, headers={"Cookie": f"sessionid={cookie}"})
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    return response.status, (time.perf_counter() - started) * 1000


def measure(  # noqa: PLR0917 - one call site per target
    setup: Setup,
    meter: intake.CpuMeter,
    target: str,
    kind: str,
    who: str,
    paths: list[str],
    cookie: str,
    counts: dict[str, Any],
) -> KindResult:
    """Every path once, in order, after one untimed request (a worker's first, for each)."""
    for path in paths[: setup.workers]:
        timed_get(setup.port, path, cookie)
    latencies, statuses = [], Counter[str]()
    before = meter.sample()
    for path in paths:
        status, ms = timed_get(setup.port, path, cookie)
        statuses[str(status)] += 1
        latencies.append(ms)
    cpu = intake.CpuMeter.per_request(before, meter.sample(), len(paths))
    queries = {
        key.split(" ", 1)[1]: value["queries"]
        for key, value in counts.items()
        if key.split(" ", 1)[1] in paths[:2]
    }
    result = KindResult(
        kind=kind,
        who=who,
        target=target,
        requests=len(paths),
        statuses=dict(statuses),
        latency_ms={k: round(v, 1) for k, v in percentiles(latencies).items()},
        examples=paths[:3],
        queries=queries,
        cpu_ms_per_request=cpu,
    )
    p = result.latency_ms
    log(
        f"{kind}: p50 {p['p50']} p95 {p['p95']} p99 {p['p99']} ms, statuses {dict(statuses)}, "
        f"CPU ms/request {cpu}"
    )
    return result


def search_path(query: str) -> str:
    return "/staff/search/?" + urlencode({"q": query})


def page_paths(args: argparse.Namespace) -> dict[str, tuple[str, list[str]]]:
    """The customer list pages of design.md's "pages" target, and the staff case list."""
    n = args.page_requests
    host_pages = [f"/hosts/?page={1 + (i * 7) % 100}" for i in range(n)]
    host_searches = [f"/hosts/?q=web-prod-{i:02d}" for i in range(n)]
    case_pages = [f"/cases/?page={1 + i % 20}" for i in range(n)]
    return {
        "customer host list (5,000 hosts)": ("customer", host_pages),
        "customer host list, search": ("customer", host_searches),
        "customer case list": ("customer", case_pages),
        "customer case list, open": ("customer", ["/cases/?state=open"] * n),
        "staff case list (every case)": ("support", case_pages),
    }


def table(results: list[KindResult]) -> str:
    lines = [
        f"{'kind':<34}{'who':<10}{'n':>5}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}"
        f"{'queries':>9}{'server CPU ms':>15}{'other cores':>13}  statuses"
    ]
    for r in results:
        p = r.latency_ms
        queries = "/".join(str(q) for q in sorted(set(r.queries.values()))) or "-"
        cpu = r.cpu_ms_per_request
        server = cpu.get("gunicorn", 0.0) + cpu.get("postgres", 0.0)
        # "other" CPU ms per request over the wall time of a request: cores others kept busy.
        other = cpu.get("other", 0.0) / max(p["mean"], 0.001)
        lines.append(
            f"{r.kind:<34}{r.who:<10}{r.requests:>5}{p['p50']:>8.1f}{p['p95']:>8.1f}"
            f"{p['p99']:>8.1f}{p['max']:>8.1f}{queries:>9}{server:>15.1f}{other:>13.2f}"
            f"  {r.statuses}"
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    cores = len(os.sched_getaffinity(0))
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument("--orgs", type=int, default=70, help="organizations (70)")
    parser.add_argument("--hosts", type=int, default=70_000, help="hosts in all (70,000)")
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases (1,000,000)")
    parser.add_argument(
        "--big-customer-hosts", type=int, default=5_000, help="hosts of the customer (5,000)"
    )
    parser.add_argument("--per-kind", type=int, default=60, help="searches per kind (60)")
    parser.add_argument("--page-requests", type=int, default=40, help="requests per page (40)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2 * cores, help="gunicorn sync workers")
    parser.add_argument("--db-name", default="tairyo_bench_search")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/6",
        help="Redis database for this benchmark alone: must be empty; flushed afterwards",
    )
    parser.add_argument("--skip-pages", action="store_true", help="time the search only")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "search.json")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, intake._raise_interrupted)
    signal.signal(signal.SIGHUP, intake._raise_interrupted)
    with tempfile.TemporaryDirectory(prefix="tairyo-bench-search-") as tmp:
        setup = Setup(
            db_name=args.db_name,
            pg_admin_url=args.pg_url,
            redis_url=args.redis_url,
            port=intake.free_port(),
            workers=args.workers,
            workdir=Path(tmp),
        )
        return intake.run_guarded(setup, lambda: run(args, setup))


def run(args: argparse.Namespace, setup: Setup) -> int:
    started = time.monotonic()
    env = intake.production_env(setup, conn_max_age=600)
    log(f"database {setup.db_name}: create, migrate")
    intake.create_database(setup)
    intake.manage(env, "migrate", "--noinput", "-v", "0")
    # Pages render through the hashed static files' manifest, as the Dockerfile builds it.
    intake.manage(env, "collectstatic", "--noinput", "-v", "0")
    log(f"loading {args.hosts} hosts and {args.cases} cases with COPY")
    load_started = time.monotonic()
    data = dataset.fill(
        setup.db_url, orgs=args.orgs, hosts=args.hosts, cases=args.cases,
        big_customer_hosts=args.big_customer_hosts, seed=args.seed, log=log,
    )  # fmt: skip
    load_seconds = time.monotonic() - load_started
    mix = query_mix(data, args.per_kind, args.seed)
    searches = {kind: [search_path(q) for q in queries] for kind, queries in mix.items()}
    pages = {} if args.skip_pages else page_paths(args)
    to_count = [("support", paths[0]) for paths in searches.values() if paths]
    to_count += [("support", paths[1]) for paths in searches.values() if len(paths) > 1]
    to_count += [(who, paths[0]) for who, paths in pages.values()]
    to_count += [(who, paths[-1]) for who, paths in pages.values()]
    output = intake.manage(
        {**env, "BENCH_PATHS": json.dumps(to_count)}, "shell", "-c", SESSIONS_AND_COUNTS
    )
    probe = json.loads(output.strip().splitlines()[-1])
    cookies, counts = probe["cookies"], probe["counts"]
    machine = intake.machine_info(setup)
    results: list[KindResult] = []
    with intake.gunicorn(setup, env, access_log=True) as server:
        meter = intake.CpuMeter(server.pid, setup.db_name)
        for kind, paths in searches.items():
            if paths:
                cookie = cookies["support"]
                results.append(
                    measure(setup, meter, "search", kind, "support", paths, cookie, counts)
                )
        for kind, (who, paths) in pages.items():
            results.append(measure(setup, meter, "pages", kind, who, paths, cookies[who], counts))
    search_results = [r for r in results if r.target == "search"]
    page_results = [r for r in results if r.target == "pages"]
    worst_search = max(r.latency_ms["p95"] for r in search_results)
    worst_page = max((r.latency_ms["p95"] for r in page_results), default=0.0)
    errors = sum(n for r in results for s, n in r.statuses.items() if not s.startswith(("2", "3")))
    print(table(results))
    search_met = worst_search < TARGET_SEARCH_P95_MS
    pages_met = worst_page < TARGET_PAGES_P95_MS
    print(
        f"target: search p95 < {TARGET_SEARCH_P95_MS:.0f} ms for every kind: "
        f"{'met' if search_met else 'MISSED'} (worst {worst_search:.1f} ms); "
        f"pages p95 < {TARGET_PAGES_P95_MS:.0f} ms: {'met' if pages_met else 'MISSED'} "
        f"(worst {worst_page:.1f} ms); error answers: {errors}"
    )
    document = {
        "benchmark": "search",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join([sys.executable, *sys.argv]),
        "machine": machine,
        "settings": {
            "server": f"gunicorn, {setup.workers} sync workers, CONN_MAX_AGE 600, access log",
            "client": "one request at a time, a new connection each, on the same cores",
            "per_kind": args.per_kind,
            "page_requests": args.page_requests,
            "seed": args.seed,
        },
        "dataset": data.summary() | {"load_seconds": round(load_seconds, 1)},
        "results": [asdict(r) for r in results],
        "query_counts": counts,
        "checks": {
            "search_target_p95_ms": TARGET_SEARCH_P95_MS,
            "search_worst_p95_ms": worst_search,
            "search_target_met": search_met,
            "pages_target_p95_ms": TARGET_PAGES_P95_MS,
            "pages_worst_p95_ms": worst_page,
            "pages_target_met": pages_met,
            "error_answers": errors,
        },
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    log(f"results written to {args.output}")
    if errors:
        return 1
    return 1 if args.strict and not (search_met and pages_met) else 0


if __name__ == "__main__":
    sys.exit(main())
