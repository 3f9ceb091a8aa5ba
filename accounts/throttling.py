"""How django-axes identifies a login attempt: the address as our proxies report it, and the
e-mail address as the user would be found by it (reliability.md section 4.4)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str:
    """The client's address; behind N trusted proxies, the Nth address from the right.

    Without this every customer behind the load balancer would share its address, and one
    guesser would lock everyone out. The same rule as the webhook intake's source check.
    """
    hops = settings.TAIRYO_PROXY_HOPS
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if hops and len(forwarded) >= hops and forwarded[-hops]:
        return str(forwarded[-hops])
    return str(request.META.get("REMOTE_ADDR", ""))


def username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """Lower-cased, as logins are: "Alice@" and "alice@" count against one allowance."""
    value = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(value).strip().lower()


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page shown while a user name is locked out from an address: 429, translated."""
    cooloff: timedelta = settings.AXES_COOLOFF_TIME
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": max(1, round(cooloff.total_seconds() / 60)),
    }
    return render(request, "accounts/locked_out.html", context, status=429)
