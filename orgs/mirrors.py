"""Upserts of the mirrors of Mackerel's objects (hosts, services, roles, monitors).

Called with plain values by the webhook processing in ``alerts`` and by the inventory sync, so
that both write a host the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone

from orgs.models import Host, Monitor, Organization, Role, Service


def service_named(org: Organization, name: str) -> Service:
    service, _ = Service.objects.get_or_create(
        organization=org, name=name, defaults={"customer_id": org.customer_id}
    )
    return service


def roles_named(org: Organization, fullnames: Iterable[tuple[str, str]]) -> list[Role]:
    """The roles for (service, role) pairs, created when sync has not seen them yet."""
    roles = []
    for service_name, role_name in fullnames:
        service = service_named(org, service_name)
        role, _ = Role.objects.get_or_create(
            service=service,
            name=role_name,
            defaults={"customer_id": org.customer_id, "organization": org},
        )
        roles.append(role)
    return roles


def upsert_webhook_host(
    org: Organization,
    *,
    mackerel_id: str,
    name: str,
    status: str,
    memo: str,
    roles: Iterable[tuple[str, str]],
    retired: bool = False,
) -> Host:
    """The host as a webhook describes it; a host sync has not seen yet is a placeholder.

    Webhooks carry no display name, custom identifier or interfaces, so those stay as sync left
    them.
    """
    host, created = Host.objects.get_or_create(
        organization=org,
        mackerel_id=mackerel_id,
        defaults={
            "customer_id": org.customer_id,
            "name": name,
            "status": status,
            "memo": memo,
            "is_placeholder": True,
        },
    )
    changed: dict[str, object] = {"name": name, "status": status, "memo": memo}
    if retired and not host.is_retired:
        changed |= {"is_retired": True, "retired_at": timezone.now()}
    if not created and any(getattr(host, key) != value for key, value in changed.items()):
        for key, value in changed.items():
            setattr(host, key, value)
        host.save(update_fields=[*changed, "updated_at"])
    wanted = set(roles)
    if created:
        if wanted:
            host.roles.add(*roles_named(org, sorted(wanted)))
        return host
    current = set(host.roles.values_list("service__name", "name"))
    # Every alert webhook repeats the host's roles; only a real change costs more queries.
    if wanted != current:
        host.roles.set(roles_named(org, sorted(wanted)))
    return host


def first_service_of(host: Host) -> Service | None:
    role = host.roles.select_related("service").order_by("service__name", "name").first()
    return role.service if role else None


def upsert_monitor(
    org: Organization, definition: dict[str, Any], deleted_at: datetime | None = None
) -> Monitor:
    monitor, _ = Monitor.objects.update_or_create(
        organization=org,
        mackerel_id=str(definition["id"]),
        defaults={
            "customer_id": org.customer_id,
            "type": str(definition.get("type", "")),
            "name": str(definition.get("name", "")),
            "memo": str(definition.get("memo", "") or ""),
            "is_mute": bool(definition.get("isMute", False)),
            "definition": definition,
            "deleted_at": deleted_at,
        },
    )
    return monitor


def monitor_named(org: Organization, name: str) -> Monitor | None:
    """The live monitor of that name, when the name is unambiguous."""
    matches = list(Monitor.objects.filter(organization=org, name=name, deleted_at=None)[:2])
    return matches[0] if len(matches) == 1 else None
