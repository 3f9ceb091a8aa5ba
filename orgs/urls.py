from __future__ import annotations

from django.urls import path

from orgs import views

app_name = "orgs"

urlpatterns = [
    path("orgs/", views.organization_list, name="organization_list"),
    path("orgs/<uuid:code>/", views.organization_detail, name="organization_detail"),
    path("hosts/", views.host_list, name="host_list"),
]
