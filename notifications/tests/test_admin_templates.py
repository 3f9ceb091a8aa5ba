"""Sales edit mail templates in the admin: checked against samples, previewed, test-mailed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.test import Client

from accounts.models import User
from alerts.models import WebhookReceipt
from alerts.tests import payloads
from notifications import previews, rendering
from notifications.forms import TemplateAdminForm, clean_addresses
from notifications.models import Route, Template
from orgs.models import Organization

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]
ADD_URL = "/admin/notifications/template/add/"
LIST_URL = "/admin/notifications/template/"

DIGEST_FIELDS = (
    "cases", "count", "category", "organization", "organization_name", "customer",
    "window_start", "window_end", "time_zone", "contact_name", "suppressed",
)  # fmt: skip


def _data(**changes: str) -> dict[str, str]:
    data = {
        "name": "Acme case mail",
        "kind": "case",
        "language": "ja",
        "from_email": "監視センター <noc@tairyo.example>",
        "reply_to": "",
        "to_override": "",
        "cc": "",
        "subject": "【{{ severity }}】{{ host_display_name }}（ケースID: {{ case_id }}）",
        "body_text": "{{ contact_name }} 様\n{{ host_name }}: {{ message }}\n{{ case_url }}\n",
        "body_html": "",
    }
    return data | changes


def _url(template: Template) -> str:
    return f"/admin/notifications/template/{template.pk}/change/"


def _default(kind: str = "case", language: str = "ja") -> Template:
    return Template.objects.get(kind=kind, language=language, is_default=True)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_case_samples_fill_every_documented_field(language: str) -> None:
    samples = previews.case_samples(language)
    for sample in samples:
        assert set(sample.context) == set(rendering.CASE_FIELDS)
    for name in rendering.CASE_FIELDS:
        assert any(sample.context[name] not in ("", [], None) for sample in samples), name


@pytest.mark.parametrize("language", ["ja", "en"])
def test_digest_samples_fill_every_documented_field(language: str) -> None:
    samples = previews.digest_samples(language)
    for sample in samples:
        assert set(sample.context) == set(DIGEST_FIELDS)
        assert sample.context["count"] == len(sample.context["cases"]) == 3
    assert {s.context["category"] for s in samples} == {"problems", "recoveries"}
    assert any(sample.context["suppressed"] for sample in samples)


def test_built_in_templates_pass_their_own_check() -> None:
    for template in Template.objects.all():
        form = TemplateAdminForm(data=model_to_dict(template), instance=template)
        assert form.is_valid(), (template.name, form.errors)


@pytest.mark.parametrize(
    ("field", "source", "error"),
    [
        ("subject", "{% if severity %}unclosed", "Unclosed tag"),
        ("body_text", "{{ host_name|nosuchfilter }}", "Invalid filter: 'nosuchfilter'"),
        (
            "body_html",
            "{% load static %}<p>{{ host_name }}</p>",
            "Invalid block tag on line 1: 'load'",
        ),
        # Fails only while rendering: each role is a string, not a pair.
        ("body_text", "{% for service, role in host_roles %}{{ role }}{% endfor %}", "unpack"),
    ],
)
def test_template_that_does_not_render_is_refused_with_the_error_on_its_field(
    login: Login, sales_user: User, field: str, source: str, error: str
) -> None:
    response = login(sales_user).post(ADD_URL, _data(**{field: source}))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert error in errors[field][0]
    assert error.replace("'", "&#x27;") in response.content.decode()
    assert not Template.objects.filter(name="Acme case mail").exists()


def test_error_names_the_sample_it_showed_in(login: Login, sales_user: User) -> None:
    # Only the "worsened" sample lists left-out flapping mails, so only it reaches the loop.
    body = "{% for item in suppressed %}{% for a, b in item.host_roles %}{% endfor %}{% endfor %}"
    response = login(sales_user).post(ADD_URL, _data(body_text=body))
    [message] = response.context["adminform"].form.errors["body_text"]
    assert str(previews.case_samples("ja")[1].label) in message


def test_subject_that_renders_empty_is_refused(login: Login, sales_user: User) -> None:
    response = login(sales_user).post(ADD_URL, _data(subject="{{ no_such_field }}"))
    assert "subject" in response.context["adminform"].form.errors


def test_valid_template_is_saved(login: Login, sales_user: User) -> None:
    data = _data(
        cc="監視 <watch@acme.example>, audit@acme.example", body_html="<p>{{ message }}</p>"
    )
    response = login(sales_user).post(ADD_URL, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    template = Template.objects.get(name="Acme case mail")
    assert template.cc == "監視 <watch@acme.example>, audit@acme.example"


@pytest.mark.parametrize(
    "value",
    ["ops@example.com", "運用チーム <ops@example.com>", " a@example.com , b@example.com ", ""],
)
def test_well_formed_addresses_pass(value: str) -> None:
    clean_addresses(value)


@pytest.mark.parametrize(
    "value",
    [
        "not an address",
        "a@example.com>",
        "a@example.com b@example.com",
        "Doe, John <j@example.com>",  # composing splits on commas
        "Ops\nBcc: x <ops@example.com>",
    ],
)
def test_malformed_addresses_are_refused(value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        clean_addresses(value)
    assert refused.value.code == "invalid"


def test_every_address_field_is_checked_and_from_is_one_address(
    login: Login, sales_user: User
) -> None:
    data = _data(
        from_email="a@example.com, b@example.com",
        reply_to="reply@",
        to_override="ok@example.com, broken",
        cc="<cc@example.com",
    )
    response = login(sales_user).post(ADD_URL, data)
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"from_email", "reply_to", "to_override", "cc"}
    assert not Template.objects.filter(name="Acme case mail").exists()


def test_template_used_by_a_route_cannot_become_a_digest(
    login: Login, sales_user: User, route: Route
) -> None:
    template = Template.objects.create(**_data())
    route.template = template
    route.save()
    response = login(sales_user).post(_url(template), _data(kind="digest"))
    assert list(response.context["adminform"].form.errors) == ["kind"]


def test_default_template_cannot_have_fixed_recipients(login: Login, sales_user: User) -> None:
    # A default template serves every customer: a Cc there would copy them all to one inbox.
    template = _default()
    data = model_to_dict(template) | {"cc": "audit@acme.example", "to_override": "a@acme.example"}
    response = login(sales_user).post(_url(template), data)
    assert set(response.context["adminform"].form.errors) == {"cc", "to_override"}
    template.refresh_from_db()
    assert template.cc == ""


def test_template_shared_by_customers_cannot_have_fixed_recipients(
    login: Login, sales_user: User, route: Route, globex_org: Organization
) -> None:
    template = Template.objects.create(**_data())
    route.template = template
    route.save()
    Route.objects.create(organization=globex_org, name="globex", template=template)
    response = login(sales_user).post(_url(template), _data(cc="audit@acme.example"))
    assert list(response.context["adminform"].form.errors) == ["cc"]


def test_change_page_previews_the_sample_case(login: Login, sales_user: User) -> None:
    page = login(sales_user).get(_url(_default())).content.decode()
    assert "【障害 CRITICAL】東京 Web 01 CPU 使用率（ケースID: 3k73ZJscVcW）" in page
    assert "発生日時　　　： 2026-05-29 05:26:40" in page
    assert "【復旧】東京 Web 01" in page, "the recovered sample too"
    assert "この間、頻繁に発生と復旧を繰り返したため" in page, "and left-out flapping mails"


def test_digest_page_previews_a_sample_storm(login: Login, sales_user: User) -> None:
    page = login(sales_user).get(_url(_default("digest", "en"))).content.decode()
    assert "[3 problems] Sample production 2026-05-29 05:26:40 - 2026-05-29 05:27:31" in page
    assert "[3 recovered]" in page


def test_html_body_is_previewed_as_escaped_source(login: Login, sales_user: User) -> None:
    template = Template.objects.create(**_data(body_html="<p>{{ host_memo }}</p>"))
    page = login(sales_user).get(_url(template)).content.decode()
    assert "&lt;p&gt;本番 Web サーバ（決済 API）&lt;/p&gt;" in page
    assert "<p>本番 Web サーバ" not in page


def test_preview_with_a_real_case(
    login: Login, sales_user: User, alert_flow: Callable[..., WebhookReceipt], route: Route
) -> None:
    alert_flow(payloads.alert())
    client = login(sales_user)
    page = client.get(_url(_default()))
    assert "?preview_case=3k73ZJscVcW" in page.content.decode(), "recent cases are offered"
    page = client.get(_url(_default()) + "?preview_case=3k73ZJscVcW")
    first = page.context["previews"][0]
    assert first.mail.subject == "【障害 CRITICAL】vm0001 CPU %（ケースID: 3k73ZJscVcW）"
    assert "障害対象サーバ： vm0001（本番 DB サーバ）" in page.content.decode()


def test_preview_escapes_what_a_case_brings(
    login: Login, sales_user: User, alert_flow: Callable[..., WebhookReceipt], route: Route
) -> None:
    # Host memos and messages come from the customer's Mackerel: staff pages must not run them.
    body = payloads.alert()
    body["message"] = "<script>alert('message')</script>"
    body["host"]["memo"] = "<img src=x onerror=alert(1)>"
    alert_flow(body)
    template = Template.objects.create(**_data(body_html="<p>{{ host_memo|safe }}</p>"))
    template.body_text += "{{ host_memo }}"
    template.save()
    page = login(sales_user).get(_url(template) + "?preview_case=3k73ZJscVcW").content.decode()
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert" in page


def test_preview_of_an_unknown_case_says_so(login: Login, sales_user: User) -> None:
    page = login(sales_user).get(_url(_default()) + "?preview_case=nosuchcase")
    assert page.status_code == 200
    assert page.context["preview_case_missing"] is True
    assert len(page.context["previews"]) == len(previews.case_samples("ja"))


def test_broken_saved_template_previews_its_error(login: Login, sales_user: User) -> None:
    # Saved before validation existed (or by a migration): the page shows why, not a 500.
    template = Template.objects.create(
        **_data(body_text="{% for a, b in host_roles %}{% endfor %}")
    )
    page = login(sales_user).get(_url(template))
    assert page.status_code == 200
    assert "unpack" in page.context["previews"][0].error


def _send_test_mail(client: Client, *templates: Template) -> Any:
    return client.post(
        LIST_URL,
        {"action": "send_test_mail", "_selected_action": [t.pk for t in templates]},
    )


def test_send_test_mail_reaches_the_staff_member_only(
    login: Login, sales_user: User, mail_provider: Any
) -> None:
    template = Template.objects.create(
        **_data(
            to_override="customer@acme.example",
            cc="boss@acme.example",
            reply_to="desk@tairyo.example",
            body_html="<p>{{ host_memo }}</p>",
        )
    )
    response = _send_test_mail(login(sales_user), template)
    assert response.status_code == 302
    [message] = mail_provider.messages
    assert message.to == ["sales@tairyo.example"]
    assert message.cc == []
    assert message.reply_to == ["desk@tairyo.example"]
    assert message.from_email == "監視センター <noc@tairyo.example>"
    assert message.subject == "[TEST] 【CRITICAL】東京 Web 01（ケースID: 3k73ZJscVcW）"
    assert "運用 太郎 様" in message.text
    assert message.html == "<p>本番 Web サーバ（決済 API）</p>"
    [notice] = get_messages(response.wsgi_request)
    assert notice.level_tag == "success"
    assert message.message_id in str(notice)


def test_send_test_mail_reports_the_providers_refusal(
    login: Login, sales_user: User, mail_provider: Any
) -> None:
    mail_provider.fail_next(1, status=400)
    response = _send_test_mail(login(sales_user), _default())
    [notice] = get_messages(response.wsgi_request)
    assert notice.level_tag == "error"
    assert "400" in str(notice)
    assert mail_provider.messages == []


def test_support_can_read_templates_but_not_change_or_test_them(
    login: Login, support_user: User, mail_provider: Any
) -> None:
    client, template = login(support_user), _default()
    assert client.get(LIST_URL).status_code == 200
    page = client.get(_url(template))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert (
        client.post(_url(template), model_to_dict(template) | {"subject": "x"}).status_code == 403
    )
    assert client.post(ADD_URL, _data()).status_code == 403
    _send_test_mail(client, template)
    assert mail_provider.messages == []
    template.refresh_from_db()
    assert template.subject != "x"


def test_customer_users_do_not_reach_the_admin(login: Login, alice: User) -> None:
    response = login(alice).get(ADD_URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
