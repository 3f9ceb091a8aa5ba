"""A user's own settings: language (also switchable from every page) and time zone."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.http import require_POST

from accounts.forms import PreferencesForm
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
    return render(request, "accounts/preferences.html", {"form": form})
