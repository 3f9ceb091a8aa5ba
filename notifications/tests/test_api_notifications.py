"""The mail ledger API (read-only)."""

from __future__ import annotations

from accounts.models import Customer, User
from accounts.tests.api import ApiTenancyTests, api_client
from alerts.tests.factories import make_case
from notifications.models import Contact, Notification
from orgs.models import Organization


class TestNotificationsApi(ApiTenancyTests):
    path = "/api/v1/notifications/"

    def make(self, org: Organization, n: int) -> str:
        contact, _ = Contact.objects.get_or_create(
            customer_id=org.customer_id, email=f"ops@{org.name}.example", defaults={"name": "ops"}
        )
        case = make_case(org, f"{org.name[:1]}N{n:04d}")
        mail = Notification.objects.create(
            customer_id=org.customer_id,
            organization=org,
            case=case,
            contact=contact,
            subject=f"case {case.alert_id}",
        )
        return str(mail.pk)

    def test_filter_by_case(self, alice: User, acme: Customer, acme_org: Organization) -> None:
        self.make(acme_org, 1)
        self.make(acme_org, 2)
        client = api_client(alice, acme)
        rows = client.get(self.path, {"case": "aN0002"}).json()["results"]
        assert [row["case"] for row in rows] == ["aN0002"]
        assert rows[0]["contact"]["email"] == "ops@acme-prod.example"

    def test_ledger_cannot_be_written(
        self, alice: User, acme: Customer, acme_org: Organization
    ) -> None:
        mail = self.make(acme_org, 1)
        writer = api_client(alice, acme, can_write=True)
        assert writer.post(self.path, {}).status_code == 405
        assert writer.delete(f"{self.path}{mail}/").status_code == 405
        assert writer.delete(f"{self.path}{mail}/").json()["error"]["code"] == "method_not_allowed"
