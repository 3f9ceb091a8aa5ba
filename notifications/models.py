"""Who gets told about a customer's cases."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import TIME_ZONE_CHOICES, Customer, Language
from accounts.tenancy import CustomerQuerySet


class Contact(models.Model):
    """A person at a customer who receives mail about the customer's cases."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=150)
    email = models.EmailField(_("e-mail address"))
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.JAPANESE
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="Asia/Tokyo"
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["customer", "name"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "email"], name="one_contact_per_address")
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"
