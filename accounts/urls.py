from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import forms, views

app_name = "accounts"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", authentication_form=forms.LoginForm
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/", views.preferences, name="preferences"),
]
