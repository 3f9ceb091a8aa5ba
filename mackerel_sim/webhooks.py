"""The JSON bodies Mackerel POSTs to webhook channels (mackerel-api.md §9), built from state."""

from __future__ import annotations

import re
from typing import Any

from mackerel_sim.ids import stable_id
from mackerel_sim.state import (
    JSON,
    Alert,
    AlertGroup,
    AlertGroupSetting,
    Host,
    Monitor,
    Organization,
    Service,
)

WEB_BASE = "https://mackerel.io"
# Channel events (what a channel subscribes to) for each webhook `event` value.
CHANNEL_EVENTS = ("alert", "alertGroup", "hostStatus", "hostRegister", "hostRetire", "monitor")
EVENT_TO_CHANNEL_EVENT = {
    "alert": "alert",
    "alertGroup": "alertGroup",
    "hostStatus": "hostStatus",
    "hostRegister": "hostRegister",
    "hostRetire": "hostRetire",
    "monitorCreate": "monitor",
    "monitorUpdate": "monitor",
    "monitorDelete": "monitor",
}
# Monitor types whose alerts carry metric fields and can have a graph image.
METRIC_TYPES = ("host", "service", "expression", "query")


def user_object(screen_name: str | None) -> JSON | None:
    """The `user` of a webhook: null for anything done by the system or an API key."""
    if screen_name is None:
        return None
    return {"id": stable_id("user", screen_name), "screenName": screen_name}


def role_object(org: Organization, service: str, role: str) -> JSON:
    service_url = f"{WEB_BASE}/orgs/{org.name}/services/{service}"
    return {
        # Mackerel renders full names with a space after the colon in webhooks (§9.3).
        "fullname": f"{service}: {role}",
        "serviceName": service,
        "roleName": role,
        "serviceUrl": service_url,
        "roleUrl": f"{service_url}#role={role}",
    }


def host_object(org: Organization, host: Host) -> JSON:
    """The webhook form of a host, which differs from the REST form (§9.3)."""
    return {
        "id": host.id,
        "name": host.name,
        "url": f"{WEB_BASE}/orgs/{org.name}/hosts/{host.id}",
        "status": host.status,
        "memo": host.memo,
        "isRetired": host.is_retired,
        "roles": [role_object(org, svc, role) for svc, role in host.role_pairs()],
    }


def service_object(org: Organization, service: Service) -> JSON:
    return {
        "id": service.id,
        "name": service.name,
        "memo": service.memo,
        "orgId": org.id,
        "roles": [role_object(org, service.name, role) for role in sorted(service.roles)],
    }


def format_number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


def _legend(template: str, series: JSON | None) -> str:
    """Expand a query monitor's legend ("cpu {{k8s.node.name}}") with the series labels."""
    labels = (series or {}).get("labels") or {}
    return re.sub(r"\{\{\s*([^}\s]+)\s*\}\}", lambda m: str(labels.get(m.group(1), "")), template)


def alert_message(alert: Alert, monitor: Monitor) -> str:
    """The top-level `message`, following the formats seen in real payloads (§9.4)."""
    fields = monitor.fields
    if alert.type == "connectivity":
        return alert.message or "unreachable"
    if alert.type in ("check", "external"):
        return alert.message or ""
    if alert.type == "anomalyDetection":
        return alert.message or f"{monitor.name} loadavg5"
    if alert.message:
        return alert.message
    label = monitor.name
    if alert.type == "service":
        label = str(fields.get("metric", monitor.name))
    elif alert.type == "query":
        label = _legend(str(fields.get("legend") or ""), alert.series) or monitor.name
    if alert.value is None:
        return label
    text = f"{label} {format_number(alert.value)}"
    threshold = fields.get("critical") if alert.status == "CRITICAL" else fields.get("warning")
    if alert.is_open and threshold is not None and alert.status in ("CRITICAL", "WARNING"):
        text += f" {fields.get('operator', '>')} {format_number(threshold)}"
    return text


def _metric_fields(alert: Alert, monitor: Monitor, trigger: str) -> JSON:
    fields = monitor.fields
    label = fields.get("metric") or fields.get("expression") or fields.get("query") or ""
    body: JSON = {"metricLabel": str(label)}
    # A manual close carries no value in captured payloads; a recovery does (§9.3).
    if alert.value is not None and trigger != "manual close":
        body["metricValue"] = alert.value
    if fields.get("critical") is not None:
        body["criticalThreshold"] = fields["critical"]
    if fields.get("warning") is not None:
        body["warningThreshold"] = fields["warning"]
    body["monitorOperator"] = fields.get("operator", ">")
    if alert.type != "query":
        # Expression alerts carry `duration` too although the monitor has none (captured: 1).
        body["duration"] = fields.get("duration", 1)
    return body


def alert_payload(
    org: Organization,
    alert: Alert,
    monitor: Monitor,
    *,
    trigger: str,
    user: str | None = None,
) -> JSON:
    """An `alert` event: lowercase status, createdAt in ms, closedAt null while open (§9.4)."""
    alert_body: JSON = {
        "id": alert.id,
        "url": f"{WEB_BASE}/orgs/{org.name}/alerts/{alert.id}",
        "status": alert.status.lower(),
        "isOpen": alert.is_open,
        "trigger": trigger,
        "monitorName": monitor.name,
        "openedAt": int(alert.opened_at),
        "closedAt": None if alert.closed_at is None else int(alert.closed_at),
        "statusChangedAt": int(alert.status_changed_at),
        "createdAt": int(alert.opened_at * 1000),
    }
    if alert.type in METRIC_TYPES:
        alert_body.update(_metric_fields(alert, monitor, trigger))
    payload: JSON = {
        "orgName": org.name,
        "event": "alert",
        "type": alert.type,
        "message": alert_message(alert, monitor),
        "memo": monitor.memo,
        "imageUrl": None,
        "user": user_object(user),
        "alert": alert_body,
    }
    host = org.hosts.get(alert.host_id or "")
    if host is not None and alert.type in ("connectivity", "host", "check", "anomalyDetection"):
        payload["host"] = host_object(org, host)
    service = org.services.get(str(monitor.fields.get("service", "")))
    if service is not None and alert.type in ("service", "external"):
        payload["service"] = service_object(org, service)
    if alert.series is not None:
        # The key is undocumented (§9.4); it mirrors the REST alert's `series`.
        payload["series"] = alert.series
    return payload


def host_payload(
    org: Organization,
    event: str,
    host: Host,
    *,
    user: str | None = None,
    from_status: str | None = None,
) -> JSON:
    """`hostStatus`, `hostRegister` or `hostRetire` (§9.5)."""
    payload: JSON = {"orgName": org.name, "event": event, "host": host_object(org, host)}
    if event == "hostStatus":
        payload["fromStatus"] = from_status
    payload["user"] = user_object(user)
    payload["imageUrl"] = None
    return payload


def monitor_payload(org: Organization, event: str, monitor: Monitor, *, user: str | None) -> JSON:
    """`monitorCreate`, `monitorUpdate` or `monitorDelete`: the monitor in REST form (§9.7)."""
    return {
        "orgName": org.name,
        "event": event,
        "monitor": monitor.to_api(),
        "user": user_object(user),
        "imageUrl": None,
    }


def alert_group_payload(org: Organization, group: AlertGroup, setting: AlertGroupSetting) -> JSON:
    """`alertGroup`: UPPERCASE status and createdAt in seconds, unlike alerts (§9.6)."""
    base = f"{WEB_BASE}/orgs/{org.name}"
    return {
        "orgName": org.name,
        "event": "alertGroup",
        "imageUrl": None,
        "alertGroup": {
            "id": group.id,
            "url": f"{base}/alert-groups/{group.id}",
            "status": group.status,
            "createdAt": int(group.created_at),
            "closedAt": None if group.closed_at is None else int(group.closed_at),
        },
        "alertGroupSetting": {
            "id": setting.id,
            "name": str(setting.fields.get("name", "")),
            "memo": str(setting.fields.get("memo", "")),
            "url": f"{base}/alert-group-settings/{setting.id}",
        },
    }


def sample_payload() -> JSON:
    """What the "test" button sends (§9.8): no orgName."""
    return {"event": "sample", "message": "Sample Notification from Mackerel", "imageUrl": None}


def image_url(alert_id: str) -> str:
    return f"{WEB_BASE}/embed/public/alert/{stable_id('graph', alert_id)}.png"


def with_image(payload: JSON, alert: Alert | None) -> dict[str, Any]:
    """A copy of an alert payload with a graph URL, for channels with enabledGraphImage."""
    if alert is None or payload.get("event") != "alert" or payload.get("type") not in METRIC_TYPES:
        return payload
    return {**payload, "imageUrl": image_url(alert.id)}
