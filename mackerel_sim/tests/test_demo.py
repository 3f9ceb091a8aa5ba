"""The demo world: plausible, bilingual, in documentation address ranges, reproducible."""

from __future__ import annotations

import ipaddress
import re

from mackerel_sim import Simulator
from mackerel_sim.tests.conftest import START

DOC_NETS = [
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
]
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def build(seed: int) -> Simulator:
    sim = Simulator(seed=seed, start_time=START, speed=0)
    sim.build_demo(["acme-prod", "globex"], hosts_per_org=30)
    return sim


def test_demo_world_is_plausible() -> None:
    with build(1) as sim:
        hosts = [h for org in ("acme-prod", "globex") for h in sim.hosts(org)]
        names = [h["name"] for h in hosts]
        assert len(hosts) == 60 and len(set(names)) == 60
        assert all(re.fullmatch(r"vm\d{4}", n) for n in names)
        addresses = [
            a
            for h in hosts
            for i in h["interfaces"]
            for a in i.get("ipv4Addresses", []) + i.get("ipv6Addresses", [])
        ]
        assert addresses and all(
            any(ipaddress.ip_address(a) in net for net in DOC_NETS) for a in addresses
        )
        memos = [h["memo"] for h in hosts if h["memo"]]
        assert any(JAPANESE.search(m) for m in memos)
        assert any(m.isascii() for m in memos)
        assert {h["status"] for h in hosts} >= {"working", "standby"}
        assert all(h["roles"] for h in hosts)
        assert any("customIdentifier" in h for h in hosts)
        kinds = {m["type"] for m in sim.monitors("acme-prod")}
        assert kinds == {
            "connectivity",
            "host",
            "service",
            "external",
            "expression",
            "anomalyDetection",
        }
        history = sim.alerts("acme-prod")
        assert history and all(a["status"] == "OK" for a in history)


def test_demo_world_is_reproducible() -> None:
    with build(3) as first, build(3) as again, build(4) as other:
        assert first.dump_state() == again.dump_state()
        assert first.organizations() == again.organizations()
        assert first.dump_state() != other.dump_state()
