"""Sales change a route and a template, preview and test it; the next mail follows; the audit
log says who changed what, when, from what to what."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.forms.models import model_to_dict
from django.test import Client

from accounts.models import User
from alerts.models import WebhookReceipt
from alerts.tests import payloads
from notifications import delivery
from notifications.models import Contact, Notification, Route, Template

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]
Flow = Callable[..., WebhookReceipt]


def _entries(obj: Any) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(obj).order_by("timestamp", "pk"))


def _route_data(route: Route, **changes: Any) -> dict[str, Any]:
    return {
        "organization": route.organization_id,
        "name": route.name,
        "service": "",
        "minimum_severity": route.minimum_severity,
        "triggers": route.triggers,
        "contacts": [contact.pk for contact in route.contacts.all()],
        "template": route.template_id or "",
        "is_active": "on",
    } | changes


def _template_data(template: Template, **changes: Any) -> dict[str, Any]:
    data = {k: v or "" for k, v in model_to_dict(template).items() if k != "id"}
    data["is_default"] = "on" if template.is_default else ""
    return data | changes


def test_sales_edit_preview_test_and_the_next_mail_follows_all_in_the_log(
    login: Login,
    sales_user: User,
    route: Route,
    ops: Contact,
    noc: Contact,
    alert_flow: Flow,
    mail_provider: Any,
) -> None:
    client = login(sales_user)
    template = Template.objects.create(
        name="Acme short",
        from_email="Acme 監視 <watch@tairyo.example>",
        subject="[Acme] {{ host_name }}",
        body_text="{{ case_id }}: {{ message }}",
    )
    template_url = f"/admin/notifications/template/{template.pk}/change/"
    saved = client.post(
        template_url, _template_data(template, subject="[Acme] {{ host_name }} {{ event }}")
    )
    assert saved.status_code == 302
    preview = client.get(template_url).content.decode()
    assert "[Acme] " in preview and "opened" in preview
    client.post(
        "/admin/notifications/template/",
        {"action": "send_test_mail", "_selected_action": [template.pk]},
    )
    [test_mail] = mail_provider.messages
    assert test_mail.to == ["sales@tairyo.example"]
    mail_provider.clear()

    route_url = f"/admin/notifications/route/{route.pk}/change/"
    changed = client.post(
        route_url, _route_data(route, template=template.pk, contacts=[noc.pk], name="night")
    )
    assert changed.status_code == 302

    alert_flow(payloads.alert())
    for pk in Notification.objects.filter(status="pending").values_list("pk", flat=True):
        delivery.deliver(pk)
    [mail] = mail_provider.messages
    assert mail.to == ["noc@acme.example"]
    assert mail.subject == "[Acme] vm0001 opened"

    created, updated = _entries(template)
    assert created.action == LogEntry.Action.CREATE
    assert updated.actor == sales_user
    assert updated.changes_dict["subject"] == [
        "[Acme] {{ host_name }}",
        "[Acme] {{ host_name }} {{ event }}",
    ]
    route_entries = [e for e in _entries(route) if e.actor == sales_user]
    fields = [e.changes_dict for e in route_entries if e.action == LogEntry.Action.UPDATE]
    assert {"name": ["everything", "night"], "template": ["None", "Acme short"]} in [
        {k: v for k, v in c.items() if k in ("name", "template")} for c in fields
    ]
    m2m = [c["contacts"] for c in fields if "contacts" in c]
    assert {"type": "m2m", "operation": "delete", "objects": [str(ops)]} in m2m
    assert {"type": "m2m", "operation": "add", "objects": [str(noc)]} in m2m


def test_history_of_a_route_shows_who_and_before_and_after(
    login: Login, sales_user: User, support_user: User, route: Route
) -> None:
    login(sales_user).post(
        f"/admin/notifications/route/{route.pk}/change/",
        _route_data(route, minimum_severity="critical"),
    )
    page = login(support_user).get(f"/admin/notifications/route/{route.pk}/history/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "sales@tairyo.example" in text
    assert "warning" in text and "critical" in text


def test_contact_changes_and_bounce_clearing_are_logged(
    login: Login, sales_user: User, ops: Contact
) -> None:
    Contact.objects.filter(pk=ops.pk).update(bounce_reason="550 no such user")
    ops.refresh_from_db()
    client = login(sales_user)
    client.post(
        "/admin/notifications/contact/",
        {"action": "clear_bounce", "_selected_action": [ops.pk]},
    )
    Contact.objects.filter(pk=ops.pk).update(bounced_at="2026-01-01T00:00:00Z")
    client.post(
        "/admin/notifications/contact/",
        {"action": "clear_bounce", "_selected_action": [ops.pk]},
    )
    [*_, cleared] = _entries(ops)
    assert cleared.actor == sales_user
    assert cleared.changes_dict["bounced_at"][1] == "None"
