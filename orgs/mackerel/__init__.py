"""Tairyo's typed client for Mackerel's REST API (no Django: usable anywhere).

with MackerelClient(api_key, organization="acme-prod") as mackerel:
    for alert in mackerel.iter_alerts(with_closed=True):
        ...
"""

from __future__ import annotations

from .client import DEFAULT_BASE_URL, DEFAULT_USER_AGENT, MackerelClient
from .errors import (
    AuthenticationError,
    MackerelError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    UnexpectedResponseError,
    UnreachableError,
    ValidationError,
)
from .types import (
    ALERT_STATUSES,
    HOST_STATUSES,
    Alert,
    AlertLog,
    AlertLogPage,
    AlertPage,
    CheckReport,
    Downtime,
    DowntimeRecurrence,
    DowntimeSpec,
    Host,
    HostMetricValue,
    Interface,
    MetricPoint,
    Monitor,
    MonitoredStatus,
    Organization,
    Role,
    Service,
    ServiceMetricValue,
)

__all__ = [
    "ALERT_STATUSES",
    "DEFAULT_BASE_URL",
    "DEFAULT_USER_AGENT",
    "HOST_STATUSES",
    "Alert",
    "AlertLog",
    "AlertLogPage",
    "AlertPage",
    "AuthenticationError",
    "CheckReport",
    "Downtime",
    "DowntimeRecurrence",
    "DowntimeSpec",
    "Host",
    "HostMetricValue",
    "Interface",
    "MackerelClient",
    "MackerelError",
    "MetricPoint",
    "Monitor",
    "MonitoredStatus",
    "NotFoundError",
    "Organization",
    "PermissionDeniedError",
    "RateLimitedError",
    "RequestTimeoutError",
    "Role",
    "ServerError",
    "Service",
    "ServiceMetricValue",
    "UnexpectedResponseError",
    "UnreachableError",
    "ValidationError",
]
