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

    class Meta:
        model = Organization
        fields = ("customer", "name", "display_name", "memo", "is_active")

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
        if commit:
            org.save()
        return org

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.has_api_key:
            self.fields["new_api_key"].help_text = _(
                "Current key ends in %(last4)s. Leave empty to keep it."
            ) % {"last4": self.instance.api_key_last4}
