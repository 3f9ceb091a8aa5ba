"""Hosts, services and roles for tests, made in bulk where a test needs many."""

from __future__ import annotations

from typing import Any

from orgs.models import Host, Organization, Role, Service


def make_role(org: Organization, service: str = "web", name: str = "app") -> Role:
    svc, _ = Service.objects.get_or_create(
        organization=org, name=service, defaults={"customer_id": org.customer_id}
    )
    role, _ = Role.objects.get_or_create(
        organization=org, service=svc, name=name, defaults={"customer_id": org.customer_id}
    )
    return role


def make_host(org: Organization, mackerel_id: str = "4Xk2mQ9sTrB", **fields: Any) -> Host:
    roles = fields.pop("roles", [])
    fields.setdefault("name", f"host-{mackerel_id}")
    host = Host.objects.create(
        customer_id=org.customer_id, organization=org, mackerel_id=mackerel_id, **fields
    )
    host.roles.set(roles)
    return host


def make_hosts(org: Organization, count: int, prefix: str = "h", **fields: Any) -> list[Host]:
    """``count`` hosts in two roles each, in a handful of queries."""
    roles = [make_role(org, "web", "app"), make_role(org, "db", "primary")]
    hosts = Host.objects.bulk_create(
        Host(
            customer_id=org.customer_id,
            organization=org,
            mackerel_id=f"{prefix}{org.pk}x{n:05d}",
            name=f"{prefix}-{org.name}-{n:05d}",
            ip_addresses=f"10.0.{n // 250}.{n % 250 + 1}",
            **fields,
        )
        for n in range(count)
    )
    Host.roles.through.objects.bulk_create(
        Host.roles.through(host_id=host.pk, role_id=role.pk) for host in hosts for role in roles
    )
    return hosts
