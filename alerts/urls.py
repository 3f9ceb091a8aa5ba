from __future__ import annotations

from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("hooks/mackerel/<str:token>/", views.mackerel_webhook, name="mackerel_webhook"),
    path("cases/", views.case_list, name="case_list"),
    path("status/", views.status, name="status"),
    path("status/live/", views.status_live, name="status_live"),
]
