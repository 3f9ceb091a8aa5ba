"""Webhook bodies as Mackerel sends them (mackerel-api.md section 9), for tests."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

# The shared schemas beside the repository (MACKEREL_WEBHOOK_SCHEMAS points elsewhere).
SCHEMAS = Path(
    os.environ.get(
        "MACKEREL_WEBHOOK_SCHEMAS",
        Path(__file__).resolve().parents[3] / "shared" / "mackerel-webhook-schemas",
    )
)
T0 = 1_780_000_000  # 2026-05-28 20:26:40 UTC, epoch seconds


def role(service: str = "web", name: str = "app", org: str = "acme-prod") -> dict[str, str]:
    base = f"https://mackerel.io/orgs/{org}/services/{service}"
    return {
        "fullname": f"{service}: {name}",
        "serviceName": service,
        "roleName": name,
        "serviceUrl": base,
        "roleUrl": f"{base}#role={name}",
    }


def host(
    host_id: str = "4Xk2mQ9sTrB",
    name: str = "vm0001",
    org: str = "acme-prod",
    status: str = "working",
    memo: str = "本番 DB サーバ",
    roles: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    return {
        "id": host_id,
        "name": name,
        "url": f"https://mackerel.io/orgs/{org}/hosts/{host_id}",
        "status": status,
        "memo": memo,
        "isRetired": False,
        "roles": [role(org=org)] if roles is None else roles,
    }


def alert(
    alert_id: str = "3k73ZJscVcW",
    status: str = "critical",
    org: str = "acme-prod",
    is_open: bool = True,
    changed: int | None = T0,
    opened: int = T0,
    closed: int | None = None,
    trigger: str = "monitor",
    monitor_type: str = "host",
    value: float | None = 95.5,
    with_host: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "orgName": org,
        "event": "alert",
        "type": monitor_type,
        "message": f"CPU % {value} > 90" if value is not None else "unreachable",
        "memo": "",
        "imageUrl": None,
        "user": None,
        "alert": {
            "id": alert_id,
            "url": f"https://mackerel.io/orgs/{org}/alerts/{alert_id}",
            "status": status,
            "isOpen": is_open,
            "trigger": trigger,
            "monitorName": "CPU %",
            "metricLabel": "cpu%",
            "criticalThreshold": 90,
            "warningThreshold": 80.5,
            "monitorOperator": ">",
            "duration": 3,
            "openedAt": opened,
            "closedAt": closed,
            "createdAt": opened * 1000 + 412,
        },
    }
    if value is not None:
        body["alert"]["metricValue"] = value
    if changed is not None:
        body["alert"]["statusChangedAt"] = changed
    if with_host:
        body["host"] = host(org=org)
    body.update(extra)
    return body


def closing(alert_id: str = "3k73ZJscVcW", at: int = T0 + 600, **kw: Any) -> dict[str, Any]:
    return alert(alert_id, "ok", is_open=False, changed=at, closed=at, **kw)


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def captured_examples() -> list[tuple[str, dict[str, Any]]]:
    """Every example captured from real Mackerel deliveries in the shared schemas."""
    if not SCHEMAS.is_dir():
        raise FileNotFoundError(f"the captured webhook examples are not at {SCHEMAS}")
    examples = []
    for path in sorted(SCHEMAS.glob("*.json")):
        for index, example in enumerate(json.loads(path.read_text())["examples"]):
            examples.append((f"{path.stem}[{index}]", example))
    return examples
