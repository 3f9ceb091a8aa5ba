from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class LoginForm(AuthenticationForm):
    """Log in with an e-mail address and a password."""

    username = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class PreferencesForm(forms.ModelForm[User]):
    """The settings a user may change on their own: language and time zone."""

    class Meta:
        model = User
        fields = ("full_name", "language", "time_zone")
