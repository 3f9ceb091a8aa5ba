"""The case API: a ticketing system follows each case from open to close by polling."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import time_machine
from django.utils import timezone

from accounts.models import Customer, User
from accounts.tests.api import ApiTenancyTests, api_client
from alerts.models import Case, WebhookReceipt
from alerts.tests import payloads
from alerts.tests.factories import make_case
from notifications.models import Contact, Route
from orgs.models import Organization, Service
from orgs.tests.factories import make_host

Flow = Callable[..., WebhookReceipt]


class TestCasesApi(ApiTenancyTests):
    path = "/api/v1/cases/"

    def make(self, org: Organization, n: int) -> str:
        return make_case(org, f"{org.name[:1]}C{n:04d}").alert_id

    def test_detail_has_timeline_and_mails(
        self, alert_flow: Flow, route: Route, ops: Contact, alice: User, acme: Customer
    ) -> None:
        alert_flow(payloads.alert("3k73ZJscVcW"))
        alert_flow(payloads.closing("3k73ZJscVcW"))
        case = api_client(alice, acme).get(f"{self.path}3k73ZJscVcW/").json()
        assert case["id"] == "3k73ZJscVcW"
        assert case["status"] == "closed"
        assert case["host"] == "4Xk2mQ9sTrB"
        assert [entry["kind"] for entry in case["timeline"]] == ["opened", "closed"]
        assert len(case["notifications"]) == 2
        assert {mail["contact"]["email"] for mail in case["notifications"]} == {ops.email}
        assert case["portal_url"].endswith("/cases/3k73ZJscVcW/")

    def test_detail_costs_the_same_however_long_the_timeline(
        self, alert_flow: Flow, route: Route, alice: User, acme: Customer
    ) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client = api_client(alice, acme)
        alert_flow(payloads.alert("A1"))
        client.get(f"{self.path}A1/")
        with CaptureQueriesContext(connection) as short:
            client.get(f"{self.path}A1/")
        for step in range(1, 6):
            status = "warning" if step % 2 else "critical"
            alert_flow(payloads.alert("A1", status=status, changed=payloads.T0 + 60 * step))
        with CaptureQueriesContext(connection) as long:
            case = client.get(f"{self.path}A1/").json()
        assert len(case["timeline"]) == 6
        assert len(long) == len(short)

    def test_filters(self, alice: User, acme: Customer, acme_org: Organization) -> None:
        web = Service.objects.create(customer=acme, organization=acme_org, name="web")
        host = make_host(acme_org, "H1")
        make_case(acme_org, "open-crit", severity=Case.Severity.CRITICAL, host=host)
        make_case(acme_org, "open-warn", severity=Case.Severity.WARNING, service=web)
        make_case(acme_org, "closed", is_open=False, severity=Case.Severity.OK)
        client = api_client(alice, acme)

        def listed(**params: str) -> list[str]:
            response = client.get(self.path, params)
            assert response.status_code == 200, response.content
            return sorted(row["id"] for row in response.json()["results"])

        assert listed(status="open") == ["open-crit", "open-warn"]
        assert listed(open="false") == ["closed"]
        assert listed(severity="warning") == ["open-warn"]
        assert listed(service="web") == ["open-warn"]
        assert listed(host="H1") == ["open-crit"]
        assert listed(organization="acme-prod") == ["closed", "open-crit", "open-warn"]
        assert listed(organization="globex-prod") == []
        bad = client.get(self.path, {"updated_since": "yesterday", "severity": "dire"})
        assert bad.status_code == 400
        assert set(bad.json()["error"]["fields"]) == {"updated_since", "severity"}

    def test_polling_with_updated_since_misses_no_change(
        self, deliver: Flow, alice: User, acme: Customer
    ) -> None:
        client = api_client(alice, acme)
        deliver(payloads.alert("P1"))
        deliver(payloads.alert("P2"))
        first = client.get(self.path).json()["results"]
        seen_until = max(row["updated_at"] for row in first)
        with time_machine.travel(timezone.now() + timedelta(minutes=5)):
            deliver(payloads.closing("P1"))
        changed = client.get(self.path, {"updated_since": seen_until}).json()["results"]
        assert [(row["id"], row["status"]) for row in changed if row["id"] == "P1"] == [
            ("P1", "closed")
        ]

    def test_cursor_pages_through_every_case_once(
        self, alice: User, acme: Customer, acme_org: Organization
    ) -> None:
        from alerts.tests.factories import make_cases

        make_cases(acme_org, 25)
        client = api_client(alice, acme)
        seen: list[str] = []
        url: str | None = self.path + "?page_size=10"
        while url:
            page = client.get(url).json()
            seen += [row["id"] for row in page["results"]]
            url = page["next"]
        assert len(seen) == len(set(seen)) == 25

    def test_a_bad_cursor_is_a_clean_404(self, alice: User, acme: Customer) -> None:
        response = api_client(alice, acme).get(self.path, {"cursor": "nonsense"})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
