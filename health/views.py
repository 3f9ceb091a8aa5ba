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
