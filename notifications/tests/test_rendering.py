"""Templates: the documented plain context, the restricted engine, the Japanese default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from alerts.models import WebhookReceipt
from alerts.tests import payloads
from notifications import composing, defaults, rendering
from notifications.models import Notification, Route

pytestmark = pytest.mark.django_db

PLAIN = (str, int, float, bool, type(None))


def _only_plain_values(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _only_plain_values(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_only_plain_values(item) for item in value)
    return isinstance(value, PLAIN)


def _notification(alert_flow: Callable[..., WebhookReceipt]) -> Notification:
    alert_flow(payloads.alert(value=97.5))
    return Notification.objects.get()


def test_context_holds_only_plain_values_with_every_documented_field(
    alert_flow: Callable[..., WebhookReceipt], route: Route
) -> None:
    values = composing.context(_notification(alert_flow))
    assert _only_plain_values(values)
    assert set(rendering.CASE_FIELDS) <= set(values)
    assert values["case_id"] == "3k73ZJscVcW"
    assert values["host_memo"] == "本番 DB サーバ"
    assert values["host_roles"] == ["web: app"]
    assert values["metric_value"] == 97.5
    assert values["case_url"].endswith("/cases/3k73ZJscVcW/")


def test_times_are_in_the_contacts_time_zone(
    alert_flow: Callable[..., WebhookReceipt], route: Route
) -> None:
    notification = _notification(alert_flow)
    assert (
        composing.context(notification)["opened_at"] == "2026-05-29 05:26:40"
    )  # T0 is 20:26:40 UTC
    notification.contact.time_zone = "UTC"
    assert composing.context(notification)["opened_at"] == "2026-05-28 20:26:40"


def test_japanese_default_has_the_shape_customers_know(
    alert_flow: Callable[..., WebhookReceipt], route: Route
) -> None:
    mail = composing.compose(_notification(alert_flow))
    assert mail.subject == "【障害 CRITICAL】vm0001 CPU %（ケースID: 3k73ZJscVcW）"
    lines = mail.body_text.splitlines()
    assert lines[0] == "マネージドクラウド 障害を検知いたしました。"
    assert "発生日時　　　： 2026-05-29 05:26:40" in lines
    assert "障害対象サーバ： vm0001（本番 DB サーバ）" in lines
    assert "ケースID　　　： 3k73ZJscVcW" in lines
    assert "詳細については下記Webサイトをご確認ください。" in lines
    assert mail.to == ["ops@acme.example"]
    assert mail.from_email == defaults.sender("ja")


@pytest.mark.parametrize(
    "source",
    [
        "{% load static %}{% static 'x' %}",
        "{% debug %}",
        "{% include 'base.html' %}",
        "{% extends 'base.html' %}",
        "{% url 'admin:index' %}",
        "{% csrf_token %}",
    ],
)
def test_engine_offers_nothing_that_reaches_outside_the_context(source: str) -> None:
    with pytest.raises(rendering.TemplateError):
        rendering.render("subject", source, "", {})


def test_attribute_walks_find_nothing_dangerous() -> None:
    with pytest.raises(rendering.TemplateError, match="underscores"):
        rendering.render("{{ case_id.__class__ }}", "", "", {"case_id": "a"})
    mail = rendering.render("s", "{{ case_id.upper }}|{{ nothing.at.all }}", "", {"case_id": "a"})
    assert mail.body_text == "A|"


def test_html_body_is_escaped_and_text_body_is_not() -> None:
    context = {"message": "<b>disk</b> & co"}
    mail = rendering.render("{{ message }}", "{{ message }}", "<p>{{ message }}</p>", context)
    assert mail.body_text == "<b>disk</b> & co"
    assert mail.body_html == "<p>&lt;b&gt;disk&lt;/b&gt; &amp; co</p>"
    assert mail.subject == "<b>disk</b> & co"


def test_subject_is_one_line() -> None:
    assert (
        rendering.render("a\r\nBcc: x@evil.example", "", "", {}).subject == "a Bcc: x@evil.example"
    )


def test_broken_template_never_costs_the_mail(
    alert_flow: Callable[..., WebhookReceipt], route: Route
) -> None:
    from notifications.models import Template

    broken = Template.objects.create(
        name="broken", from_email="x@example.com", subject="s", body_text="{{ x|date:5|add }}"
    )
    route.template = broken
    route.save()
    mail = composing.compose(_notification(alert_flow))
    assert "3k73ZJscVcW" in mail.body_text
    assert mail.subject.startswith("【障害")
