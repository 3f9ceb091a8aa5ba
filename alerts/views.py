"""Mackerel's webhooks come in here: check, store, answer (design.md invariant 5); and the
customer's case list and live status page."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import InterfaceError, OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.http import ConditionalGetMiddleware
from django.shortcuts import render
from django.utils.decorators import decorator_from_middleware
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from alerts import intake, refusals, services
from alerts.filters import CaseFilterForm
from alerts.models import Case
from alerts.status import open_cases
from orgs.models import Organization
from portal import logcontext, pagination

logger = logging.getLogger(__name__)

# An ETag from the response body, and 304 when the client already has it.
conditional_on_content = decorator_from_middleware(ConditionalGetMiddleware)

T = TypeVar("T")

KEPT_HEADERS = ("Content-Type", "Content-Length", "User-Agent", "X-Forwarded-For")


def _error(status: int, reason: str, **headers: str) -> JsonResponse:
    if status != 400:
        # A malformed body is kept as a rejected receipt; everything else leaves no row.
        refusals.record()
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


class DatabaseUnavailable(Exception):
    """The database failed twice, the second time on a new connection."""


def _on_a_live_connection(what: str, step: Callable[[], T]) -> T:
    """Run a database step of the intake; once more on a new connection if the first died.

    PostgreSQL restarted, or a connection terminated under us: Mackerel does not send a
    webhook twice, so the intake tries once more rather than answer 500. Should a first insert
    have committed after all, the second is a duplicate receipt, which processing turns into
    nothing.
    """
    try:
        return step()
    except (OperationalError, InterfaceError):
        logger.warning("webhook: database connection lost while %s; retrying once", what)
        connection.close()
    try:
        return step()
    except (OperationalError, InterfaceError) as exc:
        logger.exception("webhook: the database is unavailable while %s", what)
        raise DatabaseUnavailable(what) from exc


class AnsweredFirst(JsonResponse):
    """A JSON answer that runs ``then`` once the server has sent it.

    The WSGI server calls ``close()`` after writing the response, so the sender is not kept
    waiting for work its answer does not depend on.
    """

    def __init__(self, data: dict[str, object], then: Callable[[], object]) -> None:
        super().__init__(data)
        self._then = then

    def close(self) -> None:
        try:
            self._then()
        finally:
            super().close()


@csrf_exempt
@require_POST
def mackerel_webhook(request: HttpRequest, token: str) -> JsonResponse:
    # CONN_HEALTH_CHECKS would send "SELECT 1" before the first query of every request: a round
    # trip that was a fifth of a webhook's time in the web during a storm, each one waiting for
    # a PostgreSQL backend to get a CPU. The intake needs no such check: each of its database
    # steps runs once more on a new connection if the first attempt finds it dead. (Django's own
    # flag, reset when the next request starts; django-stubs does not declare it.)
    connection.health_check_done = True  # type: ignore[attr-defined]
    try:
        org = _on_a_live_connection(
            "finding the token's organization",
            lambda: Organization.objects.by_webhook_token_cached(token),
        )
        if org is None or not org.is_active:
            return _error(404, "unknown webhook URL")
        with logcontext.bind(organization=org.name):
            return _receive(request, org)
    except DatabaseUnavailable:
        return _error(503, "the webhook could not be stored; the database is unavailable")


def _receive(request: HttpRequest, org: Organization) -> JsonResponse:
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
        if isinstance(event, intake.AlertEvent):
            logcontext.add(case_id=event.alert.id)
        if not isinstance(event, intake.SampleEvent) and event.org_name != org.name:
            raise intake.MalformedWebhook(
                f"orgName {event.org_name!r} is not this URL's organization {org.name!r}"
            )
    except intake.MalformedWebhook as exc:
        name = intake.event_name(payload)
        reason = str(exc)
        logger.warning("webhook rejected: %s", reason)
        _on_a_live_connection(
            "keeping a rejected webhook",
            lambda: services.reject(org, body, headers, address or None, event=name, reason=reason),
        )
        return _error(400, reason)
    name = intake.event_name(payload)
    receipt = _on_a_live_connection(
        "storing the webhook",
        lambda: services.accept(org, body, headers, address or None, name, wake=False),
    )
    # Waking a worker is a Redis round trip Mackerel need not wait for: it goes once the answer
    # is sent (and the receipt committed). Should the process die in between, the sweep finds
    # the receipt.
    return AnsweredFirst(
        {"status": "accepted", "receipt": receipt.pk},
        then=lambda: transaction.on_commit(services.wake_processing),
    )


# What a row of the case list shows (alerts/_case_rows.html). Reading every column cost more
# than rendering: psycopg parses each timestamp, and a case, its host and its organization
# have nineteen of them.
CASE_ROW_FIELDS = (
    "alert_id",
    "severity",
    "is_open",
    "monitor_name",
    "message",
    "opened_at",
    "closed_at",
    "organization__name",
    "organization__display_name",
    "host__mackerel_id",
    "host__name",
    "host__display_name",
)


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    form = CaseFilterForm(request.GET, user=request.user)
    cases = form.filter(Case.objects.visible_to(request.user))
    cases = cases.select_related("organization", "host").only(*CASE_ROW_FIELDS)
    page = pagination.window_page(cases.order_by("-opened_at", "-id"), request.GET.get("page"))
    return render(request, "alerts/case_list.html", {"form": form, "page": page})


# The live status page polls a small HTML fragment rather than holding a server-sent-events
# stream open: polling works under gunicorn's sync workers (an SSE stream would pin one worker
# per open tab, and the production server has two cores), through any proxy or load balancer,
# and across reconnects and expired sessions with no extra code. Every poll is two queries, and
# an unchanged fragment answers 304 with no body (ConditionalGetMiddleware's ETag), so a few
# hundred open tabs polling every 5 s are cheap (reliability.md section 7).
STATUS_POLL_SECONDS = 5


@login_required
def status(request: HttpRequest) -> HttpResponse:
    context = {"open": open_cases(request.user), "poll_seconds": STATUS_POLL_SECONDS}
    return render(request, "alerts/status.html", context)


@login_required
@conditional_on_content
@cache_control(private=True, no_cache=True)
def status_live(request: HttpRequest) -> HttpResponse:
    """The status page's changing part, fetched by static/js/live.js every few seconds."""
    return render(request, "alerts/_status_cases.html", {"open": open_cases(request.user)})
