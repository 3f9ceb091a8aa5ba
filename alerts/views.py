"""Mackerel's webhooks come in here: check, store, answer (design.md invariant 5)."""

from __future__ import annotations

import base64
import binascii
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.tenancy import get_visible_or_404
from alerts import intake, services
from alerts.models import Case
from orgs.models import Organization

logger = logging.getLogger(__name__)

KEPT_HEADERS = ("Content-Type", "Content-Length", "User-Agent", "X-Forwarded-For")


def _error(status: int, reason: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"error": reason}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def client_address(request: HttpRequest) -> str:
    """The sender's address; behind N trusted proxies, the Nth address from the right."""
    hops = settings.TAIRYO_PROXY_HOPS
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if hops and len(forwarded) >= hops and forwarded[-hops]:
        return str(forwarded[-hops])
    return str(request.META.get("REMOTE_ADDR", ""))


def _basic_auth(request: HttpRequest) -> tuple[str, str]:
    scheme, _, encoded = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        username, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return username, password


@csrf_exempt
@require_POST
def mackerel_webhook(request: HttpRequest, token: str) -> JsonResponse:
    org = Organization.objects.by_webhook_token_cached(token)
    if org is None or not org.is_active:
        return _error(404, "unknown webhook URL")
    address = client_address(request)
    if not org.webhook_source_allowed(address):
        logger.warning("webhook for %s refused from %s: not an allowed network", org.name, address)
        return _error(403, "this source address may not post to this URL")
    if not org.webhook_credentials_match(*_basic_auth(request)):
        return _error(401, "wrong or missing credentials", WWW_Authenticate='Basic realm="Tairyo"')
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.TAIRYO_WEBHOOK_MAX_BYTES:
        logger.warning("webhook for %s refused: %d bytes", org.name, length)
        return _error(413, f"the body is over {settings.TAIRYO_WEBHOOK_MAX_BYTES} bytes")
    if request.content_type != "application/json":
        return _error(415, "the body must be application/json")
    body = request.body
    headers = {name: request.headers[name] for name in KEPT_HEADERS if name in request.headers}
    payload = None
    try:
        payload = intake.decode(body)
        event = intake.parse_payload(payload)
        if not isinstance(event, intake.SampleEvent) and event.org_name != org.name:
            raise intake.MalformedWebhook(
                f"orgName {event.org_name!r} is not this URL's organization {org.name!r}"
            )
    except intake.MalformedWebhook as exc:
        name = intake.event_name(payload)
        services.reject(org, body, headers, address or None, event=name, reason=str(exc))
        return _error(400, str(exc))
    receipt = services.accept(org, body, headers, address or None, intake.event_name(payload))
    return JsonResponse({"status": "accepted", "receipt": receipt.pk})


@login_required
def case_detail(request: HttpRequest, alert_id: str) -> HttpResponse:
    """The page every mail links to: the case, its host and its timeline."""
    case = get_visible_or_404(
        Case.objects.select_related("organization", "host", "service"),
        request.user,
        alert_id=alert_id,
    )
    events = case.events.order_by("occurred_at", "id")
    return render(request, "alerts/case_detail.html", {"case": case, "events": events})
