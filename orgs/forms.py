from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orgs.models import Organization


class OrganizationAdminForm(forms.ModelForm[Organization]):
    """Organization form whose API key field is write-only: it is never rendered back."""

    new_api_key = forms.CharField(
        label=_("Mackerel API key"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Leave empty to keep the current key. The key is stored encrypted."),
    )
    clear_api_key = forms.BooleanField(label=_("Remove the API key"), required=False)
    new_webhook_password = forms.CharField(
        label=_("webhook password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "With a user name, Mackerel must send these credentials (write them in the webhook "
            "URL as https://user:password@host/...). Leave empty to keep the current password."
        ),
    )
    clear_webhook_password = forms.BooleanField(
        label=_("Remove the webhook password"), required=False
    )

    class Meta:
        model = Organization
        fields = (
            "customer", "name", "display_name", "memo", "is_active",
            "webhook_username", "webhook_allowed_networks",
        )  # fmt: skip

    def clean_webhook_allowed_networks(self) -> str:
        """One network per line, each checked here: a bad one would refuse every webhook."""
        import ipaddress

        lines = self.cleaned_data["webhook_allowed_networks"].split()
        bad = []
        for line in lines:
            try:
                ipaddress.ip_network(line, strict=False)
            except ValueError:
                bad.append(line)
        if bad:
            raise forms.ValidationError(
                _("Not a network (write e.g. 192.0.2.0/24 or 2001:db8::/32): %(bad)s")
                % {"bad": ", ".join(bad)}
            )
        return "\n".join(lines)

    def clean_new_api_key(self) -> str:
        key: str = self.cleaned_data["new_api_key"]
        if key and (len(key) < 8 or any(ch.isspace() for ch in key)):
            raise forms.ValidationError(_("This does not look like a Mackerel API key."))
        return key

    def save(self, commit: bool = True) -> Organization:
        org = super().save(commit=False)
        if self.cleaned_data.get("clear_api_key"):
            org.set_api_key("")
        elif self.cleaned_data.get("new_api_key"):
            org.set_api_key(self.cleaned_data["new_api_key"])
        if self.cleaned_data.get("clear_webhook_password"):
            org.set_webhook_password("")
        elif self.cleaned_data.get("new_webhook_password"):
            org.set_webhook_password(self.cleaned_data["new_webhook_password"])
        if commit:
            org.save()
        return org

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The field is there for superusers only (OrganizationAdmin.get_form).
        if self.instance.pk and self.instance.has_api_key and "new_api_key" in self.fields:
            self.fields["new_api_key"].help_text = _(
                "Current key ends in %(last4)s. Leave empty to keep it."
            ) % {"last4": self.instance.api_key_last4}
