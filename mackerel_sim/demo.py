"""A plausible demo world: services, roles, vmNNNN hosts with bilingual memos, monitors."""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mackerel_sim.simulator import OrgKeys, Simulator

# (service, memo, roles) — memos mix Japanese and English as customers write them.
SERVICES = (
    ("web", "公開 Web サイト / public website", ("app", "nginx")),
    ("db", "データベース (PostgreSQL 16)", ("primary", "replica")),
    ("batch", "夜間バッチ処理 — nightly batch jobs", ("cron", "worker")),
    ("mail", "メール配信 relay", ("mta",)),
    ("cache", "Redis cache cluster", ("redis",)),
    ("api", "取引先向け REST API", ("app", "lb")),
)
HOST_MEMOS = (
    "本番 Web サーバー (ラック A-12)",
    "Primary DB — contact: ops@example.jp before reboot",
    "夜間バッチ用。02:00〜04:00 は高負荷になります",
    "Staging mirror of production; safe to restart",
    "担当: インフラチーム 山田 (内線 4412)",
    "Legacy host, scheduled for replacement in Q3",
    "監視対象: ディスク使用率に注意",
    "Handles outbound mail for the customer portal",
    "",
)
# Documentation address ranges (RFC 5737, RFC 3849): never routable, safe to show.
IPV4_PREFIXES = ("192.0.2.", "198.51.100.", "203.0.113.")
STATUS_WEIGHTS = (("working", 85), ("standby", 8), ("maintenance", 5), ("poweroff", 2))
VM_NAME = re.compile(r"^vm(\d+)$")


def host_name(number: int) -> str:
    return f"vm{number:04d}"


def documentation_ipv4(index: int) -> str:
    prefix = IPV4_PREFIXES[(index // 254) % len(IPV4_PREFIXES)]
    return f"{prefix}{index % 254 + 1}"


def next_vm_number(sim: Simulator) -> int:
    """One past the highest vmNNNN in use, so new hosts never reuse a demo name."""
    highest = 0
    with sim.world.lock:
        for org in sim.world.orgs.values():
            for host in org.hosts.values():
                found = VM_NAME.match(host.name)
                if found:
                    highest = max(highest, int(found.group(1)))
    return highest + 1


def _monitors(service_roles: dict[str, tuple[str, ...]]) -> list[dict[str, Any]]:
    first_service = next(iter(service_roles))
    first_role = f"{first_service}: {service_roles[first_service][0]}"
    return [
        {
            "type": "host",
            "name": "CPU %",
            "memo": "CPU 使用率が高い場合はプロセスを確認",
            "metric": "cpu%",
            "operator": ">",
            "warning": 70,
            "critical": 90,
            "duration": 3,
            "maxCheckAttempts": 1,
            "notificationInterval": 60,
            "scopes": [],
            "excludeScopes": [],
        },
        {
            "type": "host",
            "name": "Load average",
            "memo": "",
            "metric": "loadavg5",
            "operator": ">",
            "warning": 4,
            "critical": 8,
            "duration": 1,
            "maxCheckAttempts": 3,
            "scopes": [first_service],
            "excludeScopes": [],
        },
        {
            "type": "service",
            "name": f"{first_service} - requests",
            "memo": "",
            "service": first_service,
            "metric": f"custom.{first_service}.requests",
            "operator": "<",
            "warning": 10,
            "critical": 1,
            "duration": 1,
            "maxCheckAttempts": 1,
            "missingDurationCritical": 30,
        },
        {
            "type": "external",
            "name": "Top page",
            "memo": "トップページの死活監視",
            "url": "https://www.example.com/",
            "method": "GET",
            "service": first_service,
            "responseTimeWarning": 3000,
            "responseTimeCritical": 5000,
            "responseTimeDuration": 3,
            "maxCheckAttempts": 2,
            "notificationInterval": 30,
        },
        {
            "type": "expression",
            "name": "Average load of the role",
            "memo": "",
            "expression": f'avg(roleSlots("{first_role.replace(" ", "")}", "loadavg5"))',
            "operator": ">",
            "warning": 5,
            "critical": 10,
        },
        {
            "type": "anomalyDetection",
            "name": "Anomaly detection",
            "memo": "",
            "scopes": [first_role],
            "warningSensitivity": "insensitive",
            "criticalSensitivity": "normal",
            "maxCheckAttempts": 3,
        },
    ]


def build(
    sim: Simulator,
    org_names: list[str],
    *,
    hosts_per_org: int = 12,
    webhook_url: str | None = None,
    webhook_events: list[str] | None = None,
    history: bool = True,
) -> list[OrgKeys]:
    """Create (or fill) organizations with a believable inventory; deterministic from the seed.

    With `history`, each organization also gets a couple of alerts already closed, opened and
    closed before any webhook channel exists so they notify nobody.
    """
    rng = random.Random(f"{sim.seed}:demo:{','.join(org_names)}:{hosts_per_org}")
    number = next_vm_number(sim)
    keys = []
    existing = {k.name for k in sim.organizations()}
    for org_index, org in enumerate(org_names):
        keys.append(sim.organization(org) if org in existing else sim.add_organization(org))
        chosen = rng.sample(SERVICES, rng.randint(2, 4))
        service_roles: dict[str, tuple[str, ...]] = {}
        for name, memo, roles in chosen:
            if name not in {s["name"] for s in _services(sim, org)}:
                sim.add_service(org, name, memo=memo)
            for role in roles:
                _ensure_role(sim, org, name, role)
            service_roles[name] = roles
        host_ids = []
        for host_index in range(hosts_per_org):
            service = rng.choice(list(service_roles))
            role = rng.choice(service_roles[service])
            name = host_name(number)
            number += 1
            interfaces: list[dict[str, Any]] = [
                {
                    "name": "eth0",
                    "ipAddress": documentation_ipv4(org_index * 97 + host_index),
                    "macAddress": _mac_address(org_index, host_index),
                }
            ]
            if rng.random() < 0.2:
                interfaces.append({"name": "eth1", "ipv6Addresses": [f"2001:db8::{number:x}"]})
            status = rng.choices([s for s, _ in STATUS_WEIGHTS], [w for _, w in STATUS_WEIGHTS])[0]
            host_ids.append(
                sim.add_host(
                    org,
                    name=name,
                    roles={service: [role]},
                    memo=rng.choice(HOST_MEMOS),
                    custom_identifier=f"{org}-{name}" if rng.random() < 0.3 else None,
                    interfaces=interfaces,
                    status=status,
                    meta={
                        "agent-version": "0.84.0",
                        "agent-name": "mackerel-agent/0.84.0 (Revision 1b684c4)",
                        "kernel": {"name": "Linux", "release": "6.1.0-28-amd64", "os": "GNU/Linux"},
                        "cpu": [{"model_name": "Intel(R) Xeon(R) Gold 6338", "mhz": "2000.000"}]
                        * rng.choice((2, 4, 8)),
                        "memory": {"total": f"{rng.choice((4, 8, 16, 32)) * 1024 * 1024}kB"},
                    },
                )
            )
        monitor_ids = [sim.add_monitor(org, body) for body in _monitors(service_roles)]
        if history and host_ids:
            for _ in range(2):
                alert_id = sim.open_alert(
                    org,
                    monitor_ids[0],
                    host_id=rng.choice(host_ids),
                    status="WARNING",
                    value=round(rng.uniform(70, 89), 1),
                )
                sim.close_alert(org, alert_id, manual=False)
        if webhook_url:
            sim.add_webhook_channel(org, webhook_url, webhook_events, name="Tairyo")
    return keys


def _mac_address(org_index: int, host_index: int) -> str:
    # 02:… is a locally administered address: never a real vendor's.
    octets = (
        2,
        0,
        org_index // 256 % 256,
        org_index % 256,
        host_index // 256 % 256,
        host_index % 256,
    )
    return ":".join(f"{o:02x}" for o in octets)


def _services(sim: Simulator, org: str) -> list[dict[str, Any]]:
    with sim.world.lock:
        return [s.to_api() for s in sim.world.org(org).services.values()]


def _ensure_role(sim: Simulator, org: str, service: str, role: str) -> None:
    with sim.world.lock:
        if role not in sim.world.org(org).services[service].roles:
            sim.add_role(org, service, role)
