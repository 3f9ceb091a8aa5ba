"""Who may do what in the admin, proved over the real URLs (docs/authorization.md, "Staff").

Sales edit customers, organizations (not their secrets), contacts, routes and templates; support
read everything and change nothing; only superusers manage keys, tokens and signing secrets; a
customer's user never gets in. Every refused request is checked to have changed nothing: every
row of every Tairyo table and of the audit log is compared before and after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django import forms
from django.apps import apps
from django.db import connection
from django.test import Client

from accounts import tokens
from accounts.models import ApiToken, Customer, User
from alerts.models import Case, WebhookReceipt
from alerts.tests.factories import make_case
from notifications.models import Contact, Notification, Route, Template
from orgs.models import Organization, SyncRun
from webhooks import planning, services
from webhooks.models import Delivery, Subscription

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]
ROLES = ("customer", "support", "sales", "superuser")
TABLE_APPS = ("accounts", "orgs", "alerts", "notifications", "webhooks", "auditlog")
LOGIN_REDIRECT = 302  # a customer's user is sent to the admin's login page, whatever they ask


# --- The world: one object of every model staff reach in the admin ------------------------------
@dataclass
class World:
    customer: Customer
    organization: Organization
    contact: Contact
    route: Route
    template: Template
    user: User
    apitoken: ApiToken
    subscription: Subscription
    delivery: Delivery
    webhookreceipt: WebhookReceipt
    case: Case
    notification: Notification
    syncrun: SyncRun

    def url(self, model: str, view: str = "changelist") -> str:
        app = MODELS[model]
        if view in ("changelist", "add"):
            return f"/admin/{app}/{model}/" + ("add/" if view == "add" else "")
        obj = getattr(self, model)
        return f"/admin/{app}/{model}/{obj.pk}/{view}/"


MODELS = {
    "customer": "accounts",
    "user": "accounts",
    "apitoken": "accounts",
    "organization": "orgs",
    "syncrun": "orgs",
    "contact": "notifications",
    "route": "notifications",
    "template": "notifications",
    "notification": "notifications",
    "webhookreceipt": "alerts",
    "case": "alerts",
    "subscription": "webhooks",
    "delivery": "webhooks",
}


@pytest.fixture
def world(acme: Customer, acme_org: Organization, alice: User, settings: Any) -> World:
    settings.TAIRYO_WEBHOOK_ALLOWED_HOSTS = ["localhost"]
    contact = Contact.objects.create(customer=acme, name="NOC", email="noc@acme.example")
    template = Template.objects.create(
        name="Acme", from_email="noc@tairyo.example", subject="{{ host_name }}", body_text="x"
    )
    route = Route.objects.create(
        organization=acme_org, name="all", triggers=["opened"], template=template
    )
    route.contacts.add(contact)
    case = make_case(acme_org)
    from alerts import services as alert_services
    from alerts.tests import payloads

    receipt = alert_services.accept(acme_org, payloads.encode(payloads.alert()), {}, None, "alert")
    WebhookReceipt.objects.filter(pk=receipt.pk).update(status="failed", reason="bug")
    receipt.refresh_from_db()
    subscription, _secret = services.create(acme, "http://localhost/hook", ["case.opened"])
    return World(
        customer=acme,
        organization=acme_org,
        contact=contact,
        route=route,
        template=template,
        user=alice,
        apitoken=tokens.issue(name="desk", customer=acme, can_write=False, created_by=alice).token,
        subscription=subscription,
        delivery=planning.make_test_delivery(subscription),
        webhookreceipt=receipt,
        case=case,
        notification=Notification.objects.create(
            customer=acme, organization=acme_org, case=case, contact=contact, status="failed"
        ),
        syncrun=SyncRun.objects.create(customer=acme, organization=acme_org),
    )


@pytest.fixture
def as_role(
    request: pytest.FixtureRequest, login: Login, world: World
) -> Iterator[Callable[[str], Client]]:
    def _client(role: str) -> Client:
        fixture = {
            "customer": "alice",
            "support": "support_user",
            "sales": "sales_user",
            "superuser": "superuser",
        }[role]
        return login(request.getfixturevalue(fixture))

    yield _client


def snapshot() -> dict[str, list[str]]:
    """Every row of every Tairyo table and of the audit log, as JSON text."""
    tables = sorted(
        model._meta.db_table
        for label in TABLE_APPS
        for model in apps.get_app_config(label).get_models()
        if model._meta.managed
    )
    rows: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')  # noqa: S608
            rows[table] = sorted(row[0] for row in cursor.fetchall())
    return rows


def changed_tables(before: dict[str, list[str]]) -> set[str]:
    after = snapshot()
    return {table for table in after if after[table] != before.get(table)}


# --- Reading -------------------------------------------------------------------------------------
READ_ONLY = {"syncrun", "notification", "webhookreceipt", "case", "delivery"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("model", sorted(MODELS))
def test_staff_read_every_list_and_page_and_customers_never(
    role: str, model: str, world: World, as_role: Callable[[str], Client]
) -> None:
    client = as_role(role)
    expected = LOGIN_REDIRECT if role == "customer" else 200
    for view in ("changelist", "change", "history"):
        response = client.get(world.url(model, view))
        assert response.status_code == expected, (view, response.status_code)


# --- Adding --------------------------------------------------------------------------------------
SALES_ADD = {"customer", "organization", "contact", "route", "template", "apitoken"}
SUPERUSER_ADD = SALES_ADD | {"user", "subscription"}


def _add_status(role: str, model: str) -> int:
    if role == "customer":
        return LOGIN_REDIRECT
    allowed = {"sales": SALES_ADD, "superuser": SUPERUSER_ADD, "support": set()}[role]
    return 200 if model in allowed else 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("model", sorted(MODELS))
def test_add_page(role: str, model: str, world: World, as_role: Callable[[str], Client]) -> None:
    client = as_role(role)
    before = snapshot()
    assert client.get(world.url(model, "add")).status_code == _add_status(role, model)
    refused = client.post(world.url(model, "add"), {"name": "intruder", "email": "x@x.example"})
    if _add_status(role, model) != 200:
        assert refused.status_code == _add_status(role, model)
        assert changed_tables(before) == set()


# --- Changing ------------------------------------------------------------------------------------
def form_data(response: Any) -> dict[str, Any]:
    """What a browser would post back from an admin change page left as it is."""
    context = response.context
    form_sets = [context["adminform"].form]
    data: dict[str, Any] = {}
    for inline in context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management[name].html_name] = management[name].value()
        form_sets += list(formset.forms)
    for form in form_sets:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            bound = form[name]
            value = bound.value()
            if isinstance(field.widget, forms.MultiWidget):
                for index, part in enumerate(field.widget.decompress(value) or []):
                    data[f"{bound.html_name}_{index}"] = "" if part is None else str(part)
            elif isinstance(field, forms.BooleanField):
                if value:
                    data[bound.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[bound.html_name] = [str(item) for item in value]
            else:
                data[bound.html_name] = "" if value is None else value
    return data


# One field each role may change, and what it is changed to.
EDITS = {
    "customer": ("memo", "edited"),
    "organization": ("memo", "edited"),
    "contact": ("name", "edited"),
    "route": ("name", "edited"),
    "template": ("subject", "edited {{ host_name }}"),
    "user": ("full_name", "edited"),
    "subscription": ("description", "edited"),
}
SALES_CHANGE = {"customer", "organization", "contact", "route", "template"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("model", sorted(EDITS))
def test_change(role: str, model: str, world: World, as_role: Callable[[str], Client]) -> None:
    field, value = EDITS[model]
    url = world.url(model, "change")
    data = form_data(as_role("superuser").get(url)) | {field: value}
    allowed = role == "superuser" or (role == "sales" and model in SALES_CHANGE)
    client = as_role(role)
    before = snapshot()
    response = client.post(url, data)
    obj = getattr(world, model)
    obj.refresh_from_db()
    if allowed:
        assert response.status_code == 302, response.context and (
            response.context["adminform"].form.errors
        )
        assert getattr(obj, field) == value
    else:
        expected = LOGIN_REDIRECT if role == "customer" else 403
        assert response.status_code == expected
        assert changed_tables(before) == set()


# What a superuser's post to a record's page answers. Notifications and sync runs refuse it; on
# the others every field is read-only (a token's, once it was shown), so the page saves nothing
# new (302) or shows itself again for want of its read-only inline's management form (200).
SUPERUSER_RECORD_POST = {
    "notification": 403,
    "syncrun": 403,
    "case": 200,
    "delivery": 200,
    "webhookreceipt": 302,
    "apitoken": 302,
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("model", sorted(READ_ONLY | {"apitoken"}))
def test_records_cannot_be_changed_by_anyone(
    role: str, model: str, world: World, as_role: Callable[[str], Client]
) -> None:
    client = as_role(role)
    before = snapshot()
    response = client.post(world.url(model, "change"), {"name": "x", "status": "pending"})
    if role == "customer":
        assert response.status_code == LOGIN_REDIRECT
    elif role == "superuser":
        assert response.status_code == SUPERUSER_RECORD_POST[model]
    elif role == "sales" and model == "apitoken":
        assert response.status_code == 302
    else:
        assert response.status_code == 403
    assert changed_tables(before) == set()


# --- Deleting ------------------------------------------------------------------------------------
SALES_DELETE = {"customer", "organization", "contact", "route", "template"}
# Superusers may also delete an outbound delivery (deleting a subscription takes its deliveries
# with it, which the admin allows only to whoever may delete them).
SUPERUSER_DELETE = SALES_DELETE | {"user", "subscription", "delivery"}


def _deletable(world: World, model: str) -> Any:
    """A fresh object nothing refers to, so that deleting it is not stopped by what it protects."""
    acme = world.customer
    fresh: dict[str, Callable[[], Any]] = {
        "customer": lambda: Customer.objects.create(name="Initech"),
        "organization": lambda: Organization.objects.create(customer=acme, name="acme-dev"),
        "contact": lambda: Contact.objects.create(customer=acme, name="x", email="x@acme.example"),
        "route": lambda: Route.objects.create(organization=world.organization, name="x"),
        "template": lambda: Template.objects.create(
            name="spare", from_email="a@b.example", subject="s", body_text="b"
        ),
        "user": lambda: User.objects.create_user("eve@acme.example", "x" * 12),
        "subscription": lambda: services.create(acme, "http://localhost/x", ["case.opened"])[0],
    }
    return fresh[model]() if model in fresh else getattr(world, model)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("model", sorted(MODELS))
def test_delete(role: str, model: str, world: World, as_role: Callable[[str], Client]) -> None:
    obj = _deletable(world, model)
    url = f"/admin/{MODELS[model]}/{model}/{obj.pk}/delete/"
    client = as_role(role)
    before = snapshot()
    response = client.post(url, {"post": "yes"})
    allowed = {"sales": SALES_DELETE, "superuser": SUPERUSER_DELETE}.get(role, set())
    if model in allowed:
        assert response.status_code == 302
        assert not type(obj).objects.filter(pk=obj.pk).exists()
    else:
        expected = LOGIN_REDIRECT if role == "customer" else 403
        assert response.status_code == expected
        assert changed_tables(before) == set()


# --- Actions -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Action:
    model: str
    name: str
    roles: frozenset[str]
    # The table the action writes to when it runs (None: it only reports).
    writes: str | None


ACTIONS = [
    Action("organization", "check_api_key", frozenset({"support", "sales", "superuser"}), None),
    Action("organization", "rotate_webhook_token", frozenset({"superuser"}), "orgs_organization"),
    Action("template", "send_test_mail", frozenset({"sales", "superuser"}), None),
    Action("contact", "clear_bounce", frozenset({"sales", "superuser"}), "notifications_contact"),
    Action("apitoken", "revoke", frozenset({"sales", "superuser"}), "accounts_apitoken"),
    Action("webhookreceipt", "process_again", frozenset({"superuser"}), "alerts_webhookreceipt"),
    Action("subscription", "rotate", frozenset({"superuser"}), "webhooks_subscription"),
    Action("subscription", "send_test", frozenset({"superuser"}), "webhooks_delivery"),
    Action("delivery", "replay", frozenset({"superuser"}), "webhooks_delivery"),
    Action(
        "notification",
        "send_again",
        frozenset({"sales", "superuser"}),
        "notifications_notification",
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: f"{action.model}.{action.name}")
def test_action(
    role: str,
    action: Action,
    world: World,
    as_role: Callable[[str], Client],
    mail_provider: Any,
    redis_client: Any,
) -> None:
    Contact.objects.filter(pk=world.contact.pk).update(bounced_at="2026-01-01T00:00:00Z")
    Delivery.objects.filter(pk=world.delivery.pk).update(status="failed", attempts=3)
    client = as_role(role)
    changelist = world.url(action.model)
    if role != "customer":
        offered = f'value="{action.name}"' in client.get(changelist).content.decode()
        assert offered == (role in action.roles)
    obj = getattr(world, action.model)
    before = snapshot()
    response = client.post(changelist, {"action": action.name, "_selected_action": [obj.pk]})
    changed = changed_tables(before)
    if role == "customer":
        assert response.status_code == LOGIN_REDIRECT
        assert changed == set()
    elif role in action.roles:
        assert response.status_code in (200, 302)
        if action.writes:
            assert action.writes in changed
        if action.name == "send_test_mail":
            assert len(mail_provider.messages) == 1
    else:
        # Django answers an action that is not offered with "No action selected" (a redirect),
        # or with the list itself when the user has no action at all on that model.
        assert response.status_code in (200, 302)
        assert changed == set()
        assert mail_provider.messages == []


# --- The audit log -------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_audit_log_is_read_by_staff_and_written_by_nobody(
    role: str, world: World, as_role: Callable[[str], Client]
) -> None:
    from auditlog.models import LogEntry

    client = as_role(role)
    entry = LogEntry.objects.latest()
    base = "/admin/auditlog/logentry/"
    expected_read = LOGIN_REDIRECT if role == "customer" else 200
    assert client.get(base).status_code == expected_read
    assert client.get(f"{base}{entry.pk}/change/").status_code == expected_read
    before = snapshot()
    refused = LOGIN_REDIRECT if role == "customer" else 403
    assert client.get(f"{base}add/").status_code == refused
    assert client.post(f"{base}{entry.pk}/change/", {"action": 2}).status_code == refused
    assert client.post(f"{base}{entry.pk}/delete/", {"post": "yes"}).status_code == refused
    client.post(base, {"action": "delete_selected", "_selected_action": [entry.pk]})
    assert changed_tables(before) == set()
