from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from health import checks


@never_cache
def livez(request: HttpRequest) -> JsonResponse:
    """The process answers, touching no database or Redis (liveness; the benchmarks' baseline)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and Redis answer, 503 otherwise; JSON says which failed."""
    probes = {"database": checks.database(), "redis": checks.broker()}
    healthy = all(probe["ok"] for probe in probes.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": probes}
    return JsonResponse(body, status=200 if healthy else 503)
