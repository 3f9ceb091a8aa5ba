"""Host and service metrics: posting (`/tsdb`) and reading them back (mackerel-api.md §5)."""

from __future__ import annotations

import math
from typing import Any

from mackerel_sim import evaluation
from mackerel_sim.errors import ApiError, bad_request, not_found
from mackerel_sim.naming import check_metric_name
from mackerel_sim.state import JSON, Organization, Series, World

# Points older than this are dropped silently, still answering 200 (§5.1).
MAX_AGE = 24 * 60 * 60


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise bad_request(f"{what} must be a number")
    return value


def _points(body: Any, *, with_host: bool) -> list[JSON]:
    if not isinstance(body, list):
        raise bad_request("the body must be an array of metric values")
    points = []
    for item in body:
        if not isinstance(item, dict):
            raise bad_request("invalid metric value")
        point = {
            "name": check_metric_name(item.get("name")),
            "time": int(_number(item.get("time"), "time")),
            "value": _number(item.get("value"), "value"),
        }
        if with_host:
            if not isinstance(item.get("hostId"), str):
                raise bad_request("hostId is required")
            point["hostId"] = item["hostId"]
        points.append(point)
    return points


def _store(store: dict[str, Series], point: JSON) -> bool:
    """Store one point; True if it is now the newest of its series (only those are monitored)."""
    series = store.setdefault(point["name"], Series())
    previous = series.newest
    series.put(point["time"], point["value"])
    return previous is None or point["time"] >= previous


def post_host_metrics(world: World, org: Organization, body: Any) -> None:
    points = _points(body, with_host=True)
    for point in points:
        host = org.hosts.get(point["hostId"])
        if host is None or host.is_retired:
            raise not_found("Host")
    cutoff = world.now() - MAX_AGE
    touched: dict[tuple[str, str], None] = {}
    for point in points:
        if point["time"] < cutoff:
            continue
        if _store(org.host_metrics.setdefault(point["hostId"], {}), point):
            touched[(point["hostId"], point["name"])] = None
    for host_id, name in touched:
        evaluation.evaluate_host_metric(world, org, org.hosts[host_id], name)


def post_service_metrics(world: World, org: Organization, service: str, body: Any) -> None:
    org.service(service)
    points = _points(body, with_host=False)
    cutoff = world.now() - MAX_AGE
    touched: dict[str, None] = {}
    for point in points:
        if point["time"] < cutoff:
            continue
        if _store(org.service_metrics.setdefault(service, {}), point):
            touched[point["name"]] = None
    for name in touched:
        evaluation.evaluate_service_metric(world, org, service, name)


def _range(query: dict[str, list[str]]) -> tuple[str, int, int]:
    try:
        name = query["name"][0]
        start, end = int(query["from"][0]), int(query["to"][0])
    except (KeyError, IndexError, ValueError):
        raise bad_request("name, from and to are required") from None
    if start > end:
        raise bad_request("from must not be after to")
    return name, start, end


def _series_points(store: dict[str, Series], query: dict[str, list[str]]) -> list[JSON]:
    name, start, end = _range(query)
    series = store.get(name)
    if series is None:
        raise ApiError(404, "Metric Not Found.")
    return [{"time": t, "value": v} for t, v in series.between(start, end)]


def host_metric_values(org: Organization, host_id: str, query: dict[str, list[str]]) -> list[JSON]:
    org.host(host_id)
    return _series_points(org.host_metrics.get(host_id, {}), query)


def service_metric_values(
    org: Organization, service: str, query: dict[str, list[str]]
) -> list[JSON]:
    org.service(service)
    return _series_points(org.service_metrics.get(service, {}), query)


def latest(org: Organization, query: dict[str, list[str]]) -> JSON:
    """`tsdbLatest`: metrics a host has no data for are left out rather than null."""
    host_ids, names = query.get("hostId", []), query.get("name", [])
    if not host_ids or not names:
        raise bad_request("hostId and name are required")
    result: JSON = {}
    for host_id in host_ids:
        org.host(host_id)
        store = org.host_metrics.get(host_id, {})
        values: JSON = {}
        for name in names:
            series = store.get(name)
            if series is not None and series.newest is not None:
                values[name] = {"time": series.newest, "value": series.values[series.newest]}
        result[host_id] = values
    return result


def host_metric_names(org: Organization, host_id: str) -> list[str]:
    org.host(host_id)
    return sorted(org.host_metrics.get(host_id, {}))


def service_metric_names(org: Organization, service: str) -> list[str]:
    org.service(service)
    return sorted(org.service_metrics.get(service, {}))
