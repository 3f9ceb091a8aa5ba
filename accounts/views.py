"""A user's own settings: language (also switchable from every page), time zone, and the
second factor of their login."""

from __future__ import annotations

from base64 import b32encode
from typing import cast

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.http import require_POST
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.forms import PreferencesForm, TokenForm
from accounts.models import Language, User


@require_POST
def set_language(request: HttpRequest) -> HttpResponseBase:
    """Django's language switch (cookie and redirect back), remembered on the user as well:
    the user's saved language wins over the cookie on every later request (middleware)."""
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in Language.values:
        User.objects.filter(pk=request.user.pk).update(language=language)
    return i18n.set_language(request)


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)  # login_required let only a logged-in user through
    form = PreferencesForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        translation.activate(user.language)
        messages.success(request, _("Your settings are saved."))
        response = redirect("accounts:preferences")
        response.set_cookie("django_language", user.language, samesite="Lax")
        return response
    context = {"form": form, "two_factor_on": user_has_device(user), "token_form": TokenForm()}
    return render(request, "accounts/preferences.html", context)


def _next_page(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of logging in: a code from the user's app."""
    user = cast(User, request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = django_otp.match_token(user, form.cleaned_data["token"])
        if device is not None:
            django_otp.login(request, device)
            return redirect(_next_page(request))
        form.add_error("token", _("This code is wrong or has expired."))
    return render(request, "accounts/two_factor_verify.html", {"form": form})


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Connect an authenticator app: scan the code, then prove it with its first code."""
    user = cast(User, request.user)
    device = two_factor.device_for_setup(user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            django_otp.login(request, device)
            request.session[two_factor.REQUIRED_SESSION_KEY] = True
            messages.success(request, _("Two-factor authentication is on."))
            return redirect(_next_page(request))
        form.add_error("token", _("This code is wrong or has expired."))
    key = b32encode(device.bin_key).decode()
    context = {"form": form, "qr_svg": two_factor.qr_svg(device), "key": key}
    return render(request, "accounts/two_factor_setup.html", context)


@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    """Customers may turn it off again with a current code; staff may not."""
    user = cast(User, request.user)
    form = TokenForm(request.POST)
    if user.is_staff or not form.is_valid():
        messages.error(request, _("Two-factor authentication stays on."))
    elif django_otp.match_token(user, form.cleaned_data["token"]) is None:
        messages.error(request, _("This code is wrong or has expired."))
    else:
        TOTPDevice.objects.filter(user=user).delete()
        request.session[two_factor.REQUIRED_SESSION_KEY] = False
        messages.success(request, _("Two-factor authentication is off."))
    return redirect("accounts:preferences")
