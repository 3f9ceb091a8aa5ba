from __future__ import annotations

from django.urls import path

from pages import views

app_name = "pages"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("hosts/<str:host_id>/", views.host_detail, name="host_detail"),
    path("cases/<str:alert_id>/", views.case_detail, name="case_detail"),
    path("staff/orgs/", views.staff_overview, name="staff_overview"),
    path("staff/orgs/<uuid:code>/", views.staff_organization, name="staff_organization"),
]
