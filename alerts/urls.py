from __future__ import annotations

from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("hooks/mackerel/<str:token>/", views.mackerel_webhook, name="mackerel_webhook"),
    path("cases/<str:alert_id>/", views.case_detail, name="case_detail"),
]
