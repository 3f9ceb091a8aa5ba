"""Two-factor authentication with TOTP (django-otp): required for staff, optional for customers.

A staff user, or a customer who has turned it on, logs in with a password and then a code from
an authenticator app; until then every page but the login, logout, two-factor and password-reset
pages sends them to enter (or, for staff without a device yet, to set up) their code. Whether a
customer needs a code is decided once, at login, and kept in the session, so pages cost no query
for it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import segno
from django.contrib.auth import user_logged_in
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

REQUIRED_SESSION_KEY = "two_factor_required"
# Pages a user who still owes a code may see: how to log in, out, and get the code right.
OPEN_URL_NAMES = frozenset(
    {
        "accounts:login",
        "accounts:logout",
        "accounts:two_factor_setup",
        "accounts:two_factor_verify",
        "accounts:password_reset",
        "accounts:password_reset_done",
        "accounts:password_reset_confirm",
        "accounts:password_reset_complete",
        "set_language",
        "livez",
        "health:healthz",
        "alerts:mackerel_webhook",
    }
)
# Machine-to-machine paths never carry a user's session.
OPEN_PREFIXES = ("/static/", "/anymail/", "/hooks/")


def remember_requirement(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    """At login: does this user owe a second factor? (Staff always do.)"""
    request.session[REQUIRED_SESSION_KEY] = user.is_staff or user_has_device(user)


user_logged_in.connect(remember_requirement, dispatch_uid="tairyo_two_factor_requirement")


def device_for_setup(user: User) -> TOTPDevice:
    """The user's TOTP device awaiting its first code, made on first use."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "Tairyo"}
    )
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// URI as an inline SVG QR code (no image request, no CDN)."""
    out = io.BytesIO()
    segno.make(device.config_url, error="m").save(out, kind="svg", scale=5, xmldecl=False)
    return out.getvalue().decode()


class TwoFactorMiddleware:
    """Sends a logged-in user who owes a code to the verification (or setup) page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], *args: Any
    ) -> HttpResponse | None:
        user = request.user
        # OTPMiddleware (just before) sets otp_device once a code was accepted in this session.
        if not user.is_authenticated or getattr(user, "otp_device", None) is not None:
            return None
        if not (user.is_staff or request.session.get(REQUIRED_SESSION_KEY)):
            return None
        match = request.resolver_match
        if (match and match.view_name in OPEN_URL_NAMES) or request.path.startswith(OPEN_PREFIXES):
            return None
        step = "accounts:two_factor_verify"
        if user.is_staff and not user_has_device(user):
            step = "accounts:two_factor_setup"
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse(step)}?{query}")
