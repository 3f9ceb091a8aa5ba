"""From timeline entries to notifications: routing, once per contact, storms and flapping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from alerts.models import CaseEvent, WebhookReceipt
from alerts.tests import payloads
from alerts.tests.payloads import T0
from notifications import planning
from notifications.models import Contact, Notification, Route
from notifications.tests.conftest import ALL_TRIGGERS
from orgs.models import Organization

pytestmark = pytest.mark.django_db
Flow = Callable[..., WebhookReceipt]


def on_host(body: dict[str, Any], index: int) -> dict[str, Any]:
    body["host"] = payloads.host(host_id=f"host{index:07d}", name=f"vm{index:04d}")
    return body


def statuses() -> list[tuple[str, str]]:
    return list(Notification.objects.order_by("id").values_list("contact__email", "status"))


def test_each_event_reaches_the_routes_contacts_once(alert_flow: Flow, route: Route) -> None:
    alert_flow(payloads.alert())
    alert_flow(payloads.closing())
    assert statuses() == [("ops@acme.example", "pending"), ("ops@acme.example", "pending")]
    assert CaseEvent.objects.filter(planned_at=None).count() == 0


def test_a_contact_on_two_routes_gets_one_mail(
    alert_flow: Flow, route: Route, acme_org: Organization, ops: Contact, noc: Contact
) -> None:
    second = Route.objects.create(organization=acme_org, name="web", triggers=ALL_TRIGGERS)
    second.contacts.add(ops, noc)
    alert_flow(payloads.alert())
    assert sorted(statuses()) == [("noc@acme.example", "pending"), ("ops@acme.example", "pending")]


def test_planning_twice_creates_nothing_more(alert_flow: Flow, route: Route) -> None:
    alert_flow(payloads.alert())
    CaseEvent.objects.update(planned_at=None)  # as if its planned mark were lost
    planning.plan_pending()
    assert Notification.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "reached"),
    [
        ({}, True),
        ({"is_active": False}, False),
        ({"triggers": ["closed"]}, False),
        ({"minimum_severity": "critical"}, False),
    ],
)
def test_route_filters(
    alert_flow: Flow, route: Route, change: dict[str, Any], reached: bool
) -> None:
    Route.objects.filter(pk=route.pk).update(**change)
    alert_flow(payloads.alert(status="warning"))
    assert Notification.objects.exists() is reached


def test_route_for_one_service_ignores_the_others(
    alert_flow: Flow, route: Route, acme_org: Organization
) -> None:
    from orgs import mirrors

    route.service = mirrors.service_named(acme_org, "db")
    route.save()
    alert_flow(payloads.alert())  # the host is in service "web"
    assert not Notification.objects.exists()
    route.service = mirrors.service_named(acme_org, "web")
    route.save()
    alert_flow(payloads.alert("otherAlert1"))
    assert Notification.objects.count() == 1


def test_recovery_of_a_critical_case_reaches_a_critical_only_route(
    alert_flow: Flow, route: Route
) -> None:
    Route.objects.filter(pk=route.pk).update(minimum_severity="critical")
    alert_flow(payloads.alert(status="critical"))
    alert_flow(payloads.closing())
    assert Notification.objects.count() == 2


def test_inactive_contacts_and_other_customers_contacts_are_skipped(
    alert_flow: Flow, route: Route, ops: Contact, globex: Any
) -> None:
    outsider = Contact.objects.create(customer=globex, name="x", email="x@globex.example")
    route.contacts.add(outsider)
    Contact.objects.filter(pk=ops.pk).update(is_active=False)
    alert_flow(payloads.alert())
    assert not Notification.objects.exists()


def test_late_timeline_entries_send_nothing(alert_flow: Flow, route: Route) -> None:
    alert_flow(payloads.closing(at=T0 + 300))
    alert_flow(payloads.alert(changed=T0))  # the opening, arriving after the close
    assert Notification.objects.count() == 1


def test_storm_turns_into_a_digest_after_the_threshold(
    alert_flow: Flow, route: Route, settings: Any
) -> None:
    settings.TAIRYO_DIGEST_THRESHOLD = 3
    for index in range(8):
        alert_flow(on_host(payloads.alert(f"storm{index:06d}", opened=T0 + index), index))
    cases = Notification.objects.filter(kind="case").order_by("id")
    assert [n.status for n in cases] == ["pending"] * 3 + ["in_digest"] * 5
    digest = Notification.objects.get(kind="digest")
    assert digest.status == "collecting"
    assert digest.items.count() == 5
    assert digest.send_after is not None
    collecting_for = digest.send_after - digest.created_at
    assert abs(collecting_for - settings.TAIRYO_DIGEST_DELAY) < timedelta(seconds=1)


@pytest.mark.parametrize("events", [10, 60])
def test_a_storm_in_one_planning_pass_digests_right_in_a_few_queries_per_event(
    deliver: Flow, route: Route, noc: Contact, settings: Any, events: int
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    route.contacts.add(noc)
    settings.TAIRYO_DIGEST_THRESHOLD = 5
    for index in range(events):  # all arrive before the planner runs, as in a storm
        deliver(on_host(payloads.alert(f"burst{index:06d}", opened=T0 + index), index))
    with CaptureQueriesContext(connection) as queries:
        planning.plan_pending()
    for contact in (route.contacts.get(email="ops@acme.example"), noc):
        mails = Notification.objects.filter(kind="case", contact=contact).order_by("id")
        assert [n.status for n in mails] == ["pending"] * 5 + ["in_digest"] * (events - 5)
        [digest] = Notification.objects.filter(kind="digest", contact=contact)
        assert digest.items.count() == events - 5
    assert len(queries) <= 2 * events + 20, "per event: the flapping count and its services"


def test_recoveries_of_a_storm_come_in_a_digest_of_their_own(
    alert_flow: Flow, route: Route, settings: Any
) -> None:
    settings.TAIRYO_DIGEST_THRESHOLD = 2
    for index in range(4):
        alert_flow(on_host(payloads.alert(f"storm{index:06d}"), index))
    for index in range(4):
        alert_flow(on_host(payloads.closing(f"storm{index:06d}"), index))
    categories = sorted(
        Notification.objects.filter(kind="digest").values_list("digest_category", flat=True)
    )
    assert categories == ["problems", "recoveries"]
    told = Notification.objects.filter(kind="case").exclude(status__in=["pending", "in_digest"])
    assert not told.exists(), "every case is either mailed or in a digest"


def test_storm_window_passes_and_mails_come_one_by_one_again(
    alert_flow: Flow, route: Route, settings: Any
) -> None:
    settings.TAIRYO_DIGEST_THRESHOLD = 1
    alert_flow(on_host(payloads.alert("first000001"), 1))
    alert_flow(on_host(payloads.alert("second00001"), 2))
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        alert_flow(on_host(payloads.alert("third000001"), 3))
    assert [n.status for n in Notification.objects.filter(kind="case").order_by("id")] == [
        "pending", "in_digest", "pending",
    ]  # fmt: skip


def test_flapping_monitor_is_suppressed_and_listed_later(
    alert_flow: Flow, route: Route, settings: Any
) -> None:
    settings.TAIRYO_FLAP_THRESHOLD = 3
    for index in range(4):
        opened = T0 + index * 120
        alert_flow(payloads.alert(f"flap{index:07d}", opened=opened, changed=opened))
        alert_flow(payloads.closing(f"flap{index:07d}", at=opened + 60))
    kinds = [
        (n.case_event.kind, n.status)
        for n in Notification.objects.filter(kind="case")
        .select_related("case_event")
        .order_by("id")
        if n.case_event
    ]
    assert kinds[:4] == [("opened", "pending"), ("closed", "pending")] * 2
    assert {status for _, status in kinds[4:]} == {"suppressed"}


def test_suppressed_notifications_nobody_listed_go_out_in_a_digest(
    alert_flow: Flow, route: Route, settings: Any
) -> None:
    settings.TAIRYO_FLAP_THRESHOLD = 2
    for index in range(3):
        opened = T0 + index * 120
        alert_flow(payloads.alert(f"flap{index:07d}", opened=opened, changed=opened))
    assert Notification.objects.filter(status="suppressed").count() == 2
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        digests = planning.flush_suppressed()
    assert len(digests) == 1
    assert Notification.objects.get(pk=digests[0]).items.count() == 2
    assert not Notification.objects.filter(status="suppressed").exists()


def test_route_for_any_of_the_hosts_services_hears_of_it(
    alert_flow: Flow, route: Route, acme_org: Organization
) -> None:
    from orgs import mirrors

    route.service = mirrors.service_named(acme_org, "db")
    route.save()
    body = payloads.alert()
    body["host"]["roles"] = [payloads.role("db", "primary"), payloads.role("web", "app")]
    alert_flow(body)
    assert Notification.objects.count() == 1


def test_a_planner_already_running_is_asked_to_look_again_instead_of_queueing(
    deliver: Callable[..., WebhookReceipt], route: Route, redis_client: Any
) -> None:
    from notifications import services
    from portal.coalescing import again_key, running_key

    running, again = running_key(services.PLANNER), again_key(services.PLANNER)
    deliver(payloads.alert())
    redis_client.set(running, "1")  # another worker is planning
    services.plan_coalesced()
    assert not Notification.objects.exists()
    assert redis_client.exists(again), "the running planner will look again"
    redis_client.delete(running)
    services.plan_coalesced()
    assert Notification.objects.count() == 1
    assert not redis_client.exists(running)
    assert not redis_client.exists(again)
