"""Tairyo's URL map: each app brings its own urls module."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from accounts import views as accounts_views
from health import views as health_views

admin.site.site_header = "Tairyo"
admin.site.site_title = "Tairyo"

urlpatterns = [
    path("", include("pages.urls")),
    path("", include("orgs.urls")),
    path("", include("alerts.urls")),
    path("", include("notifications.urls")),
    path("", include("support.urls")),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("portal.api_urls")),
    path("healthz", include("health.urls")),
    path("livez", health_views.livez, name="livez"),
    path("metrics", health_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("anymail/", include("anymail.urls")),
    # Django's language switch, which also saves the language on the logged-in user.
    path("i18n/setlang/", accounts_views.set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
]
