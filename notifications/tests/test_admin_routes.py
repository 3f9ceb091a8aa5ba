"""Sales edit routes in the admin; the next mail follows what they saved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Customer, User
from alerts.models import WebhookReceipt
from alerts.tests import payloads
from notifications import delivery
from notifications.forms import RouteForm
from notifications.models import Contact, Notification, Route, Template
from notifications.tests.conftest import ALL_TRIGGERS
from orgs.models import Organization, Service

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]
Flow = Callable[..., WebhookReceipt]
ADD_URL = "/admin/notifications/route/add/"


@pytest.fixture
def stranger(globex: Customer) -> Contact:
    return Contact.objects.create(customer=globex, name="Globex ops", email="ops@globex.example")


def _url(route: Route) -> str:
    return f"/admin/notifications/route/{route.pk}/change/"


def _data(route: Route, **changes: Any) -> dict[str, Any]:
    data = {
        "organization": route.organization_id,
        "name": route.name,
        "service": route.service_id or "",
        "minimum_severity": route.minimum_severity,
        "triggers": route.triggers,
        "contacts": [contact.pk for contact in route.contacts.all()],
        "template": route.template_id or "",
        "is_active": "on",
    }
    return data | changes


def _new(org: Organization, **changes: Any) -> dict[str, Any]:
    data = {
        "organization": org.pk,
        "name": "database team",
        "service": "",
        "minimum_severity": "warning",
        "triggers": ["opened", "closed"],
        "contacts": [],
        "template": "",
        "is_active": "on",
    }
    return data | changes


def _send_all() -> None:
    for pk in Notification.objects.filter(status="pending").values_list("pk", flat=True):
        delivery.deliver(pk)


def test_route_is_added_with_its_events_as_a_list(
    login: Login, sales_user: User, acme_org: Organization, ops: Contact
) -> None:
    response = login(sales_user).post(ADD_URL, _new(acme_org, contacts=[ops.pk]))
    assert response.status_code == 302, response.context["adminform"].form.errors
    route = Route.objects.get(name="database team")
    assert route.triggers == ["opened", "closed"]
    assert route.customer_id == acme_org.customer_id
    assert list(route.contacts.all()) == [ops]


def test_contact_of_another_customer_is_refused(
    login: Login, sales_user: User, acme_org: Organization, ops: Contact, stranger: Contact
) -> None:
    response = login(sales_user).post(ADD_URL, _new(acme_org, contacts=[ops.pk, stranger.pk]))
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["contacts"]
    assert not Route.objects.exists()


def test_contact_of_another_customer_is_refused_even_unlisted(
    acme_org: Organization, stranger: Contact
) -> None:
    # As on an add page before the organization is chosen: every customer's contacts listed.
    form = RouteForm(data=_new(acme_org, contacts=[stranger.pk]))
    form._narrow_choices(None)
    assert not form.is_valid()
    assert "Globex ops" in form.errors["contacts"][0]


def test_service_of_another_organization_is_refused(
    login: Login, sales_user: User, acme_org: Organization, globex_org: Organization, ops: Contact
) -> None:
    theirs = Service.objects.create(customer=globex_org.customer, organization=globex_org, name="x")
    response = login(sales_user).post(ADD_URL, _new(acme_org, contacts=[ops.pk], service=theirs.pk))
    assert list(response.context["adminform"].form.errors) == ["service"]


def test_route_needs_an_event(
    login: Login, sales_user: User, acme_org: Organization, ops: Contact
) -> None:
    response = login(sales_user).post(ADD_URL, _new(acme_org, contacts=[ops.pk], triggers=[]))
    assert list(response.context["adminform"].form.errors) == ["triggers"]


def test_digest_template_cannot_be_chosen(login: Login, sales_user: User, route: Route) -> None:
    digest = Template.objects.get(kind="digest", language="ja", is_default=True)
    response = login(sales_user).post(_url(route), _data(route, template=digest.pk))
    assert list(response.context["adminform"].form.errors) == ["template"]


def test_template_with_another_customers_fixed_recipients_is_refused(
    login: Login, sales_user: User, route: Route, globex_org: Organization, stranger: Contact
) -> None:
    acme_only = Template.objects.create(
        name="Acme with Cc",
        from_email="noc@tairyo.example",
        cc="audit@acme.example",
        subject="{{ case_id }}",
        body_text="{{ message }}",
    )
    route.template = acme_only
    route.save()
    response = login(sales_user).post(
        ADD_URL, _new(globex_org, contacts=[stranger.pk], template=acme_only.pk)
    )
    assert list(response.context["adminform"].form.errors) == ["template"]
    assert not Route.objects.filter(organization=globex_org).exists()
    # Its own customer may use it on another route.
    ok = login(sales_user).post(
        ADD_URL, _new(route.organization, contacts=[route.contacts.get().pk], template=acme_only.pk)
    )
    assert ok.status_code == 302


def test_change_page_offers_only_this_customers_contacts_and_this_orgs_services(
    login: Login,
    sales_user: User,
    route: Route,
    stranger: Contact,
    globex_org: Organization,
) -> None:
    Service.objects.create(customer=globex_org.customer, organization=globex_org, name="secret")
    Service.objects.create(customer=route.customer, organization=route.organization, name="web")
    form = login(sales_user).get(_url(route)).context["adminform"].form
    assert [c.email for c in form.fields["contacts"].queryset] == ["ops@acme.example"]
    assert [s.name for s in form.fields["service"].queryset] == ["web"]


def test_sales_remove_a_contact_and_the_next_mail_follows(
    login: Login,
    sales_user: User,
    route: Route,
    ops: Contact,
    noc: Contact,
    alert_flow: Flow,
    mail_provider: Any,
) -> None:
    route.contacts.add(noc)
    alert_flow(payloads.alert("first000001"))
    _send_all()
    assert sorted(m.to[0] for m in mail_provider.messages) == [
        "noc@acme.example",
        "ops@acme.example",
    ]
    mail_provider.clear()

    response = login(sales_user).post(_url(route), _data(route, contacts=[ops.pk]))
    assert response.status_code == 302
    alert_flow(payloads.alert("second00002"))
    _send_all()
    assert [m.to for m in mail_provider.messages] == [["ops@acme.example"]]


def test_sales_switch_the_template_and_the_next_mail_uses_it(
    login: Login, sales_user: User, route: Route, alert_flow: Flow, mail_provider: Any
) -> None:
    custom = Template.objects.create(
        name="Acme short",
        from_email="Acme 監視 <watch@tairyo.example>",
        subject="[Acme] {{ host_name }} {{ event }}",
        body_text="{{ case_id }}: {{ message }}",
    )
    response = login(sales_user).post(_url(route), _data(route, template=custom.pk))
    assert response.status_code == 302
    alert_flow(payloads.alert())
    _send_all()
    [message] = mail_provider.messages
    assert message.subject == "[Acme] vm0001 opened"
    assert message.from_email == "Acme 監視 <watch@tairyo.example>"
    assert message.text.startswith("3k73ZJscVcW: CPU %")


def test_sales_pause_a_route_and_nobody_is_mailed(
    login: Login, sales_user: User, route: Route, alert_flow: Flow, mail_provider: Any
) -> None:
    data = _data(route)
    del data["is_active"]
    assert login(sales_user).post(_url(route), data).status_code == 302
    alert_flow(payloads.alert())
    assert not Notification.objects.exists()


def test_support_can_read_routes_but_not_change_them(
    login: Login, support_user: User, route: Route
) -> None:
    client = login(support_user)
    assert client.get("/admin/notifications/route/").status_code == 200
    page = client.get(_url(route))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(_url(route), _data(route, name="hijacked")).status_code == 403
    assert client.post(ADD_URL, _new(route.organization)).status_code == 403
    route.refresh_from_db()
    assert route.name == "everything"


# --- Routes inline on the organization's page ---------------------------------------------------
def _org_data(org: Organization, routes: list[dict[str, Any]], initial: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "customer": org.customer_id,
        "name": org.name,
        "display_name": org.display_name,
        "memo": org.memo,
        "is_active": "on",
        "routes-TOTAL_FORMS": len(routes),
        "routes-INITIAL_FORMS": initial,
        "routes-MIN_NUM_FORMS": 0,
        "routes-MAX_NUM_FORMS": 1000,
    }
    for index, route in enumerate(routes):
        data |= {f"routes-{index}-{key}": value for key, value in route.items()}
    return data


def _inline(**fields: Any) -> dict[str, Any]:
    return {
        "name": "night shift",
        "service": "",
        "minimum_severity": "critical",
        "triggers": ALL_TRIGGERS,
        "contacts": [],
        "template": "",
        "is_active": "on",
    } | fields


def test_organization_page_adds_routes_inline(
    login: Login, sales_user: User, acme_org: Organization, noc: Contact, stranger: Contact
) -> None:
    client, url = login(sales_user), f"/admin/orgs/organization/{acme_org.pk}/change/"
    page = client.get(url).content.decode()
    assert "routes-TOTAL_FORMS" in page
    assert "noc@acme.example" in page
    assert "ops@globex.example" not in page

    refused = client.post(url, _org_data(acme_org, [_inline(contacts=[stranger.pk])], 0))
    assert refused.status_code == 200
    assert not Route.objects.exists()

    response = client.post(url, _org_data(acme_org, [_inline(contacts=[noc.pk])], 0))
    assert response.status_code == 302
    route = Route.objects.get()
    assert (route.organization, route.customer_id) == (acme_org, acme_org.customer_id)
    assert route.minimum_severity == "critical"


def test_organization_add_page_has_no_route_inline(login: Login, sales_user: User) -> None:
    page = login(sales_user).get("/admin/orgs/organization/add/").content.decode()
    assert "routes-TOTAL_FORMS" not in page


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_route_list_costs_the_same_for_many_routes(
    login: Login, sales_user: User, route: Route, ops: Contact
) -> None:
    client = login(sales_user)
    one = _queries(client, "/admin/notifications/route/")
    for index in range(10):
        extra = Route.objects.create(
            organization=route.organization, name=f"r{index}", triggers=["opened"]
        )
        extra.contacts.add(ops)
    assert _queries(client, "/admin/notifications/route/") == one
