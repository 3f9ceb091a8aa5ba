"""Dumping the world to JSON and loading it back (also from short hand-written world files)."""

from __future__ import annotations

from typing import Any

from mackerel_sim import alert_groups, alerting, channels, downtimes, inventory, monitors
from mackerel_sim.alerting import alert_key
from mackerel_sim.state import (
    JSON,
    Alert,
    AlertGroup,
    AlertGroupSetting,
    AlertLog,
    CheckState,
    Downtime,
    Host,
    Monitor,
    Organization,
    Role,
    Series,
    Service,
    World,
)

VERSION = 1


def _dump_alert(alert: Alert) -> JSON:
    return {
        **alert.to_api(),
        "seq": alert.seq,
        "hostId": alert.host_id,
        "value": alert.value,
        "message": alert.message,
        "openedAt": alert.opened_at,
        "closedAt": alert.closed_at,
        "statusChangedAt": alert.status_changed_at,
        "lastNotifiedAt": alert.last_notified_at,
        "groupIds": alert.group_ids,
        "logs": [log.to_api() for log in alert.logs],
    }


def _dump_series(store: dict[str, dict[str, Series]]) -> JSON:
    return {
        owner: {name: [[t, s.values[t]] for t in s.times] for name, s in by_name.items()}
        for owner, by_name in store.items()
    }


def dump_org(org: Organization, *, include_metrics: bool) -> JSON:
    data: JSON = {
        "id": org.id,
        "name": org.name,
        "displayName": org.display_name,
        "rwKey": org.rw_key,
        "roKey": org.ro_key,
        "defaultHostStatus": org.default_host_status,
        "services": [
            {
                "id": s.id,
                "name": s.name,
                "memo": s.memo,
                "roles": [r.to_api() for r in s.roles.values()],
            }
            for s in org.services.values()
        ],
        "hosts": [{**h.to_api(), "reachable": h.reachable} for h in org.hosts.values()],
        "monitors": [{**m.to_api(), "hostId": m.host_id} for m in org.monitors.values()],
        "checkStates": {k: vars(v) for k, v in org.check_states.items()},
        "alerts": [_dump_alert(org.alerts[a]) for a in org.alert_order],
        "downtimes": [d.to_api() for d in org.downtimes.values()],
        "channels": [{**c.to_api(), "failures": c.failures} for c in org.channels.values()],
        "alertGroupSettings": [s.to_api() for s in org.group_settings.values()],
        "alertGroups": [vars(g) for g in org.groups.values()],
        "faults": org.faults.to_json(),
        "metadata": [
            {"owner": list(owner), "namespace": ns, "value": value, "modifiedAt": modified}
            for owner, by_ns in org.metadata.items()
            for ns, (value, modified) in by_ns.items()
        ],
        "graphDefs": list(org.graph_defs.values()),
    }
    if include_metrics:
        data["hostMetrics"] = _dump_series(org.host_metrics)
        data["serviceMetrics"] = _dump_series(org.service_metrics)
    return data


def dump(world: World, *, include_metrics: bool = False) -> JSON:
    return {
        "version": VERSION,
        "time": world.now(),
        "organizations": [
            dump_org(o, include_metrics=include_metrics) for o in world.orgs.values()
        ],
    }


# --- loading -------------------------------------------------------------------------------------


def _take_id(world: World, data: JSON) -> str:
    given = data.get("id")
    if isinstance(given, str) and given:
        world.ids.reserve(given)
        return given
    return world.ids.new_id()


def _load_services(world: World, org: Organization, items: list[JSON]) -> None:
    for item in items:
        service = Service(id=_take_id(world, item), name=item["name"], memo=item.get("memo", ""))
        for role in item.get("roles", []):
            role_data = role if isinstance(role, dict) else {"name": role}
            service.roles[role_data["name"]] = Role(role_data["name"], role_data.get("memo", ""))
        org.services[service.name] = service


def _load_host(world: World, org: Organization, item: JSON) -> None:
    roles = item.get("roles", {})
    if isinstance(roles, list):  # hand-written files may list full names
        pairs = [r.replace(" ", "").split(":", 1) for r in roles]
        roles = {}
        for service, role in pairs:
            roles.setdefault(service, []).append(role)
    for service, names in roles.items():
        for role in names:
            inventory.ensure_role(world, org, service, role)
    host = Host(
        id=_take_id(world, item),
        name=item["name"],
        created_at=int(item.get("createdAt", world.now())),
        status=item.get("status", org.default_host_status),
        memo=item.get("memo", ""),
        display_name=item.get("displayName"),
        custom_identifier=item.get("customIdentifier"),
        size=item.get("size", "standard"),
        is_retired=item.get("isRetired", False),
        retired_at=item.get("retiredAt"),
        roles={s: list(r) for s, r in roles.items()},
        meta=item.get("meta", {}),
        interfaces=[inventory.normalize_interface(i) for i in item.get("interfaces", [])],
        reachable=item.get("reachable", True),
    )
    org.hosts[host.id] = host


def _load_monitor(world: World, org: Organization, item: JSON) -> None:
    if item.get("type") == "check":
        kept: JSON = {k: item[k] for k in ("name", "memo", "isMute") if k in item}
        monitor = Monitor(_take_id(world, item), "check", kept, host_id=item.get("hostId"))
        org.checks[(str(monitor.host_id), monitor.name)] = monitor.id
        org.check_states.setdefault(monitor.id, CheckState())
    else:
        kind, fields = monitors.normalize(org, item, now=world.now())
        monitor = Monitor(_take_id(world, item), kind, fields)
    org.monitors[monitor.id] = monitor


def _load_alert(world: World, org: Organization, item: JSON) -> None:
    alert = Alert(
        id=_take_id(world, item),
        seq=int(item.get("seq") or world.next_alert_seq()),
        monitor_id=item["monitorId"],
        type=item["type"],
        status=item["status"],
        opened_at=float(item["openedAt"]),
        status_changed_at=float(item.get("statusChangedAt") or item["openedAt"]),
        host_id=item.get("hostId"),
        value=item.get("value"),
        message=item.get("message"),
        series=item.get("series"),
        reason=item.get("reason"),
        closed_at=item.get("closedAt"),
        memo=item.get("memo", ""),
        last_notified_at=item.get("lastNotifiedAt"),
        group_ids=list(item.get("groupIds", [])),
        logs=[
            AlertLog(
                id=log["id"],
                created_at=log["createdAt"],
                status=log["status"],
                trigger=log["trigger"],
                monitor_id=log.get("monitorId"),
                target_value=log.get("targetValue"),
                status_detail=log.get("statusDetail"),
            )
            for log in item.get("logs", [])
        ],
    )
    world.alert_seq = max(world.alert_seq, alert.seq)
    org.alerts[alert.id] = alert
    org.alert_order.append(alert.id)
    if alert.is_open:
        org.open_alerts[alert_key(alert.monitor_id, alert.host_id, alert.series)] = alert.id


def _load_channel(world: World, org: Organization, item: JSON) -> None:
    body = {"type": "webhook", "name": f"webhook {item.get('url')}", **item}
    channel = channels.create(world, org, body)
    if item.get("id"):
        del org.channels[channel.id]
        channel.id = _take_id(world, item)
        org.channels[channel.id] = channel
    channel.suspended_at = item.get("suspendedAt")


def _load_series(target: dict[str, dict[str, Series]], data: JSON) -> None:
    for owner, by_name in data.items():
        for name, points in by_name.items():
            series = target.setdefault(owner, {}).setdefault(name, Series())
            for time, value in points:
                series.put(int(time), value)


def load_org(world: World, data: JSON, *, seed: object) -> Organization:
    name = data["name"]
    if name in world.orgs:
        raise ValueError(f"organization {name!r} already exists")
    org = Organization(
        id=_take_id(world, data),
        name=name,
        rw_key=data.get("rwKey") or world.ids.new_key(),
        ro_key=data.get("roKey") or world.ids.new_key(),
        display_name=data.get("displayName"),
        default_host_status=data.get("defaultHostStatus", "working"),
    )
    org.faults.configure(seed=f"{seed}:faults:{name}")
    _load_services(world, org, data.get("services", []))
    for host in data.get("hosts", []):
        _load_host(world, org, host)
    for monitor in data.get("monitors", []):
        _load_monitor(world, org, monitor)
    for monitor_id, state in data.get("checkStates", {}).items():
        org.check_states[monitor_id] = CheckState(**state)
    for alert in sorted(data.get("alerts", []), key=lambda a: a.get("seq") or 0):
        _load_alert(world, org, alert)
    for alert_id in org.open_alerts.values():
        alerting.schedule_renotification(world, org, org.alerts[alert_id])
    for item in data.get("downtimes", []):
        downtime_id = _take_id(world, item)
        org.downtimes[downtime_id] = Downtime(downtime_id, downtimes.normalize(org, item))
    for channel in data.get("channels", []):
        _load_channel(world, org, channel)
    for setting in data.get("alertGroupSettings", []):
        setting_id = _take_id(world, setting)
        org.group_settings[setting_id] = AlertGroupSetting(
            setting_id, alert_groups.normalize(org, setting)
        )
    for group in data.get("alertGroups", []):
        org.groups[group["id"]] = AlertGroup(**group)
    for entry in data.get("metadata", []):
        owner = org.metadata.setdefault(tuple(entry["owner"]), {})
        owner[entry["namespace"]] = (entry["value"], float(entry["modifiedAt"]))
    for definition in data.get("graphDefs", []):
        org.graph_defs[definition["name"]] = definition
    _load_series(org.host_metrics, data.get("hostMetrics", {}))
    _load_series(org.service_metrics, data.get("serviceMetrics", {}))
    return org


def load(world: World, data: Any, *, seed: object) -> list[Organization]:
    """Load every organization of a dump into the world, keeping IDs and keys."""
    if not isinstance(data, dict) or not isinstance(data.get("organizations"), list):
        raise ValueError("a state file is an object with an `organizations` array")
    loaded = []
    for item in data["organizations"]:
        org = load_org(world, item, seed=seed)
        for key in (org.rw_key, org.ro_key):
            if key in world.keys:
                raise ValueError("API keys must be unique across organizations")
        world.orgs[org.name] = org
        world.keys[org.rw_key] = (org, True)
        world.keys[org.ro_key] = (org, False)
        loaded.append(org)
    return loaded
