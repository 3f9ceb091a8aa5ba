"""The REST API under /api/v1/: each app's viewsets on one router, the schema and its docs."""

from __future__ import annotations

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from accounts.api import errors
from notifications.api.views import CaseViewSet, ContactViewSet, NotificationViewSet
from orgs.api.views import HostViewSet, OrganizationViewSet, ServiceViewSet
from webhooks.api.views import DeliveryViewSet, SubscriptionViewSet

app_name = "api"

router = SimpleRouter()
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("services", ServiceViewSet, basename="service")
router.register("hosts", HostViewSet, basename="host")
router.register("cases", CaseViewSet, basename="case")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("contacts", ContactViewSet, basename="contact")
router.register("webhooks", SubscriptionViewSet, basename="webhook")
router.register("webhook-deliveries", DeliveryViewSet, basename="webhook-delivery")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include(router.urls)),
    # Anything else under /api/v1/ answers in the API's error shape, not with an HTML page.
    re_path(r"", errors.not_found, name="not_found"),
]
