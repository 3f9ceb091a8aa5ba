"""Services, roles and hosts: the writes of mackerel-api.md §3 and §4, with their webhooks."""

from __future__ import annotations

from typing import Any

from mackerel_sim import alerting, evaluation, webhooks
from mackerel_sim.errors import ApiError, bad_request, not_found
from mackerel_sim.naming import (
    check_check_name,
    check_host_name,
    check_role_name,
    check_service_name,
    split_role_fullname,
)
from mackerel_sim.state import HOST_STATUSES, JSON, Host, Organization, Role, Service, World

BULK_LIMIT = 30


# --- services and roles ----------------------------------------------------------------------


def _memo(body: JSON) -> str:
    memo = body.get("memo", "")
    if memo is None:
        return ""
    if not isinstance(memo, str):
        raise bad_request("memo must be a string")
    return memo


def create_service(world: World, org: Organization, body: Any) -> Service:
    if not isinstance(body, dict):
        raise bad_request("invalid body")
    name = check_service_name(body.get("name"))
    if name in org.services:
        raise bad_request(f"service {name} already exists")
    service = Service(id=world.ids.new_id(), name=name, memo=_memo(body))
    org.services[name] = service
    return service


def delete_service(world: World, org: Organization, name: str) -> Service:
    """Delete a service with its roles, metrics and monitors (§4), closing their alerts."""
    service = org.service(name)
    doomed = {
        m.id for m in org.monitors.values() if m.fields.get("service") == name and m.type != "check"
    }
    alerting.close_alerts_where(
        world,
        org,
        lambda a: a.monitor_id in doomed,
        reason="service deleted",
        trigger="delete service",
    )
    for monitor_id in doomed:
        del org.monitors[monitor_id]
    for host in org.hosts.values():
        host.roles.pop(name, None)
    org.service_metrics.pop(name, None)
    del org.services[name]
    return service


def create_role(world: World, org: Organization, service_name: str, body: Any) -> Role:
    service = org.service(service_name)
    if not isinstance(body, dict):
        raise bad_request("invalid body")
    name = check_role_name(body.get("name"))
    if name in service.roles:
        raise bad_request(f"role {name} already exists")
    role = Role(name=name, memo=_memo(body))
    service.roles[name] = role
    return role


def delete_role(org: Organization, service_name: str, role_name: str) -> Role:
    service = org.service(service_name)
    role = service.roles.pop(role_name, None)
    if role is None:
        raise not_found("Role")
    for host in org.hosts.values():
        if role_name in host.roles.get(service_name, []):
            host.roles[service_name].remove(role_name)
            if not host.roles[service_name]:
                del host.roles[service_name]
    return role


def ensure_role(world: World, org: Organization, service_name: str, role_name: str) -> None:
    """Create the service and role if missing, as host registration does (§3.3)."""
    check_service_name(service_name)
    check_role_name(role_name)
    service = org.services.get(service_name)
    if service is None:
        service = Service(id=world.ids.new_id(), name=service_name)
        org.services[service_name] = service
    service.roles.setdefault(role_name, Role(name=role_name))


def _assign_roles(
    world: World, org: Organization, host: Host, pairs: list[tuple[str, str]]
) -> None:
    for service_name, role_name in pairs:
        ensure_role(world, org, service_name, role_name)
        roles = host.roles.setdefault(service_name, [])
        if role_name not in roles:
            roles.append(role_name)


# --- hosts ------------------------------------------------------------------------------------


def normalize_interface(raw: Any) -> JSON:
    """Plural address arrays win over the singular fields (§3.3)."""
    if not isinstance(raw, dict):
        raise bad_request("invalid interfaces")
    ipv4 = raw.get("ipv4Addresses") or ([raw["ipAddress"]] if raw.get("ipAddress") else [])
    ipv6 = raw.get("ipv6Addresses") or ([raw["ipv6Address"]] if raw.get("ipv6Address") else [])
    if not all(isinstance(a, str) for a in [*ipv4, *ipv6]):
        raise bad_request("invalid interfaces")
    # Empty address lists are left out, as in the documented host example (§3.1).
    interface: JSON = {"name": str(raw.get("name", ""))}
    if ipv4:
        interface["ipAddress"] = ipv4[0]
        interface["ipv4Addresses"] = list(ipv4)
    if ipv6:
        interface["ipv6Address"] = ipv6[0]
        interface["ipv6Addresses"] = list(ipv6)
    if raw.get("macAddress"):
        interface["macAddress"] = str(raw["macAddress"])
    return interface


def _custom_identifier(org: Organization, body: JSON, host_id: str | None) -> str | None:
    value = body.get("customIdentifier")
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise bad_request("customIdentifier must be a string")
    for other in org.hosts.values():
        if other.id != host_id and not other.is_retired and other.custom_identifier == value:
            raise bad_request(f"customIdentifier {value} is already used by another host")
    return value


def _role_pairs(body: JSON) -> list[tuple[str, str]]:
    fullnames = body.get("roleFullnames") or []
    if not isinstance(fullnames, list):
        raise bad_request("roleFullnames must be an array")
    return [split_role_fullname(f) for f in fullnames]


def _host_fields(org: Organization, body: Any, host_id: str | None) -> JSON:
    if not isinstance(body, dict):
        raise bad_request("invalid body")
    meta = body.get("meta", {})
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise bad_request("meta must be an object")
    interfaces = body.get("interfaces")
    if interfaces is not None and not isinstance(interfaces, list):
        raise bad_request("interfaces must be an array")
    display_name = body.get("displayName")
    if display_name is not None and not isinstance(display_name, str):
        raise bad_request("displayName must be a string")
    checks = body.get("checks")
    if checks is not None and not (
        isinstance(checks, list) and all(isinstance(c, dict) for c in checks)
    ):
        raise bad_request("checks must be an array of objects")
    return {
        "name": check_host_name(body.get("name")),
        "meta": meta,
        "memo": _memo(body) if "memo" in body else None,
        "display_name": display_name or None,
        "custom_identifier": _custom_identifier(org, body, host_id),
        "interfaces": None if interfaces is None else [normalize_interface(i) for i in interfaces],
        "roles": _role_pairs(body),
        "checks": None if checks is None else [check_check_name(c.get("name")) for c in checks],
    }


def create_host(world: World, org: Organization, body: Any, *, status: str | None = None) -> Host:
    fields = _host_fields(org, body, None)
    host = Host(
        id=world.ids.new_id(),
        name=fields["name"],
        created_at=int(world.now()),
        status=status or org.default_host_status,
        memo=fields["memo"] or "",
        display_name=fields["display_name"],
        custom_identifier=fields["custom_identifier"],
        meta=fields["meta"],
        interfaces=fields["interfaces"] or [],
    )
    if host.status not in HOST_STATUSES:
        raise bad_request(f"invalid status: {host.status}")
    _assign_roles(world, org, host, fields["roles"])
    org.hosts[host.id] = host
    world.emit(org, "hostRegister", webhooks.host_payload(org, "hostRegister", host))
    return host


def live_host(org: Organization, host_id: str) -> Host:
    """A host that can still be written to: retired hosts answer 404 to writes."""
    host = org.host(host_id)
    if host.is_retired:
        raise not_found("Host")
    return host


def update_host(world: World, org: Organization, host_id: str, body: Any) -> Host:
    """PUT: replaces the host's fields but never removes roles (§3.3)."""
    host = live_host(org, host_id)
    fields = _host_fields(org, body, host.id)
    host.name = fields["name"]
    host.meta = fields["meta"]
    host.display_name = fields["display_name"]
    host.custom_identifier = fields["custom_identifier"]
    if fields["memo"] is not None:
        host.memo = fields["memo"]
    if fields["interfaces"] is not None:
        host.interfaces = fields["interfaces"]
    _assign_roles(world, org, host, fields["roles"])
    if fields["checks"] is not None:
        _forget_unlisted_checks(org, host, set(fields["checks"]))
    return host


def _forget_unlisted_checks(org: Organization, host: Host, listed: set[str]) -> None:
    """Check monitors the agent no longer lists, and without an open alert, go away (§3.3)."""
    for (host_id, name), monitor_id in list(org.checks.items()):
        if host_id != host.id or name in listed:
            continue
        if any(org.alerts[a].monitor_id == monitor_id for a in org.open_alerts.values()):
            continue
        del org.checks[(host_id, name)]
        org.monitors.pop(monitor_id, None)
        org.check_states.pop(monitor_id, None)


def set_memo(org: Organization, host_id: str, memo: str) -> Host:
    host = live_host(org, host_id)
    host.memo = memo
    return host


def check_status(status: Any) -> str:
    if status not in HOST_STATUSES:
        raise bad_request(f"invalid status: {status!r}")
    return str(status)


def set_status(
    world: World, org: Organization, host: Host, status: Any, *, user: str | None = None
) -> Host:
    status = check_status(status)
    if host.status == status:
        return host
    previous, host.status = host.status, status
    payload = webhooks.host_payload(org, "hostStatus", host, user=user, from_status=previous)
    world.emit(org, "hostStatus", payload)
    evaluation.refresh_connectivity(world, org, host)
    return host


def _bulk_hosts(org: Organization, body: Any) -> list[Host]:
    if not isinstance(body, dict) or not isinstance(body.get("ids"), list):
        raise bad_request("ids is required")
    ids = body["ids"]
    if len(ids) > BULK_LIMIT:
        raise bad_request(f"the number of ids must be {BULK_LIMIT} or less")
    hosts = [org.hosts.get(i) if isinstance(i, str) else None for i in ids]
    if any(h is None or h.is_retired for h in hosts):
        raise ApiError(404, "Hosts Not Found.")
    return [h for h in hosts if h is not None]


def bulk_set_status(world: World, org: Organization, body: Any) -> None:
    hosts = _bulk_hosts(org, body)
    status = check_status(body.get("status"))
    for host in hosts:
        set_status(world, org, host, status)


def set_role_fullnames(world: World, org: Organization, host_id: str, body: Any) -> Host:
    """Replace the host's roles with exactly these (§3.2)."""
    host = live_host(org, host_id)
    if not isinstance(body, dict) or not isinstance(body.get("roleFullnames"), list):
        raise bad_request("roleFullnames is required")
    pairs = _role_pairs(body)
    host.roles = {}
    _assign_roles(world, org, host, pairs)
    return host


def retire(world: World, org: Organization, host: Host, *, user: str | None = None) -> Host:
    """Retire a host: notify (the payload is the pre-retirement snapshot), close its alerts."""
    if host.is_retired:
        raise not_found("Host")
    payload = webhooks.host_payload(org, "hostRetire", host, user=user)
    world.emit(org, "hostRetire", payload)
    alerting.close_alerts_where(
        world, org, lambda a: a.host_id == host.id, reason="host retired", trigger="retire host"
    )
    host.is_retired = True
    host.retired_at = int(world.now())
    return host


def bulk_retire(world: World, org: Organization, body: Any) -> None:
    for host in _bulk_hosts(org, body):
        retire(world, org, host)


def list_hosts(
    org: Organization,
    *,
    service: str | None = None,
    roles: list[str] | None = None,
    name: str | None = None,
    statuses: list[str] | None = None,
    custom_identifier: str | None = None,
) -> list[Host]:
    """GET /hosts: retired hosts never, maintenance and poweroff only when asked for (§3.4)."""
    wanted = statuses or ["working", "standby"]
    for status in wanted:
        check_status(status)
    result = []
    for host in org.hosts.values():
        if host.is_retired or host.status not in wanted:
            continue
        if name is not None and host.name != name:
            continue
        if custom_identifier is not None and host.custom_identifier != custom_identifier:
            continue
        if service is not None:
            if service not in host.roles:
                continue
            # `role` only narrows within `service`, as a union of the roles given.
            if roles and not set(roles) & set(host.roles[service]):
                continue
        result.append(host)
    return result


def host_by_custom_identifier(
    org: Organization, identifier: str, *, case_insensitive: bool
) -> Host:
    """Non-retired hosts only; with caseInsensitive the oldest match wins (§3.2)."""
    matches = [
        h
        for h in org.hosts.values()
        if not h.is_retired
        and h.custom_identifier is not None
        and (
            h.custom_identifier.lower() == identifier.lower()
            if case_insensitive
            else h.custom_identifier == identifier
        )
    ]
    if not matches:
        raise not_found("Host")
    return min(matches, key=lambda h: h.created_at)
