from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseNotFound,
    JsonResponse,
)
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from alerts.views import client_address
from health import checks, prometheus


@never_cache
def livez(request: HttpRequest) -> JsonResponse:
    """The process answers, touching no database or Redis (liveness; the benchmarks' baseline)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and Redis answer, 503 otherwise; JSON says which failed.

    It also shows the auditor's latest verdict (``heartbeat``): whether the heartbeat went to
    Mackerel and, if not, why. That does not change the status code: a web process is not
    restarted for a backlog a restart would not clear.
    """
    probes = {"database": checks.database(), "redis": checks.broker()}
    healthy = all(probe["ok"] for probe in probes.values())
    body: dict[str, object] = {"status": "ok" if healthy else "unavailable", "checks": probes}
    if probes["database"]["ok"]:
        body["heartbeat"] = checks.self_check()
    return JsonResponse(body, status=200 if healthy else 503)


def _may_read_metrics(request: HttpRequest) -> bool | None:
    """True or False, or None when /metrics is switched off (no token, no networks)."""
    token = settings.TAIRYO_METRICS_TOKEN
    networks = settings.TAIRYO_METRICS_NETWORKS
    if not token and not networks:
        return None
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Tairyo's health figures for Prometheus, to the token holder or the allowed networks."""
    allowed = _may_read_metrics(request)
    if allowed is None:
        return HttpResponseNotFound("not found", content_type="text/plain")
    if not allowed:
        return HttpResponseForbidden("forbidden", content_type="text/plain")
    return HttpResponse(prometheus.exposition(), content_type=CONTENT_TYPE_LATEST)
