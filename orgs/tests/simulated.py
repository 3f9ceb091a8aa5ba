"""A simulated Mackerel served over HTTP for sync tests (imported by the apps' conftest files)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from mackerel_sim import ApiError, OrgKeys, Simulator
from orgs import sync
from orgs.models import Host, Organization


@dataclass
class SimulatedMackerel:
    """The simulator, its URL, and a way to give a Tairyo organization its Mackerel twin."""

    sim: Simulator
    url: str

    def connect(self, org: Organization, *, hosts: int = 0) -> OrgKeys:
        """Create ``org`` in the simulator (a demo world of ``hosts`` hosts, or an empty one
        with its connectivity monitor) and store its read-only key: sync only reads."""
        if hosts:
            keys = self.sim.build_demo([org.name], hosts_per_org=hosts, history=False)[0]
        else:
            keys = self.sim.add_organization(org.name)
        org.set_api_key(keys.ro_key)
        org.save()
        return keys

    def add_hosts(self, org: Organization, count: int, *, service: str = "web") -> list[str]:
        """``count`` working hosts in role ``<service>: app``."""
        with contextlib.suppress(ApiError):  # the service exists already
            self.sim.add_service(org.name, service)
            self.sim.add_role(org.name, service, "app")
        return [
            self.sim.add_host(
                org.name,
                name=f"{org.name}-{service}{index:04d}",
                roles={service: ["app"]},
                memo=f"{service} {index}",
                interfaces=[{"name": "eth0", "ipAddress": f"10.{index // 250}.{index % 250}.1"}],
            )
            for index in range(count)
        ]


@pytest.fixture
def mackerel(settings: Any) -> Iterator[SimulatedMackerel]:
    """A Mackerel simulator on a free port, Tairyo's client pointed at it; its clock is frozen
    (``sim.advance`` moves it) so every timestamp is reproducible."""
    sim = Simulator(seed=11, speed=0)
    server = sim.serve(port=0)
    settings.MACKEREL_API_URL = server.url
    # The client's waits between retries, shortened so fault tests take seconds.
    backoff = sync.CLIENT_BACKOFF
    sync.CLIENT_BACKOFF = 0.02
    yield SimulatedMackerel(sim, server.url)
    sync.CLIENT_BACKOFF = backoff
    sim.close()


def mirror(org: Organization) -> dict[str, dict[str, Any]]:
    """The host mirror of ``org`` in the shape the simulator lists hosts (REST form)."""
    hosts = {}
    for host in Host.objects.filter(organization=org).prefetch_related("roles__service"):
        roles: dict[str, list[str]] = {}
        for role in host.roles.all():
            roles.setdefault(role.service.name, []).append(role.name)
        hosts[host.mackerel_id] = {
            "name": host.name,
            "displayName": host.display_name or None,
            "customIdentifier": host.custom_identifier or None,
            "status": host.status,
            "memo": host.memo,
            "roles": {service: sorted(names) for service, names in roles.items()},
            "ips": host.ip_addresses.split(),
            "isRetired": host.is_retired,
            "placeholder": host.is_placeholder,
        }
    return hosts


def simulated(sim: Simulator, org: Organization) -> dict[str, dict[str, Any]]:
    """The simulator's hosts of ``org`` (retired ones too), in the shape of ``mirror``."""
    hosts = {}
    for host in sim.hosts(org.name, include_retired=True):
        ips = []
        for interface in host["interfaces"]:
            ips += [interface["ipAddress"]] if interface.get("ipAddress") else []
            ips += interface.get("ipv4Addresses", []) + interface.get("ipv6Addresses", [])
        hosts[host["id"]] = {
            "name": host["name"],
            "displayName": host.get("displayName"),
            "customIdentifier": host.get("customIdentifier"),
            "status": host["status"],
            "memo": host["memo"],
            "roles": {service: sorted(names) for service, names in host["roles"].items()},
            "ips": list(dict.fromkeys(ips)),
            "isRetired": host["isRetired"],
            "placeholder": False,
        }
    return hosts
