"""Admin forms for mail templates and routes: validation only."""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from notifications import previews
from notifications.models import Contact, Route, Template
from orgs.models import Organization, Service


def _check_address(value: str) -> None:
    """One ``name@example.com`` or ``Name <name@example.com>``, as composing splits them."""
    _name, address = parseaddr(value)
    # parseaddr forgives a lot ("a@b.com>", two addresses in one); accept only the two shapes.
    bracketed = value.endswith(f"<{address}>") and "<" not in value[: -len(address) - 2]
    try:
        if not address or "\r" in value or "\n" in value or not (value == address or bracketed):
            raise ValidationError("malformed")
        validate_email(address)
    except ValidationError:
        raise ValidationError(
            _(
                "“%(value)s” is not an e-mail address. Write name@example.com or "
                "Name <name@example.com>, without commas in the name."
            ),
            code="invalid",
            params={"value": value},
        ) from None


def clean_addresses(value: str, *, single: bool = False) -> str:
    """``value`` as a normalized comma-separated list of valid addresses."""
    addresses = [part.strip() for part in value.split(",") if part.strip()]
    if single and len(addresses) > 1:
        raise ValidationError(_("Give one address only."), code="multiple")
    for address in addresses:
        _check_address(address)
    return ", ".join(addresses)


class TemplateAdminForm(forms.ModelForm[Template]):
    """A template is saved only if every part renders with every sample and its addresses parse."""

    class Meta:
        model = Template
        fields = (
            "name", "kind", "language", "is_default", "from_email", "reply_to", "to_override",
            "cc", "subject", "body_text", "body_html",
        )  # fmt: skip
        widgets: ClassVar[dict[str, forms.Widget]] = {
            "subject": forms.TextInput(attrs={"class": "vLargeTextField"}),
            "body_text": forms.Textarea(attrs={"rows": 18, "class": "vLargeTextField mono"}),
            "body_html": forms.Textarea(attrs={"rows": 12, "class": "vLargeTextField mono"}),
        }

    def clean_from_email(self) -> str:
        return clean_addresses(self.cleaned_data["from_email"], single=True)

    def clean_reply_to(self) -> str:
        return clean_addresses(self.cleaned_data["reply_to"])

    def clean_to_override(self) -> str:
        return clean_addresses(self.cleaned_data["to_override"])

    def clean_cc(self) -> str:
        return clean_addresses(self.cleaned_data["cc"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        kind, language = cleaned.get("kind"), cleaned.get("language")
        if kind and language:
            for part in previews.PARTS:
                if cleaned.get(part):
                    self._check_renders(part, cleaned[part], kind, language)
        if kind == Template.Kind.DIGEST and self._used_by_routes():
            self.add_error(
                "kind",
                _("Routes send case mail with this template; choose another template there first."),
            )
        self._check_fixed_recipients(cleaned)
        return cleaned

    def _check_fixed_recipients(self, cleaned: dict[str, Any]) -> None:
        """To (override) and Cc send every mail of the template to the same people.

        That is right for one customer's own template, and a leak for a template that serves
        several customers: a default one, or one that routes of several customers use.
        """
        fixed = [field for field in ("to_override", "cc") if cleaned.get(field)]
        if not fixed:
            return
        if cleaned.get("is_default"):
            message = _(
                "A default template serves every customer: it cannot have fixed recipients."
            )
        elif len(self._customers_of_routes()) > 1:
            message = _(
                "Routes of several customers use this template: it cannot have fixed recipients."
            )
        else:
            return
        for field in fixed:
            self.add_error(field, message)

    def _customers_of_routes(self) -> set[int]:
        if not self.instance.pk:
            return set()
        routes = Route.objects.filter(template=self.instance)
        return set(routes.values_list("customer_id", flat=True))

    def _check_renders(self, part: str, source: str, kind: str, language: str) -> None:
        failure = previews.first_error(part, source, kind, language)
        if failure is not None:
            sample, error = failure
            self.add_error(
                part,
                ValidationError(
                    _("Does not render with “%(sample)s”: %(error)s"),
                    code="template",
                    params={"sample": sample.label, "error": error},
                ),
            )

    def _used_by_routes(self) -> bool:
        return bool(self.instance.pk) and Route.objects.filter(template=self.instance).exists()


class ContactChoiceField(forms.ModelMultipleChoiceField[Contact]):
    """Contacts labelled with what staff need to choose well: owner, bounces, inactivity."""

    show_customer = True

    def label_from_instance(self, obj: Contact) -> str:
        label = str(obj)
        if self.show_customer:
            label = f"{obj.customer.name}: {label}"
        if obj.bounced_at:
            label += " — " + str(_("mail bounces"))
        if not obj.is_active:
            label += " — " + str(_("inactive"))
        return label


class ServiceChoiceField(forms.ModelChoiceField[Service]):
    """Services, named with their organization until the organization is known."""

    show_organization = True

    def label_from_instance(self, obj: Service) -> str:
        return f"{obj.organization.name}: {obj.name}" if self.show_organization else obj.name


class RouteForm(forms.ModelForm[Route]):
    """A route of one organization: its services, its customer's contacts, a case template.

    Choices are narrowed to the organization once it is known (the route's own, the inline's
    parent, ``?organization=`` or the submitted one); ``clean`` checks ownership in every case,
    so a contact of another customer is refused even when the form could not narrow the list.
    """

    # Set by the inline on an organization's page, where the form has no organization field.
    fixed_organization: ClassVar[Organization | None] = None

    triggers = forms.MultipleChoiceField(
        label=_("events"),
        choices=Route.Trigger.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Which changes of a case send mail."),
    )

    class Meta:
        model = Route
        fields = (
            "organization", "name", "service", "minimum_severity", "triggers", "contacts",
            "template", "is_active",
        )  # fmt: skip
        field_classes: ClassVar[dict[str, type[forms.Field]]] = {
            "contacts": ContactChoiceField,
            "service": ServiceChoiceField,
        }
        widgets: ClassVar[dict[str, type[forms.Widget]]] = {
            "contacts": forms.CheckboxSelectMultiple
        }
        error_messages: ClassVar[dict[str, dict[str, Any]]] = {
            "contacts": {
                "invalid_choice": _("That contact is not an active contact of this customer."),
            },
            "service": {"invalid_choice": _("That service is not in this organization.")},
        }

    @classmethod
    def for_organization(cls, organization: Organization) -> type[RouteForm]:
        return type("RouteForm", (cls,), {"fixed_organization": organization})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.initial.setdefault("triggers", list(Route.Trigger.values))
        self._narrow_choices(self._known_organization())

    def _known_organization(self) -> Organization | None:
        if self.fixed_organization is not None:
            return self.fixed_organization
        if self.instance.organization_id:
            return self.instance.organization
        if "organization" not in self.fields:
            return None
        value = self.data.get(self.add_prefix("organization")) if self.is_bound else None
        value = value or self.initial.get("organization")
        if value is None or not str(value).isdigit():
            return None
        return Organization.objects.filter(pk=int(value)).first()

    def _narrow_choices(self, organization: Organization | None) -> None:
        current = self.instance.contacts.all() if self.instance.pk else Contact.objects.none()
        contacts = Contact.objects.select_related("customer").filter(
            Q(is_active=True) | Q(pk__in=current.values("pk"))
        )
        services = Service.objects.select_related("organization").filter(
            Q(is_deleted=False) | Q(pk=self.instance.service_id)
        )
        if organization is not None:
            contacts = contacts.filter(customer_id=organization.customer_id)
            services = services.filter(organization=organization)
        contact_field = self.fields.get("contacts")
        if isinstance(contact_field, ContactChoiceField):
            contact_field.queryset = contacts.order_by("customer__name", "name")
            contact_field.show_customer = organization is None
        service_field = self.fields.get("service")
        if isinstance(service_field, ServiceChoiceField):
            service_field.queryset = services.order_by("organization__name", "name")
            service_field.show_organization = organization is None

    def clean_triggers(self) -> list[str]:
        chosen = set(self.cleaned_data["triggers"])
        return [value for value in Route.Trigger.values if value in chosen]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        organization = cleaned.get("organization") or self._known_organization()
        if organization is None:
            return cleaned
        service = cleaned.get("service")
        if service is not None and service.organization_id != organization.pk:
            self.add_error("service", _("That service is not in this organization."))
        strangers = [
            c for c in cleaned.get("contacts", []) if c.customer_id != organization.customer_id
        ]
        if strangers:
            self.add_error(
                "contacts",
                _("%(contacts)s: not a contact of %(customer)s.")
                % {
                    "contacts": ", ".join(str(contact) for contact in strangers),
                    "customer": organization.customer,
                },
            )
        template = cleaned.get("template")
        if template is not None and template.kind != Template.Kind.CASE:
            self.add_error("template", _("Routes send case mail: choose a case template."))
        elif template is not None and self._shares_fixed_recipients(template, organization):
            self.add_error(
                "template",
                _(
                    "This template sends to fixed recipients of another customer: "
                    "choose another template."
                ),
            )
        return cleaned

    def _shares_fixed_recipients(self, template: Template, organization: Organization) -> bool:
        """Whether ``template`` has To (override) or Cc and serves another customer's routes."""
        if not (template.to_override or template.cc):
            return False
        others = Route.objects.filter(template=template).exclude(
            customer_id=organization.customer_id
        )
        return others.exists()
