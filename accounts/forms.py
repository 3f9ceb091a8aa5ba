from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import translation
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


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, mailing each user in their own language, not the visitor's."""

    def send_mail(  # noqa: PLR0917 -- Django's signature, called positionally
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        with translation.override(context["user"].language):
            super().send_mail(
                subject_template_name,
                email_template_name,
                context,
                from_email,
                to_email,
                html_email_template_name,
            )


class TokenForm(forms.Form):
    """A six-digit code from the user's authenticator app."""

    token = forms.RegexField(
        label=_("Code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the six digits your app shows.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        return str(self.cleaned_data["token"]).strip()
