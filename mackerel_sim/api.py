"""Mackerel's REST API v0: paths, wrapping and status codes of mackerel-api.md §2–§8.

Each handler runs with the world lock held, so it reads and writes state freely.
"""

from __future__ import annotations

from mackerel_sim import (
    alert_groups,
    alerting,
    channels,
    checks,
    downtimes,
    graph_defs,
    inventory,
    metadata,
    metrics,
    monitors,
)
from mackerel_sim.errors import ApiError, bad_request
from mackerel_sim.routing import Request, Response, Router
from mackerel_sim.state import World

SUCCESS = {"success": True}
PAGE_LIMIT = 100
ALERT_MEMO_MAX = 80 * 1024


def _limit(req: Request) -> int:
    raw = req.one("limit")
    if raw is None:
        return PAGE_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise bad_request("limit must be an integer") from None
    if not 1 <= limit <= PAGE_LIMIT:
        raise bad_request(f"limit must be between 1 and {PAGE_LIMIT}")
    return limit


def _paged(key: str, items: list[object], next_id: str | None) -> Response:
    body: dict[str, object] = {key: items}
    if next_id is not None:
        body["nextId"] = next_id  # only when more items exist (§1.5)
    return Response(body)


# --- organization and hosts ---------------------------------------------------------------


def get_org(world: World, req: Request) -> Response:
    return Response(req.organization.to_api())


def list_hosts(world: World, req: Request) -> Response:
    hosts = inventory.list_hosts(
        req.organization,
        service=req.one("service"),
        roles=req.query.get("role"),
        name=req.one("name"),
        statuses=req.query.get("status"),
        custom_identifier=req.one("customIdentifier"),
    )
    return Response({"hosts": [h.to_api() for h in hosts]})


def create_host(world: World, req: Request) -> Response:
    host = inventory.create_host(world, req.organization, req.json())
    return Response({"id": host.id})


def get_host(world: World, req: Request) -> Response:
    return Response({"host": req.organization.host(req.params[0]).to_api()})


def update_host(world: World, req: Request) -> Response:
    host = inventory.update_host(world, req.organization, req.params[0], req.json())
    return Response({"id": host.id})


def set_host_status(world: World, req: Request) -> Response:
    host = inventory.live_host(req.organization, req.params[0])
    body = req.json()
    inventory.set_status(
        world, req.organization, host, body.get("status") if isinstance(body, dict) else None
    )
    return Response(SUCCESS)


def bulk_update_statuses(world: World, req: Request) -> Response:
    inventory.bulk_set_status(world, req.organization, req.json())
    return Response(SUCCESS)


def set_role_fullnames(world: World, req: Request) -> Response:
    inventory.set_role_fullnames(world, req.organization, req.params[0], req.json())
    return Response(SUCCESS)


def retire_host(world: World, req: Request) -> Response:
    req.json(empty={})
    inventory.retire(world, req.organization, req.organization.host(req.params[0]))
    return Response(SUCCESS)


def bulk_retire(world: World, req: Request) -> Response:
    inventory.bulk_retire(world, req.organization, req.json())
    return Response(SUCCESS)


def host_metric_names(world: World, req: Request) -> Response:
    return Response({"names": metrics.host_metric_names(req.organization, req.params[0])})


def host_metrics(world: World, req: Request) -> Response:
    points = metrics.host_metric_values(req.organization, req.params[0], req.query)
    return Response({"metrics": points})


def monitored_statuses(world: World, req: Request) -> Response:
    statuses = checks.monitored_statuses(req.organization, req.params[0])
    return Response({"monitoredStatuses": statuses})


def host_by_custom_identifier(world: World, req: Request) -> Response:
    host = inventory.host_by_custom_identifier(
        req.organization, req.params[0], case_insensitive=req.one("caseInsensitive") == "true"
    )
    return Response({"host": host.to_api()})


# --- metrics ------------------------------------------------------------------------------------


def post_tsdb(world: World, req: Request) -> Response:
    metrics.post_host_metrics(world, req.organization, req.json())
    return Response(SUCCESS)


def tsdb_latest(world: World, req: Request) -> Response:
    return Response({"tsdbLatest": metrics.latest(req.organization, req.query)})


def post_service_tsdb(world: World, req: Request) -> Response:
    metrics.post_service_metrics(world, req.organization, req.params[0], req.json())
    return Response(SUCCESS)


def service_metrics(world: World, req: Request) -> Response:
    points = metrics.service_metric_values(req.organization, req.params[0], req.query)
    return Response({"metrics": points})


def create_graph_defs(world: World, req: Request) -> Response:
    graph_defs.create(req.organization, req.json())
    return Response(SUCCESS)


def delete_graph_def(world: World, req: Request) -> Response:
    graph_defs.delete(req.organization, req.json())
    return Response(SUCCESS)


def delete_service_graph_def(world: World, req: Request) -> Response:
    req.organization.service(req.params[0])
    return Response(SUCCESS)


# --- metadata ----------------------------------------------------------------------------------


def _metadata_owner(req: Request) -> tuple[str, ...]:
    """The owner named by the path: /hosts/<id>, /services/<svc> or /services/<svc>/roles/<role>."""
    org, params = req.organization, req.params
    if req.path.startswith("/api/v0/hosts/"):
        org.host(params[0])
        return ("host", params[0])
    return metadata.service_key(org, params[0], params[1] if "/roles/" in req.path else None)


def list_metadata(world: World, req: Request) -> Response:
    return Response({"metadata": metadata.namespaces(req.organization, _metadata_owner(req))})


def get_metadata(world: World, req: Request) -> Response:
    value, headers = metadata.get(req.organization, _metadata_owner(req), req.params[-1])
    return Response(value, headers=headers)


def put_metadata(world: World, req: Request) -> Response:
    metadata.put(world, req.organization, _metadata_owner(req), req.params[-1], req.json())
    return Response(SUCCESS)


def delete_metadata(world: World, req: Request) -> Response:
    metadata.delete(req.organization, _metadata_owner(req), req.params[-1])
    return Response(SUCCESS)


# --- services and roles ------------------------------------------------------------------------


def list_services(world: World, req: Request) -> Response:
    services = sorted(req.organization.services.values(), key=lambda s: s.name)
    return Response({"services": [s.to_api() for s in services]})


def create_service(world: World, req: Request) -> Response:
    return Response(inventory.create_service(world, req.organization, req.json()).to_api())


def delete_service(world: World, req: Request) -> Response:
    return Response(inventory.delete_service(world, req.organization, req.params[0]).to_api())


def list_roles(world: World, req: Request) -> Response:
    service = req.organization.service(req.params[0])
    roles = sorted(service.roles.values(), key=lambda r: r.name)
    return Response({"roles": [r.to_api() for r in roles]})


def create_role(world: World, req: Request) -> Response:
    role = inventory.create_role(world, req.organization, req.params[0], req.json())
    return Response(role.to_api())


def delete_role(world: World, req: Request) -> Response:
    role = inventory.delete_role(req.organization, req.params[0], req.params[1])
    return Response(role.to_api())


def service_metric_names(world: World, req: Request) -> Response:
    return Response({"names": metrics.service_metric_names(req.organization, req.params[0])})


# --- monitors and checks -------------------------------------------------------------------------


def list_monitors(world: World, req: Request) -> Response:
    return Response({"monitors": [m.to_api() for m in monitors.listed(req.organization)]})


def get_monitor(world: World, req: Request) -> Response:
    return Response({"monitor": monitors.managed(req.organization, req.params[0]).to_api()})


def create_monitor(world: World, req: Request) -> Response:
    return Response(monitors.create(world, req.organization, req.json()).to_api())


def update_monitor(world: World, req: Request) -> Response:
    return Response(monitors.update(world, req.organization, req.params[0], req.json()).to_api())


def delete_monitor(world: World, req: Request) -> Response:
    return Response(monitors.delete(world, req.organization, req.params[0]).to_api())


def list_checks(world: World, req: Request) -> Response:
    page, next_id = checks.list_checks(
        req.organization, next_id=req.one("nextId"), limit=_limit(req)
    )
    return _paged("checks", list(page), next_id)


def get_check(world: World, req: Request) -> Response:
    return Response({"check": checks.get_check(req.organization, req.params[0])})


def report_checks(world: World, req: Request) -> Response:
    checks.report(world, req.organization, req.json())
    return Response(SUCCESS)


# --- alerts -------------------------------------------------------------------------------------


def list_alerts(world: World, req: Request) -> Response:
    page, next_id = alerting.page_alerts(
        req.organization,
        with_closed=req.one("withClosed") == "true",
        next_id=req.one("nextId"),
        limit=_limit(req),
    )
    return _paged("alerts", [a.to_api() for a in page], next_id)


def get_alert(world: World, req: Request) -> Response:
    return Response(req.organization.alert(req.params[0]).to_api())


def update_alert(world: World, req: Request) -> Response:
    alert = req.organization.alert(req.params[0])
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get("memo"), str):
        raise bad_request("memo is required")
    if len(body["memo"].encode()) > ALERT_MEMO_MAX:
        raise ApiError(413, "memo is too large")
    alert.memo = body["memo"]
    return Response({"id": alert.id, "memo": alert.memo})


def close_alert(world: World, req: Request) -> Response:
    alert = req.organization.alert(req.params[0])
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get("reason"), str):
        raise bad_request("reason is required")
    alerting.close_alert(
        world, req.organization, alert, reason=body["reason"], trigger="manual close"
    )
    return Response(alert.to_api())


def alert_logs(world: World, req: Request) -> Response:
    alert = req.organization.alert(req.params[0])
    page, next_id = alerting.page_logs(alert, next_id=req.one("nextId"), limit=_limit(req))
    return _paged("logs", [log.to_api() for log in page], next_id)


# --- downtimes, channels, alert group settings ---------------------------------------------------


def list_downtimes(world: World, req: Request) -> Response:
    return Response({"downtimes": [d.to_api() for d in req.organization.downtimes.values()]})


def create_downtime(world: World, req: Request) -> Response:
    return Response(downtimes.create(world, req.organization, req.json()).to_api())


def update_downtime(world: World, req: Request) -> Response:
    return Response(downtimes.update(req.organization, req.params[0], req.json()).to_api())


def delete_downtime(world: World, req: Request) -> Response:
    return Response(downtimes.delete(req.organization, req.params[0]).to_api())


def list_channels(world: World, req: Request) -> Response:
    return Response({"channels": [c.to_api() for c in req.organization.channels.values()]})


def create_channel(world: World, req: Request) -> Response:
    return Response(channels.create(world, req.organization, req.json()).to_api())


def update_channel(world: World, req: Request) -> Response:
    return Response(channels.update(req.organization, req.params[0], req.json()).to_api())


def delete_channel(world: World, req: Request) -> Response:
    return Response(channels.delete(req.organization, req.params[0]).to_api())


def list_group_settings(world: World, req: Request) -> Response:
    settings = req.organization.group_settings.values()
    return Response({"alertGroupSettings": [s.to_api() for s in settings]})


def get_group_setting(world: World, req: Request) -> Response:
    return Response(alert_groups.find(req.organization, req.params[0]).to_api())


def create_group_setting(world: World, req: Request) -> Response:
    return Response(alert_groups.create(world, req.organization, req.json()).to_api())


def update_group_setting(world: World, req: Request) -> Response:
    return Response(alert_groups.update(req.organization, req.params[0], req.json()).to_api())


def delete_group_setting(world: World, req: Request) -> Response:
    return Response(alert_groups.delete(req.organization, req.params[0]).to_api())


V0 = "/api/v0"


def _hosts_routes(r: Router[World]) -> None:
    """Organization, hosts and host metrics."""
    r.add("GET", f"{V0}/org", get_org)
    r.add("GET", f"{V0}/hosts", list_hosts)
    r.add("GET", f"{V0}/hosts\\.json", list_hosts)
    r.add("POST", f"{V0}/hosts", create_host, write=True)
    r.add("POST", f"{V0}/hosts/bulk-retire", bulk_retire, write=True)
    r.add("POST", f"{V0}/hosts/bulk-update-statuses", bulk_update_statuses, write=True)
    r.add("GET", f"{V0}/hosts/{{}}", get_host)
    r.add("PUT", f"{V0}/hosts/{{}}", update_host, write=True)
    r.add("POST", f"{V0}/hosts/{{}}/status", set_host_status, write=True)
    r.add("PUT", f"{V0}/hosts/{{}}/role-fullnames", set_role_fullnames, write=True)
    r.add("POST", f"{V0}/hosts/{{}}/retire", retire_host, write=True)
    r.add("GET", f"{V0}/hosts/{{}}/metric-names", host_metric_names)
    r.add("GET", f"{V0}/hosts/{{}}/metrics", host_metrics)
    r.add("GET", f"{V0}/hosts-by-custom-identifier/{{}}", host_by_custom_identifier)
    r.add("POST", f"{V0}/tsdb", post_tsdb, write=True)
    r.add("GET", f"{V0}/tsdb/latest", tsdb_latest)


def _services_routes(r: Router[World]) -> None:
    """Services, roles and service metrics."""
    r.add("GET", f"{V0}/services", list_services)
    r.add("POST", f"{V0}/services", create_service, write=True)
    r.add("DELETE", f"{V0}/services/{{}}", delete_service, write=True)
    r.add("GET", f"{V0}/services/{{}}/roles", list_roles)
    r.add("POST", f"{V0}/services/{{}}/roles", create_role, write=True)
    r.add("DELETE", f"{V0}/services/{{}}/roles/{{}}", delete_role, write=True)
    r.add("GET", f"{V0}/services/{{}}/metric-names", service_metric_names)
    r.add("POST", f"{V0}/services/{{}}/tsdb", post_service_tsdb, write=True)
    r.add("GET", f"{V0}/services/{{}}/metrics", service_metrics)


def _monitors_routes(r: Router[World]) -> None:
    """Monitors and check monitoring."""
    r.add("GET", f"{V0}/hosts/{{}}/monitored-statuses", monitored_statuses)
    r.add("GET", f"{V0}/monitors", list_monitors)
    r.add("POST", f"{V0}/monitors", create_monitor, write=True)
    r.add("GET", f"{V0}/monitors/{{}}", get_monitor)
    r.add("PUT", f"{V0}/monitors/{{}}", update_monitor, write=True)
    r.add("DELETE", f"{V0}/monitors/{{}}", delete_monitor, write=True)
    r.add("GET", f"{V0}/monitoring/checks", list_checks)
    r.add("POST", f"{V0}/monitoring/checks/report", report_checks, write=True)
    r.add("GET", f"{V0}/monitoring/checks/{{}}", get_check)


def _alerts_routes(r: Router[World]) -> None:
    """Alerts and their logs."""
    r.add("GET", f"{V0}/alerts", list_alerts)
    r.add("GET", f"{V0}/alerts/{{}}", get_alert)
    r.add("PUT", f"{V0}/alerts/{{}}", update_alert, write=True)
    r.add("POST", f"{V0}/alerts/{{}}/close", close_alert, write=True)
    r.add("GET", f"{V0}/alerts/{{}}/logs", alert_logs)


def _other_routes(r: Router[World]) -> None:
    """Downtimes, channels and alert group settings."""
    r.add("GET", f"{V0}/downtimes", list_downtimes)
    r.add("POST", f"{V0}/downtimes", create_downtime, write=True)
    r.add("PUT", f"{V0}/downtimes/{{}}", update_downtime, write=True)
    r.add("DELETE", f"{V0}/downtimes/{{}}", delete_downtime, write=True)
    r.add("GET", f"{V0}/channels", list_channels)
    r.add("POST", f"{V0}/channels", create_channel, write=True)
    r.add("PUT", f"{V0}/channels/{{}}", update_channel, write=True)
    r.add("DELETE", f"{V0}/channels/{{}}", delete_channel, write=True)
    r.add("GET", f"{V0}/alert-group-settings", list_group_settings)
    r.add("POST", f"{V0}/alert-group-settings", create_group_setting, write=True)
    r.add("GET", f"{V0}/alert-group-settings/{{}}", get_group_setting)
    r.add("PUT", f"{V0}/alert-group-settings/{{}}", update_group_setting, write=True)
    r.add("DELETE", f"{V0}/alert-group-settings/{{}}", delete_group_setting, write=True)


def _metadata_routes(r: Router[World]) -> None:
    """Metadata of hosts, services and roles, and graph definitions."""
    for owner in (f"{V0}/hosts/{{}}", f"{V0}/services/{{}}", f"{V0}/services/{{}}/roles/{{}}"):
        r.add("GET", f"{owner}/metadata", list_metadata)
        r.add("GET", f"{owner}/metadata/{{}}", get_metadata)
        r.add("PUT", f"{owner}/metadata/{{}}", put_metadata, write=True)
        r.add("DELETE", f"{owner}/metadata/{{}}", delete_metadata, write=True)
    r.add("POST", f"{V0}/graph-defs/create", create_graph_defs, write=True)
    r.add("DELETE", f"{V0}/graph-defs", delete_graph_def, write=True)
    r.add("DELETE", f"{V0}/services/{{}}/graph-defs/{{}}", delete_service_graph_def, write=True)


def build_router() -> Router[World]:
    r: Router[World] = Router()
    groups = (
        _hosts_routes,
        _services_routes,
        _monitors_routes,
        _alerts_routes,
        _other_routes,
        _metadata_routes,
    )
    for add in groups:
        add(r)
    return r
