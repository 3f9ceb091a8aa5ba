"""A small typed client for Mackerel's REST API (v0), as Tairyo uses it.

It is plain Python (no Django) taking explicit arguments, so workers, management commands and
tests use it the same way; the caller decrypts the organization's API key and passes it in.

Built on httpx (pinned 0.28) because it is fully typed (strict mypy), has explicit per-phase
timeouts (connect, read, write, pool), honours HTTP_PROXY / HTTPS_PROXY / NO_PROXY from the
environment through ``trust_env`` (providers often reach the internet only through a proxy), and
offers a connection-pooled ``Client``, so a sync of one organization reuses one TLS connection.

Facts about the API (paths, wrapping, status codes, units) follow ``shared/mackerel-api.md``; the
retry rule is in ``retry.py``.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx

from . import errors
from .retry import (
    IDEMPOTENT_METHODS,
    backoff_delay,
    parse_retry_after,
    retryable_exception,
    retryable_status,
)
from .types import (
    HOST_STATUSES,
    Alert,
    AlertLog,
    AlertLogPage,
    AlertPage,
    CheckReport,
    Downtime,
    DowntimeSpec,
    Host,
    HostMetricValue,
    MetricPoint,
    Monitor,
    MonitoredStatus,
    Organization,
    Role,
    Service,
    ServiceMetricValue,
    as_object,
    datetime_to_epoch,
)

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_USER_AGENT", "MackerelClient"]

DEFAULT_BASE_URL = "https://api.mackerelio.com"
DEFAULT_USER_AGENT = f"Tairyo/0.1 (Mackerel client; httpx/{httpx.__version__})"

# Documented limits, checked before sending so the caller gets the reason without a round trip.
MAX_BULK_HOST_IDS = 30
MAX_PAGE_LIMIT = 100
MAX_CHECK_REPORTS = 100
MAX_CHECK_MESSAGE = 1024

# Mackerel's error text is shown in logs and pages; a proxy's HTML error page is not worth more.
_MAX_DETAIL = 300
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")

logger = logging.getLogger(__name__)

T = TypeVar("T")

_ERROR_CLASSES: dict[int, type[errors.MackerelError]] = {
    400: errors.ValidationError,
    401: errors.AuthenticationError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    429: errors.RateLimitedError,
}


def _segment(value: str, what: str) -> str:
    """One path segment, percent-encoded so an ID or name can never change the path."""
    if not value:
        raise ValueError(f"{what} must not be empty")
    return quote(value, safe="")


def _as_list(values: str | Iterable[str]) -> list[str]:
    # A bare string is an Iterable[str] too; "app" must not become ["a", "p", "p"].
    return [values] if isinstance(values, str) else list(values)


def _wrapped_list(
    key: str, parse: Callable[[Mapping[str, object]], T]
) -> Callable[[object], list[T]]:
    def parse_body(body: object) -> list[T]:
        items = as_object(body, "body").get(key)
        if not isinstance(items, list):
            raise ValueError(f"field {key!r} is missing or not a list")
        return [parse(as_object(item, f"an element of {key!r}")) for item in items]

    return parse_body


def _wrapped(key: str, parse: Callable[[Mapping[str, object]], T]) -> Callable[[object], T]:
    def parse_body(body: object) -> T:
        return parse(as_object(as_object(body, "body").get(key), f"field {key!r}"))

    return parse_body


def _unwrapped(parse: Callable[[Mapping[str, object]], T]) -> Callable[[object], T]:
    def parse_body(body: object) -> T:
        return parse(as_object(body, "body"))

    return parse_body


def _names(body: object) -> list[str]:
    names = as_object(body, "body").get("names")
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ValueError("field 'names' is missing or not a list of strings")
    return list(names)


def _id(body: object) -> str:
    host_id = as_object(body, "body").get("id")
    if not isinstance(host_id, str) or not host_id:
        raise ValueError("field 'id' is missing or not a string")
    return host_id


def _ignore(body: object) -> None:
    # {"success": true} carries nothing; the 2xx status is the answer.
    return None


def _next_id(body: object) -> str | None:
    next_id = as_object(body, "body").get("nextId")
    if next_id is None or next_id == "":
        return None
    if not isinstance(next_id, str):
        raise ValueError("field 'nextId' is not a string")
    return next_id


def _alert_page(body: object) -> AlertPage:
    return AlertPage(alerts=_wrapped_list("alerts", Alert.from_api)(body), next_id=_next_id(body))


def _alert_log_page(body: object) -> AlertLogPage:
    return AlertLogPage(logs=_wrapped_list("logs", AlertLog.from_api)(body), next_id=_next_id(body))


def _latest_metrics(body: object) -> dict[str, dict[str, MetricPoint]]:
    latest = as_object(as_object(body, "body").get("tsdbLatest"), "field 'tsdbLatest'")
    result: dict[str, dict[str, MetricPoint]] = {}
    for host_id, metrics in latest.items():
        points = result.setdefault(host_id, {})
        if metrics is None:
            continue
        for name, point in as_object(metrics, f"metrics of host {host_id}").items():
            # A metric without data may come back as null instead of being absent (maprobe
            # skips nulls too); both mean "no point".
            if point is not None:
                points[name] = MetricPoint.from_api(as_object(point, f"metric {name}"))
    return result


class MackerelClient:
    """Mackerel API client for one organization's API key.

    ``organization`` is Tairyo's label for the organization; it is only used in error messages so
    a failure in a seventy-organization sync says whose it was. Use it as a context manager (or
    call ``close()``) to release the pooled connections.
    """

    def __init__(
        self,
        api_key: str,
        *,
        organization: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | httpx.Timeout = 10.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 10.0,
        max_retry_after: float = 30.0,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        # Checked without quoting the key: a ValueError message ends up in logs.
        if not api_key or api_key != api_key.strip() or any(c in api_key for c in "\r\n\0"):
            raise ValueError("api_key must be a non-empty string without whitespace at its ends")
        if max_retries < 0 or backoff < 0 or max_backoff < 0 or max_retry_after < 0:
            raise ValueError("max_retries, backoff, max_backoff and max_retry_after must be >= 0")
        self.organization = organization
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self._api_key = api_key
        # Jitter for retry waits, not a secret.
        self._rng = random.Random()  # noqa: S311
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={
                "X-Api-Key": api_key,
                "User-Agent": user_agent,
                "Accept": "application/json",
            },
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            # Proxies from the environment; also SSL_CERT_FILE for a proxy's CA.
            trust_env=True,
            # httpx strips only Authorization on a cross-origin redirect, not X-Api-Key; Mackerel
            # never redirects API calls, so a redirect is treated as an unexpected answer.
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"<MackerelClient organization={self.organization!r} base_url={self.base_url!r}>"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ----------------------------------------------------------------------------------------
    # Organization

    def get_organization(self) -> Organization:
        """``GET /api/v0/org``: the organization the key belongs to (also a cheap key check)."""
        return self._call("GET", "/api/v0/org", _unwrapped(Organization.from_api))

    # ----------------------------------------------------------------------------------------
    # Hosts

    def list_hosts(
        self,
        *,
        service: str | None = None,
        roles: str | Iterable[str] = (),
        name: str | None = None,
        statuses: str | Iterable[str] = (),
        custom_identifier: str | None = None,
    ) -> list[Host]:
        """``GET /api/v0/hosts``. Without ``statuses`` Mackerel returns working and standby hosts
        only; pass ``HOST_STATUSES`` for all. Retired hosts are never listed."""
        path = "/api/v0/hosts"
        role_list, status_list = _as_list(roles), _as_list(statuses)
        if role_list and service is None:
            # Mackerel silently ignores roles without a service and would return every host.
            self._refuse("GET", path, "roles can only filter hosts together with a service")
        self._check_statuses("GET", path, status_list)
        params: dict[str, str | list[str]] = {}
        if service is not None:
            params["service"] = service
        if role_list:
            params["role"] = role_list
        if name is not None:
            params["name"] = name
        if status_list:
            params["status"] = status_list
        if custom_identifier is not None:
            params["customIdentifier"] = custom_identifier
        return self._call("GET", path, _wrapped_list("hosts", Host.from_api), params=params)

    def get_host(self, host_id: str) -> Host:
        """``GET /api/v0/hosts/<hostId>``, retired hosts included."""
        path = f"/api/v0/hosts/{_segment(host_id, 'host_id')}"
        return self._call("GET", path, _wrapped("host", Host.from_api))

    def get_host_by_custom_identifier(
        self, custom_identifier: str, *, case_insensitive: bool = False
    ) -> Host:
        """``GET /api/v0/hosts-by-custom-identifier/<id>`` (non-retired hosts only)."""
        segment = _segment(custom_identifier, "custom_identifier")
        path = f"/api/v0/hosts-by-custom-identifier/{segment}"
        params = {"caseInsensitive": "true"} if case_insensitive else None
        return self._call("GET", path, _wrapped("host", Host.from_api), params=params)

    def create_host(
        self,
        *,
        name: str,
        meta: Mapping[str, Any] | None = None,
        display_name: str | None = None,
        custom_identifier: str | None = None,
        memo: str | None = None,
        interfaces: Sequence[Mapping[str, Any]] | None = None,
        role_fullnames: Iterable[str] | None = None,
        checks: Sequence[Mapping[str, Any]] | None = None,
    ) -> str:
        """``POST /api/v0/hosts``; returns the new host's ID. Unknown roles are auto-created."""
        body = _host_body(
            name=name,
            meta=meta,
            display_name=display_name,
            custom_identifier=custom_identifier,
            memo=memo,
            interfaces=interfaces,
            role_fullnames=role_fullnames,
            checks=checks,
        )
        return self._call("POST", "/api/v0/hosts", _id, body=body)

    def update_host(
        self,
        host_id: str,
        *,
        name: str,
        meta: Mapping[str, Any] | None = None,
        display_name: str | None = None,
        custom_identifier: str | None = None,
        memo: str | None = None,
        interfaces: Sequence[Mapping[str, Any]] | None = None,
        role_fullnames: Iterable[str] | None = None,
        checks: Sequence[Mapping[str, Any]] | None = None,
    ) -> str:
        """``PUT /api/v0/hosts/<hostId>`` with the same body as create; returns the host ID.

        Like Mackerel, this replaces the host's fields (``meta`` too); roles not listed are kept,
        use ``update_host_role_fullnames`` to remove roles.
        """
        path = f"/api/v0/hosts/{_segment(host_id, 'host_id')}"
        body = _host_body(
            name=name,
            meta=meta,
            display_name=display_name,
            custom_identifier=custom_identifier,
            memo=memo,
            interfaces=interfaces,
            role_fullnames=role_fullnames,
            checks=checks,
        )
        return self._call("PUT", path, _id, body=body)

    def update_host_status(self, host_id: str, status: str) -> None:
        """``POST /api/v0/hosts/<hostId>/status``: working, standby, maintenance or poweroff."""
        path = f"/api/v0/hosts/{_segment(host_id, 'host_id')}/status"
        self._check_statuses("POST", path, [status])
        # Setting a status is idempotent: sending it twice leaves the same state.
        self._call("POST", path, _ignore, body={"status": status}, idempotent=True)

    def bulk_update_host_statuses(self, host_ids: Iterable[str], status: str) -> None:
        """``POST /api/v0/hosts/bulk-update-statuses`` for at most 30 hosts."""
        path = "/api/v0/hosts/bulk-update-statuses"
        ids = self._bulk_ids("POST", path, host_ids)
        self._check_statuses("POST", path, [status])
        if ids:
            body = {"ids": ids, "status": status}
            self._call("POST", path, _ignore, body=body, idempotent=True)

    def update_host_role_fullnames(self, host_id: str, role_fullnames: Iterable[str]) -> None:
        """``PUT /api/v0/hosts/<hostId>/role-fullnames``: *replaces* the host's roles."""
        path = f"/api/v0/hosts/{_segment(host_id, 'host_id')}/role-fullnames"
        body = {"roleFullnames": _as_list(role_fullnames)}
        self._call("PUT", path, _ignore, body=body)

    def retire_host(self, host_id: str) -> None:
        """``POST /api/v0/hosts/<hostId>/retire``; Mackerel closes the host's alerts."""
        path = f"/api/v0/hosts/{_segment(host_id, 'host_id')}/retire"
        self._call("POST", path, _ignore, body={})

    def bulk_retire_hosts(self, host_ids: Iterable[str]) -> None:
        """``POST /api/v0/hosts/bulk-retire`` for at most 30 hosts."""
        path = "/api/v0/hosts/bulk-retire"
        ids = self._bulk_ids("POST", path, host_ids)
        if ids:
            self._call("POST", path, _ignore, body={"ids": ids})

    def list_host_metric_names(self, host_id: str) -> list[str]:
        """``GET /api/v0/hosts/<hostId>/metric-names``."""
        path = f"/api/v0/hosts/{_segment(host_id, 'host_id')}/metric-names"
        return self._call("GET", path, _names)

    def list_host_monitored_statuses(self, host_id: str) -> list[MonitoredStatus]:
        """``GET /api/v0/hosts/<hostId>/monitored-statuses``; statuses lowercased."""
        path = f"/api/v0/hosts/{_segment(host_id, 'host_id')}/monitored-statuses"
        parse = _wrapped_list("monitoredStatuses", MonitoredStatus.from_api)
        return self._call("GET", path, parse)

    # ----------------------------------------------------------------------------------------
    # Services and roles

    def list_services(self) -> list[Service]:
        """``GET /api/v0/services``."""
        return self._call("GET", "/api/v0/services", _wrapped_list("services", Service.from_api))

    def create_service(self, name: str, *, memo: str = "") -> Service:
        """``POST /api/v0/services``."""
        body = {"name": name, "memo": memo}
        return self._call("POST", "/api/v0/services", _unwrapped(Service.from_api), body=body)

    def delete_service(self, name: str) -> Service:
        """``DELETE /api/v0/services/<name>``: also deletes its roles, metrics and monitors."""
        path = f"/api/v0/services/{_segment(name, 'service')}"
        return self._call("DELETE", path, _unwrapped(Service.from_api))

    def list_roles(self, service: str) -> list[Role]:
        """``GET /api/v0/services/<service>/roles``."""
        path = f"/api/v0/services/{_segment(service, 'service')}/roles"
        return self._call("GET", path, _wrapped_list("roles", _role_parser(service)))

    def create_role(self, service: str, name: str, *, memo: str = "") -> Role:
        """``POST /api/v0/services/<service>/roles``."""
        path = f"/api/v0/services/{_segment(service, 'service')}/roles"
        body = {"name": name, "memo": memo}
        return self._call("POST", path, _unwrapped(_role_parser(service)), body=body)

    def delete_role(self, service: str, name: str) -> Role:
        """``DELETE /api/v0/services/<service>/roles/<role>``."""
        path = f"/api/v0/services/{_segment(service, 'service')}/roles/{_segment(name, 'role')}"
        return self._call("DELETE", path, _unwrapped(_role_parser(service)))

    def list_service_metric_names(self, service: str) -> list[str]:
        """``GET /api/v0/services/<service>/metric-names``."""
        path = f"/api/v0/services/{_segment(service, 'service')}/metric-names"
        return self._call("GET", path, _names)

    # ----------------------------------------------------------------------------------------
    # Metrics

    def post_host_metrics(self, values: Iterable[HostMetricValue]) -> None:
        """``POST /api/v0/tsdb``. Nothing is sent for no values.

        Retried like an idempotent call: re-posting a timestamp overwrites the same point.
        """
        body = [value.to_api() for value in values]
        if body:
            self._call("POST", "/api/v0/tsdb", _ignore, body=body, idempotent=True)

    def post_service_metrics(self, service: str, values: Iterable[ServiceMetricValue]) -> None:
        """``POST /api/v0/services/<service>/tsdb``. Mackerel answers 429 to frequent posts:
        batch the values and post about once a minute."""
        path = f"/api/v0/services/{_segment(service, 'service')}/tsdb"
        body = [value.to_api() for value in values]
        if body:
            self._call("POST", path, _ignore, body=body, idempotent=True)

    def get_host_metrics(
        self, host_id: str, name: str, *, start: datetime, end: datetime
    ) -> list[MetricPoint]:
        """``GET /api/v0/hosts/<hostId>/metrics``: points of one metric in [start, end]."""
        path = f"/api/v0/hosts/{_segment(host_id, 'host_id')}/metrics"
        params = _range_params(name, start, end)
        return self._call(
            "GET", path, _wrapped_list("metrics", MetricPoint.from_api), params=params
        )

    def get_service_metrics(
        self, service: str, name: str, *, start: datetime, end: datetime
    ) -> list[MetricPoint]:
        """``GET /api/v0/services/<service>/metrics``: points of one metric in [start, end]."""
        path = f"/api/v0/services/{_segment(service, 'service')}/metrics"
        params = _range_params(name, start, end)
        return self._call(
            "GET", path, _wrapped_list("metrics", MetricPoint.from_api), params=params
        )

    def get_latest_host_metrics(
        self, host_ids: Iterable[str], names: Iterable[str]
    ) -> dict[str, dict[str, MetricPoint]]:
        """``GET /api/v0/tsdb/latest``: host ID -> metric name -> latest point.

        Metrics without data are left out of the inner dict.
        """
        params = {"hostId": _as_list(host_ids), "name": _as_list(names)}
        return self._call("GET", "/api/v0/tsdb/latest", _latest_metrics, params=params)

    # ----------------------------------------------------------------------------------------
    # Monitors

    def list_monitors(self) -> list[Monitor]:
        """``GET /api/v0/monitors`` (check monitors are not among them)."""
        return self._call("GET", "/api/v0/monitors", _wrapped_list("monitors", Monitor.from_api))

    def get_monitor(self, monitor_id: str) -> Monitor:
        """``GET /api/v0/monitors/<id>`` (the one monitor answer that is wrapped)."""
        path = f"/api/v0/monitors/{_segment(monitor_id, 'monitor_id')}"
        return self._call("GET", path, _wrapped("monitor", Monitor.from_api))

    def create_monitor(self, definition: Mapping[str, Any]) -> Monitor:
        """``POST /api/v0/monitors`` with a monitor definition (``type`` and its fields)."""
        body = {key: value for key, value in definition.items() if key != "id"}
        return self._call("POST", "/api/v0/monitors", _unwrapped(Monitor.from_api), body=body)

    def update_monitor(self, monitor_id: str, definition: Mapping[str, Any]) -> Monitor:
        """``PUT /api/v0/monitors/<id>``: a full replacement; omitted fields are reset."""
        path = f"/api/v0/monitors/{_segment(monitor_id, 'monitor_id')}"
        body = {key: value for key, value in definition.items() if key != "id"}
        return self._call("PUT", path, _unwrapped(Monitor.from_api), body=body)

    def delete_monitor(self, monitor_id: str) -> Monitor:
        """``DELETE /api/v0/monitors/<id>``; returns the monitor as it was."""
        path = f"/api/v0/monitors/{_segment(monitor_id, 'monitor_id')}"
        return self._call("DELETE", path, _unwrapped(Monitor.from_api))

    # ----------------------------------------------------------------------------------------
    # Alerts

    def list_alerts(
        self, *, with_closed: bool = False, next_id: str | None = None, limit: int = MAX_PAGE_LIMIT
    ) -> AlertPage:
        """``GET /api/v0/alerts``: one page, newest first; open alerts only unless
        ``with_closed``. Pass the previous page's ``next_id`` to get the next one."""
        path = "/api/v0/alerts"
        self._check_limit("GET", path, limit)
        params: dict[str, str | int] = {"limit": limit}
        if with_closed:
            params["withClosed"] = "true"
        if next_id is not None:
            params["nextId"] = next_id
        return self._call("GET", path, _alert_page, params=params)

    def iter_alerts(
        self, *, with_closed: bool = False, limit: int = MAX_PAGE_LIMIT, page_delay: float = 0.0
    ) -> Iterator[Alert]:
        """Every alert, newest first, fetching pages lazily by ``nextId``.

        Stop early by leaving the loop: no page past the current one is requested. That is how
        a sync stops at the first closed alert it already knows. ``page_delay`` seconds are
        slept between pages (mkr sleeps 1 s) to be gentle on very long histories.
        """
        return self._paginate(
            lambda next_id: self.list_alerts(with_closed=with_closed, next_id=next_id, limit=limit),
            lambda page: (page.alerts, page.next_id),
            "/api/v0/alerts",
            page_delay,
        )

    def get_alert(self, alert_id: str) -> Alert:
        """``GET /api/v0/alerts/<id>`` (unwrapped)."""
        path = f"/api/v0/alerts/{_segment(alert_id, 'alert_id')}"
        return self._call("GET", path, _unwrapped(Alert.from_api))

    def close_alert(self, alert_id: str, reason: str) -> Alert:
        """``POST /api/v0/alerts/<id>/close``; returns the closed alert (status ``"ok"``)."""
        path = f"/api/v0/alerts/{_segment(alert_id, 'alert_id')}/close"
        return self._call("POST", path, _unwrapped(Alert.from_api), body={"reason": reason})

    def update_alert_memo(self, alert_id: str, memo: str) -> None:
        """``PUT /api/v0/alerts/<id>`` with the alert's memo (at most 80 KB)."""
        path = f"/api/v0/alerts/{_segment(alert_id, 'alert_id')}"
        self._call("PUT", path, _ignore, body={"memo": memo})

    def list_alert_logs(
        self, alert_id: str, *, next_id: str | None = None, limit: int = MAX_PAGE_LIMIT
    ) -> AlertLogPage:
        """``GET /api/v0/alerts/<id>/logs``: one page of the alert's history."""
        path = f"/api/v0/alerts/{_segment(alert_id, 'alert_id')}/logs"
        self._check_limit("GET", path, limit)
        params: dict[str, str | int] = {"limit": limit}
        if next_id is not None:
            params["nextId"] = next_id
        return self._call("GET", path, _alert_log_page, params=params)

    def iter_alert_logs(
        self, alert_id: str, *, limit: int = MAX_PAGE_LIMIT, page_delay: float = 0.0
    ) -> Iterator[AlertLog]:
        """Every log entry of an alert, fetching pages lazily by ``nextId``."""
        return self._paginate(
            lambda next_id: self.list_alert_logs(alert_id, next_id=next_id, limit=limit),
            lambda page: (page.logs, page.next_id),
            f"/api/v0/alerts/{_segment(alert_id, 'alert_id')}/logs",
            page_delay,
        )

    # ----------------------------------------------------------------------------------------
    # Downtimes

    def list_downtimes(self) -> list[Downtime]:
        """``GET /api/v0/downtimes``."""
        parse = _wrapped_list("downtimes", Downtime.from_api)
        return self._call("GET", "/api/v0/downtimes", parse)

    def create_downtime(self, spec: DowntimeSpec) -> Downtime:
        """``POST /api/v0/downtimes``."""
        body = spec.to_api()
        return self._call("POST", "/api/v0/downtimes", _unwrapped(Downtime.from_api), body=body)

    def update_downtime(self, downtime_id: str, spec: DowntimeSpec) -> Downtime:
        """``PUT /api/v0/downtimes/<id>``: a full replacement."""
        path = f"/api/v0/downtimes/{_segment(downtime_id, 'downtime_id')}"
        return self._call("PUT", path, _unwrapped(Downtime.from_api), body=spec.to_api())

    def delete_downtime(self, downtime_id: str) -> Downtime:
        """``DELETE /api/v0/downtimes/<id>``; returns the downtime as it was."""
        path = f"/api/v0/downtimes/{_segment(downtime_id, 'downtime_id')}"
        return self._call("DELETE", path, _unwrapped(Downtime.from_api))

    # ----------------------------------------------------------------------------------------
    # Check monitoring

    def post_check_reports(self, reports: Iterable[CheckReport]) -> None:
        """``POST /api/v0/monitoring/checks/report`` (at most 100 reports, messages at most
        1024 characters). A report for a new host and name creates the check monitor."""
        path = "/api/v0/monitoring/checks/report"
        report_list = list(reports)
        if len(report_list) > MAX_CHECK_REPORTS:
            self._refuse(
                "POST",
                path,
                f"at most {MAX_CHECK_REPORTS} reports per request, got {len(report_list)}",
            )
        for report in report_list:
            if len(report.message) > MAX_CHECK_MESSAGE:
                self._refuse(
                    "POST",
                    path,
                    f"message of check {report.name!r} exceeds {MAX_CHECK_MESSAGE} characters",
                )
        body = [self._check_report_body("POST", path, report) for report in report_list]
        if body:
            self._call("POST", path, _ignore, body={"reports": body})

    # ----------------------------------------------------------------------------------------
    # Plumbing

    def _call(
        self,
        method: str,
        path: str,
        parse: Callable[[object], T],
        *,
        params: Mapping[str, Any] | None = None,
        body: object = None,
        idempotent: bool | None = None,
    ) -> T:
        """Send one logical request (retrying per ``retry.py``) and parse its JSON answer."""
        response = self._send(method, path, params=params, body=body, idempotent=idempotent)
        try:
            payload: object = response.json() if response.content else None
            return parse(payload)
        except ValueError as exc:  # json.JSONDecodeError is a ValueError too
            raise errors.UnexpectedResponseError(
                organization=self.organization,
                method=method,
                path=path,
                status_code=response.status_code,
                detail=self._scrub(f"the body is not the documented shape ({exc})"),
            ) from None

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        body: object,
        idempotent: bool | None,
    ) -> httpx.Response:
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        content = None if body is None else json.dumps(body, allow_nan=False).encode()
        headers = {"Content-Type": "application/json"} if content is not None else None
        attempt = 0
        while True:
            attempt += 1
            retries_left = attempt <= self.max_retries
            response = self._attempt(method, path, params, content, headers)
            if isinstance(response, httpx.TransportError):
                if retries_left and retryable_exception(response, idempotent=idempotent):
                    self._pause(method, path, attempt, type(response).__name__, None)
                    continue
                # Raised outside the except block on purpose: the httpx exception holds the
                # request, X-Api-Key header included, and must not ride along as __context__.
                raise self._unreachable(method, path, response, attempt)
            if response.is_success:
                return response
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if (
                retries_left
                and retryable_status(response.status_code, idempotent=idempotent)
                and (retry_after is None or retry_after <= self.max_retry_after)
            ):
                self._pause(method, path, attempt, str(response.status_code), retry_after)
                continue
            raise self._status_error(method, path, response, retry_after)

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        content: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response | httpx.TransportError:
        try:
            return self._http.request(method, path, params=params, content=content, headers=headers)
        except httpx.TransportError as exc:
            return exc

    def _pause(
        self, method: str, path: str, attempt: int, cause: str, retry_after: float | None
    ) -> None:
        if retry_after is not None:
            # Retry-After is a minimum; a little jitter keeps clients that were told the same
            # moment from arriving together.
            delay = retry_after + self._rng.uniform(0, min(1.0, retry_after * 0.1))
        else:
            delay = backoff_delay(
                attempt, backoff=self.backoff, max_backoff=self.max_backoff, rng=self._rng
            )
        logger.warning(
            "Mackerel organization %r: %s %s failed (%s), retry %d of %d in %.2fs",
            self.organization,
            method,
            path,
            cause,
            attempt,
            self.max_retries,
            delay,
        )
        time.sleep(delay)

    def _paginate(
        self,
        fetch: Callable[[str | None], Any],
        split: Callable[[Any], tuple[list[T], str | None]],
        path: str,
        page_delay: float,
    ) -> Iterator[T]:
        seen: set[str] = set()
        next_id: str | None = None
        while True:
            items, next_id = split(fetch(next_id))
            yield from items
            if next_id is None:
                return
            if next_id in seen:
                # A cursor seen before would loop for ever; stop loudly instead.
                raise errors.UnexpectedResponseError(
                    organization=self.organization,
                    method="GET",
                    path=path,
                    status_code=200,
                    detail=f"the nextId cursor {next_id!r} repeats",
                )
            seen.add(next_id)
            if page_delay > 0:
                time.sleep(page_delay)

    def _status_error(
        self, method: str, path: str, response: httpx.Response, retry_after: float | None
    ) -> errors.MackerelError:
        status = response.status_code
        detail = self._scrub(_error_message(response))
        if status == 429:
            return errors.RateLimitedError(
                organization=self.organization,
                method=method,
                path=path,
                status_code=status,
                detail=detail,
                retry_after=retry_after,
            )
        error_class = _ERROR_CLASSES.get(status)
        if error_class is None:
            error_class = errors.ServerError if status >= 500 else errors.UnexpectedResponseError
        return error_class(
            organization=self.organization,
            method=method,
            path=path,
            status_code=status,
            detail=detail,
        )

    def _unreachable(
        self, method: str, path: str, exc: httpx.TransportError, attempts: int
    ) -> errors.UnreachableError:
        error_class = (
            errors.RequestTimeoutError
            if isinstance(exc, httpx.TimeoutException)
            else errors.UnreachableError
        )
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        reason = str(exc) or "no details"
        return error_class(
            organization=self.organization,
            method=method,
            path=path,
            status_code=None,
            detail=self._scrub(f"failed after {tries}: {type(exc).__name__}: {reason}"),
        )

    def _refuse(self, method: str, path: str, reason: str) -> None:
        raise errors.ValidationError(
            organization=self.organization,
            method=method,
            path=path,
            status_code=None,
            detail=f"not sent: {reason}",
        )

    def _scrub(self, text: str) -> str:
        """Remove the API key and URL credentials (a proxy's user:password) from foreign text."""
        text = text.replace(self._api_key, "[api key]")
        return _URL_USERINFO.sub("[credentials]@", text)

    def _check_statuses(self, method: str, path: str, statuses: Iterable[str]) -> None:
        for status in statuses:
            if status not in HOST_STATUSES:
                self._refuse(
                    method, path, f"host status must be one of {HOST_STATUSES}, not {status!r}"
                )

    def _check_limit(self, method: str, path: str, limit: int) -> None:
        if not 1 <= limit <= MAX_PAGE_LIMIT:
            self._refuse(method, path, f"limit must be between 1 and {MAX_PAGE_LIMIT}, got {limit}")

    def _bulk_ids(self, method: str, path: str, host_ids: Iterable[str]) -> list[str]:
        ids = _as_list(host_ids)
        if len(ids) > MAX_BULK_HOST_IDS:
            self._refuse(
                method, path, f"at most {MAX_BULK_HOST_IDS} host IDs per request, got {len(ids)}"
            )
        return ids

    def _check_report_body(self, method: str, path: str, report: CheckReport) -> dict[str, object]:
        try:
            return report.to_api()
        except ValueError as exc:
            self._refuse(method, path, str(exc))
            raise  # unreachable: _refuse always raises


def _role_parser(service: str) -> Callable[[Mapping[str, object]], Role]:
    def parse(data: Mapping[str, object]) -> Role:
        return Role.from_api(data, service=service)

    return parse


def _range_params(name: str, start: datetime, end: datetime) -> dict[str, str | int]:
    return {"name": name, "from": datetime_to_epoch(start), "to": datetime_to_epoch(end)}


def _host_body(
    *,
    name: str,
    meta: Mapping[str, Any] | None,
    display_name: str | None,
    custom_identifier: str | None,
    memo: str | None,
    interfaces: Sequence[Mapping[str, Any]] | None,
    role_fullnames: Iterable[str] | None,
    checks: Sequence[Mapping[str, Any]] | None,
) -> dict[str, object]:
    # meta is required by Mackerel even when empty.
    body: dict[str, object] = {"name": name, "meta": dict(meta or {})}
    optional: dict[str, object | None] = {
        "displayName": display_name,
        "customIdentifier": custom_identifier,
        "memo": memo,
        "interfaces": None if interfaces is None else [dict(i) for i in interfaces],
        "roleFullnames": None if role_fullnames is None else _as_list(role_fullnames),
        "checks": None if checks is None else [dict(c) for c in checks],
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    return body


def _error_message(response: httpx.Response) -> str:
    """Mackerel's error text: ``{"error": {"message": ...}}``, the older ``{"error": "..."}``,
    or the reason phrase when the body is not JSON (a proxy's or load balancer's page)."""
    message: object = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        error = body.get("error")
        message = error.get("message") if isinstance(error, Mapping) else error
    if not isinstance(message, str) or not message.strip():
        message = response.reason_phrase or "no error message"
    text = " ".join(message.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"
