from __future__ import annotations

from django.urls import path

from support import views

app_name = "support"

urlpatterns = [
    path("staff/search/", views.search_page, name="search"),
]
