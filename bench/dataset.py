"""A database the size of design.md's targets, for the page and search benchmarks.

``fill(db_url)`` loads an empty, migrated Tairyo database through PostgreSQL's COPY (psycopg 3
``cursor.copy``): by default 70 customers with one organization each, 70,000 hosts (one
customer has 5,000 of them, the case of the customer host list target) and 1,000,000 cases, each
with its timeline (opened, and closed for those no longer open). The data looks like a hosting
provider's: Japanese and English customer names, host names of several conventions, Japanese
display names, EC2 instance IDs as custom identifiers, private addresses reused across
customers, IPv6, memos in both languages, retired hosts, Mackerel-style IDs. Everything comes
from one seed, so two runs search the same world.

It writes rows directly, not through the ORM: a million cases through Django would take most of
an hour. Run it alone with ``python bench/dataset.py --db-url ...`` (on an empty, migrated
database); bench/search.py creates, fills and drops its own.
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import random
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

ID_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
HISTORY_DAYS = 700

JA_NAMES = ["さくら", "みなと", "ひかり", "北斗", "青葉", "大和", "東海", "瀬戸", "富士", "若葉"]
JA_KINDS = ["商事", "物流", "製作所", "システムズ", "電機", "食品", "証券", "メディア", "不動産"]
EN_NAMES = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay"]
EN_KINDS = ["Trading", "Logistics", "Systems", "Media", "Foods", "Holdings", "Labs"]
ROMAJI = {"さくら": "sakura", "みなと": "minato", "ひかり": "hikari", "北斗": "hokuto",
          "青葉": "aoba", "大和": "yamato", "東海": "tokai", "瀬戸": "seto", "富士": "fuji",
          "若葉": "wakaba"}  # fmt: skip
SITES = ["tky", "osa", "fko", "sap", "ngy"]
ROLES = ["web", "app", "api", "db", "cache", "batch", "mail", "lb", "search", "worker"]
ENVS = ["prod", "stg", "dev"]
JA_ROLES = {"web": "Web サーバ", "app": "アプリサーバ", "api": "API サーバ", "db": "DB サーバ",
            "cache": "キャッシュ", "batch": "バッチ", "mail": "メール中継", "lb": "ロードバランサ",
            "search": "検索サーバ", "worker": "ワーカー"}  # fmt: skip
JA_ENVS = {"prod": "本番", "stg": "ステージング", "dev": "開発"}
PEOPLE = ["田中", "佐藤", "鈴木", "高橋", "渡辺", "Smith", "Jones", "伊藤", "山本", "中村"]
MEMOS = [
    "毎週日曜 3:00 に再起動。障害時は{person}さんへ連絡（内線 {n}）",
    "本番 DB のレプリカ。レプリケーション遅延のアラートは翌営業日対応で可",
    "保守契約: {vendor} / 契約番号 {contract}",
    "Backup target for the {role} cluster; contact {person} before maintenance",
    "Decommission planned for {date}. Do not restart without approval.",
    "ディスク増設済み（{date}）。容量アラートの閾値を 90% に変更",
    "Nightly batch runs 01:00-04:00 JST; CPU alerts during the window are expected",
    "顧客指定のメンテナンス窓: 毎月第 2 火曜 22:00-24:00",
    "Legacy {role} host, migrating to k8s. Owner: {person}",
    "障害対応手順書: wiki/{role}-runbook を参照",
]
VENDORS = ["富士通", "NEC", "日立", "IIJ", "さくらインターネット", "Equinix"]
MONITORS = [
    ("CPU %", "host", "cpu%"), ("Memory %", "host", "memory%"), ("Disk /", "host", "disk%"),
    ("connectivity", "connectivity", ""), ("Load average", "host", "loadavg5"),
    ("HTTP check", "external", ""), ("MySQL replication delay", "host", "custom"),
]  # fmt: skip


def mackerel_id(rng: random.Random) -> str:
    """An 11-character ID shaped like Mackerel's host and alert IDs (e.g. 3k73ZJscVcW)."""
    return "".join(rng.choices(ID_ALPHABET, k=11))


def copy_text(value: object) -> str:
    r"""A value in COPY's text format: \N for NULL, and the four characters it escapes."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


@dataclass
class Dataset:
    """What was loaded, and samples of it for the queries of a benchmark."""

    customers: int = 0
    organizations: int = 0
    hosts: int = 0
    cases: int = 0
    events: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    big_customer: str = ""
    big_customer_hosts: int = 0
    big_customer_cases: int = 0
    # Samples, drawn while generating: what a support engineer might paste or type.
    case_ids: list[str] = field(default_factory=list)
    host_ids: list[str] = field(default_factory=list)
    host_names: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    organization_names: list[str] = field(default_factory=list)
    customer_names: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Counts and timings, without the samples."""
        data = asdict(self)
        for name in ("case_ids", "host_ids", "host_names", "addresses"):
            data.pop(name)
        return data


@dataclass
class _Host:
    id: int
    org: int
    customer: int
    role_id: int


class _Builder:
    """Generates the rows, table by table, with ids assigned here so that foreign keys need no
    round trip."""

    def __init__(self, orgs: int, hosts: int, cases: int, big_hosts: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.n_orgs, self.n_hosts, self.n_cases, self.big_hosts = orgs, hosts, cases, big_hosts
        self.now = EPOCH + timedelta(days=HISTORY_DAYS)
        self.dataset = Dataset()
        self.hosts: list[_Host] = []
        self.org_names: list[str] = []
        self.roles: dict[int, list[tuple[int, str]]] = {}

    def customers(self) -> Iterator[tuple[object, ...]]:
        seen: set[str] = set()
        for index in range(1, self.n_orgs + 1):
            rng = self.rng
            if index % 3:
                base = f"株式会社{rng.choice(JA_NAMES)}{rng.choice(JA_KINDS)}"
            else:
                base = f"{rng.choice(EN_NAMES)} {rng.choice(EN_KINDS)}"
            name = base if base not in seen else f"{base} {index}"
            seen.add(name)
            self.dataset.customer_names.append(name)
            yield (index, uuid.UUID(int=rng.getrandbits(128), version=4), name, "", True, EPOCH)

    def organizations(self) -> Iterator[tuple[object, ...]]:
        for index, customer in enumerate(self.dataset.customer_names, start=1):
            slug = self._slug(customer)
            name = f"{slug}-{index:02d}"
            self.org_names.append(name)
            digest = f"{index:064x}"
            yield (
                index, uuid.UUID(int=self.rng.getrandbits(128), version=4), name,
                f"{customer} 本番環境" if index % 2 else "", "", True, "", "", None, digest,
                "", "", None, EPOCH, EPOCH, index, "", "", "", None, 0, None, None, "", None,
                "", None,
            )  # fmt: skip
        self.dataset.organization_names = list(self.org_names)

    @staticmethod
    def _slug(customer: str) -> str:
        for ja, romaji in ROMAJI.items():
            if ja in customer:
                return romaji
        return customer.split(maxsplit=1)[0].lower()

    def services_and_roles(self) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        services: list[tuple[object, ...]] = []
        roles: list[tuple[object, ...]] = []
        role_id = 0
        for org in range(1, self.n_orgs + 1):
            self.roles[org] = []
            for service_index, env in enumerate(ENVS):
                service_id = (org - 1) * len(ENVS) + service_index + 1
                services.append((service_id, env, "", False, org, org))
                for role in ROLES:
                    role_id += 1
                    roles.append((role_id, role, "", org, org, service_id))
                    self.roles[org].append((role_id, f"{role}-{env}"))
        return services, roles

    def host_counts(self) -> list[int]:
        """Hosts per organization: the first has ``big_hosts``, the rest share the remainder."""
        rest = self.n_hosts - self.big_hosts
        others = self.n_orgs - 1
        counts = [self.big_hosts] + [rest // others] * others
        for index in range(rest % others):
            counts[1 + index] += 1
        return counts

    def host_rows(self) -> Iterator[tuple[object, ...]]:
        rng = self.rng
        host_id = 0
        for org, count in enumerate(self.host_counts(), start=1):
            # Customers reuse the same private ranges: an address can be several hosts'.
            second_octet = org % 20
            for n in range(count):
                host_id += 1
                role_id, role_env = rng.choice(self.roles[org])
                role, env = role_env.split("-")
                self.hosts.append(_Host(host_id, org, org, role_id))
                yield self._host(host_id, org, n, role, env, second_octet)

    def _host(  # noqa: PLR0917 - one call site, in order
        self, host_id: int, org: int, n: int, role: str, env: str, octet: int
    ) -> tuple[object, ...]:
        rng = self.rng
        ipv4 = f"10.{octet}.{n // 250}.{n % 250 + 1}"
        style = rng.random()
        if style < 0.6:
            name = f"{rng.choice(SITES)}-{role}-{env}-{n:04d}"
        elif style < 0.85:
            name = f"ip-{ipv4.replace('.', '-')}.ap-northeast-1.compute.internal"
        else:
            name = f"{role}{n:03d}.{self.org_names[org - 1]}.example.jp"
        display = f"{JA_ENVS[env]} {JA_ROLES[role]} {n + 1}号機" if rng.random() < 0.4 else ""
        custom = f"i-0{rng.getrandbits(64):016x}" if rng.random() < 0.4 else ""
        addresses = [ipv4]
        if rng.random() < 0.2:
            addresses.append(f"2001:db8:{org:x}::{n:x}")
        if rng.random() < 0.1:
            addresses.append(f"203.0.{113 + org % 3}.{n % 254 + 1}")
        memo = self._memo(role) if rng.random() < 0.5 else ""
        retired = rng.random() < 0.05
        status = rng.choices(
            ["working", "standby", "maintenance", "poweroff"], weights=[85, 8, 5, 2]
        )[0]
        hid = mackerel_id(rng)
        if rng.random() < 0.002:
            self.dataset.host_ids.append(hid)
            self.dataset.host_names.append(name)
            self.dataset.addresses.append(ipv4)
        return (
            host_id, hid, name, display, custom, status, memo, " ".join(addresses), "[]", "{}",
            retired, self.now if retired else None, EPOCH, False, self.now, self.now, org, org,
        )  # fmt: skip

    def _memo(self, role: str) -> str:
        rng = self.rng
        day = EPOCH + timedelta(days=rng.randrange(HISTORY_DAYS))
        return rng.choice(MEMOS).format(
            person=rng.choice(PEOPLE), n=rng.randrange(100, 999), vendor=rng.choice(VENDORS),
            contract=f"MC-{rng.randrange(10**6):06d}", role=role, date=f"{day:%Y-%m-%d}",
        )  # fmt: skip

    def host_role_rows(self) -> Iterator[tuple[object, ...]]:
        for host in self.hosts:
            yield (host.id, host.id, host.role_id)

    def case_and_event_lines(self) -> Iterator[tuple[str, str]]:
        """("case", line) and ("event", line) in COPY's text format, spread over every host and
        the whole history. Written as text directly: a million rows through the generic row
        formatter would take a minute of Python on its own (no generated value needs escaping)."""
        rng = self.rng
        event_id = 0
        span = HISTORY_DAYS * 86400
        hosts = self.hosts
        for case_id in range(1, self.n_cases + 1):
            host = hosts[rng.randrange(len(hosts))]
            # A few percent open, more of them among the newest.
            opened = (EPOCH + timedelta(seconds=span * case_id // self.n_cases)).isoformat()
            is_open = rng.random() < (0.2 if case_id > self.n_cases * 0.99 else 0.02)
            monitor, monitor_type, metric = rng.choice(MONITORS)
            severity = "critical" if rng.random() < 0.5 else "warning"
            alert_id = mackerel_id(rng)
            if rng.random() < 0.0002:
                self.dataset.case_ids.append(alert_id)
            org = self.org_names[host.org - 1]
            message = f"{monitor} {rng.uniform(80, 100):.1f} > 80" if metric else "ping timeout"
            code = uuid.UUID(int=rng.getrandbits(128), version=4)
            closed = "\\N"
            if not is_open:
                closed = (
                    EPOCH
                    + timedelta(seconds=span * case_id // self.n_cases + rng.randrange(60, 36000))
                ).isoformat()
            last = opened if is_open else closed
            yield (
                "case",
                (
                    f"{case_id}\t{code}\t{alert_id}\t{monitor}\t{monitor_type}\t{severity}\t"
                    f"{'t' if is_open else 'f'}\t{message}\t{metric}\t\\N\t80\t90\t>\t{opened}\t"
                    f"{closed}\t{'' if is_open else 'auto'}\t{last}\t{opened}\t"
                    f"https://mackerel.io/orgs/{org}/alerts/{alert_id}\twebhook\t{opened}\t{last}\t"
                    f"\\N\t{host.customer}\t{host.id}\t\\N\t{host.org}\t\\N"
                ),
            )
            event_id += 1
            yield (
                "event",
                (
                    f"{event_id}\topened\t{severity}\t\twebhook\t\t{message}\t\\N\t\t{opened}\tt\t"
                    f"{opened}\t{opened}\t{case_id}\t{host.customer}\t\\N"
                ),
            )
            if not is_open:
                event_id += 1
                yield (
                    "event",
                    (
                        f"{event_id}\tclosed\tok\t{severity}\twebhook\tauto\t\t\\N\t\t{closed}\tt\t"
                        f"{closed}\t{closed}\t{case_id}\t{host.customer}\t\\N"
                    ),
                )


COLUMNS = {
    "accounts_customer": "id, code, name, memo, is_active, created_at",
    "orgs_organization": (
        "id, code, name, display_name, memo, is_active, api_key_encrypted, api_key_last4, "
        "api_key_updated_at, webhook_token_digest, webhook_token_hint, "
        "previous_webhook_token_digest, previous_webhook_token_valid_until, created_at, "
        "updated_at, customer_id, webhook_allowed_networks, webhook_password_hash, "
        "webhook_username, alerts_reconciled_at, consecutive_sync_failures, last_sync_at, "
        "last_sync_success_at, sync_error, sync_lock_expires_at, sync_lock_token, sync_started_at"
    ),
    "orgs_service": "id, name, memo, is_deleted, customer_id, organization_id",
    "orgs_role": "id, name, memo, customer_id, organization_id, service_id",
    "orgs_host": (
        "id, mackerel_id, name, display_name, custom_identifier, status, memo, ip_addresses, "
        "interfaces, meta, is_retired, retired_at, mackerel_created_at, is_placeholder, "
        "synced_at, updated_at, customer_id, organization_id"
    ),
    "orgs_host_roles": "id, host_id, role_id",
    "alerts_case": (
        "id, code, alert_id, monitor_name, monitor_type, severity, is_open, message, "
        "metric_label, metric_value, warning_threshold, critical_threshold, monitor_operator, "
        "opened_at, closed_at, close_trigger, status_changed_at, last_webhook_at, mackerel_url, "
        "source, created_at, updated_at, alert_group_id, customer_id, host_id, monitor_id, "
        "organization_id, service_id"
    ),
    "alerts_caseevent": (
        'id, kind, severity, previous_severity, source, "trigger", message, metric_value, '
        '"user", occurred_at, applied, created_at, planned_at, case_id, customer_id, receipt_id'
    ),
}
CHUNK = 20_000


def _copy(conn: psycopg.Connection[Any], table: str, rows: Iterable[Sequence[object]]) -> int:
    """COPY ``rows`` into ``table`` in text format, written in large chunks."""
    count = 0
    with conn.cursor() as cursor, cursor.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as cp:
        lines: list[str] = []
        for row in rows:
            lines.append("\t".join(copy_text(value) for value in row))
            if len(lines) >= CHUNK:
                cp.write("\n".join(lines) + "\n")
                count += len(lines)
                lines.clear()
        if lines:
            cp.write("\n".join(lines) + "\n")
            count += len(lines)
    return count


def _secondary_indexes(conn: psycopg.Connection[Any], tables: Sequence[str]) -> list[str]:
    """CREATE INDEX statements of the indexes that back no constraint: dropped before the load
    and built again after it, which is several times faster than keeping them up to date."""
    rows = conn.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.tablename = ANY(%s) AND i.schemaname = 'public'
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [list(tables)],
    ).fetchall()
    for name, _ in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [str(definition) for _, definition in rows]


def fill(
    db_url: str,
    *,
    orgs: int = 70,
    hosts: int = 70_000,
    cases: int = 1_000_000,
    big_customer_hosts: int = 5_000,
    seed: int = 7,
    log: Any = print,
) -> Dataset:
    """Load the world into the empty, migrated database at ``db_url``; what was loaded."""
    builder = _Builder(orgs, hosts, cases, min(big_customer_hosts, hosts), seed)
    data = builder.dataset
    with psycopg.connect(db_url) as conn:
        # The rows are consistent by construction: skip the foreign-key triggers while loading
        # (needs a superuser, as the benchmarks' postgres user is).
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '256MB'")
        indexes = _secondary_indexes(conn, list(COLUMNS))
        started = time.perf_counter()
        data.customers = _copy(conn, "accounts_customer", builder.customers())
        data.organizations = _copy(conn, "orgs_organization", builder.organizations())
        services, roles = builder.services_and_roles()
        _copy(conn, "orgs_service", services)
        _copy(conn, "orgs_role", roles)
        data.hosts = _copy(conn, "orgs_host", builder.host_rows())
        _copy(conn, "orgs_host_roles", builder.host_role_rows())
        data.seconds["hosts"] = round(time.perf_counter() - started, 1)
        log(
            f"{data.hosts} hosts of {data.organizations} organizations in {data.seconds['hosts']} s"
        )
        conn.commit()  # the indexes are dropped: the COPY streams' connections must not wait
        started = time.perf_counter()
        data.cases, data.events = _copy_cases(db_url, builder)
        data.seconds["cases"] = round(time.perf_counter() - started, 1)
        log(f"{data.cases} cases, {data.events} events in {data.seconds['cases']} s")
        started = time.perf_counter()
        for statement in indexes:
            conn.execute(statement)
        for table in COLUMNS:
            conn.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({}, 'id'), "
                    "(SELECT coalesce(max(id), 1) FROM {}))"
                ).format(sql.Literal(table), sql.Identifier(table))
            )
        conn.commit()
        data.seconds["indexes"] = round(time.perf_counter() - started, 1)
        log(f"{len(indexes)} indexes built in {data.seconds['indexes']} s")
    started = time.perf_counter()
    with psycopg.connect(db_url, autocommit=True) as conn:
        # Statistics and the visibility map, as autovacuum would leave them after a while.
        conn.execute("VACUUM (ANALYZE)")
    data.seconds["vacuum_analyze"] = round(time.perf_counter() - started, 1)
    data.big_customer = data.customer_names[0]
    data.big_customer_hosts = builder.host_counts()[0]
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT count(*) FROM alerts_case WHERE customer_id = 1").fetchone()
    data.big_customer_cases = int(row[0]) if row else 0
    return data


class _CopyStream(threading.Thread):
    """One COPY into one table on a connection of its own, fed chunks of lines by a queue:
    PostgreSQL stores one chunk while Python generates the next."""

    def __init__(self, db_url: str, table: str) -> None:
        super().__init__(name=f"copy {table}", daemon=True)
        self.db_url, self.table = db_url, table
        self.chunks: queue.Queue[str | None] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with psycopg.connect(self.db_url) as conn:
                conn.execute("SET session_replication_role = replica")
                conn.execute("SET synchronous_commit = off")
                statement = f"COPY {self.table} ({COLUMNS[self.table]}) FROM STDIN"
                with conn.cursor() as cursor, cursor.copy(statement) as copy:
                    while (chunk := self.chunks.get()) is not None:
                        copy.write(chunk)
        except BaseException as exc:  # reported by put() and finish() in the main thread
            self.error = exc

    def put(self, lines: list[str]) -> None:
        while True:
            if self.error is not None or not self.is_alive():
                raise RuntimeError(f"COPY into {self.table} failed: {self.error}")
            with contextlib.suppress(queue.Full):
                self.chunks.put("\n".join(lines) + "\n", timeout=1)
                return

    def finish(self) -> None:
        if self.is_alive():
            self.chunks.put(None)
        self.join()
        if self.error is not None:
            raise RuntimeError(f"COPY into {self.table} failed: {self.error}")


def _copy_cases(db_url: str, builder: _Builder) -> tuple[int, int]:
    """Cases and their events, generated together, each streamed by its own COPY."""
    streams = {
        "case": _CopyStream(db_url, "alerts_case"),
        "event": _CopyStream(db_url, "alerts_caseevent"),
    }
    lines: dict[str, list[str]] = {"case": [], "event": []}
    totals = {"case": 0, "event": 0}
    for stream in streams.values():
        stream.start()
    try:
        for kind, line in builder.case_and_event_lines():
            lines[kind].append(line)
            if len(lines[kind]) >= CHUNK:
                streams[kind].put(lines[kind])
                totals[kind] += len(lines[kind])
                lines[kind] = []
        for kind, rest in lines.items():
            if rest:
                streams[kind].put(rest)
                totals[kind] += len(rest)
    finally:
        for stream in streams.values():
            stream.finish()
    return totals["case"], totals["event"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else "")
    parser.add_argument("--db-url", required=True, help="an empty, migrated Tairyo database")
    parser.add_argument("--orgs", type=int, default=70)
    parser.add_argument("--hosts", type=int, default=70_000)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--big-customer-hosts", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    data = fill(
        args.db_url, orgs=args.orgs, hosts=args.hosts, cases=args.cases,
        big_customer_hosts=args.big_customer_hosts, seed=args.seed,
    )  # fmt: skip
    print(data.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
