"""The contacts API: customer admins' read-write tokens edit their own contacts."""

from __future__ import annotations

from accounts.models import Customer, User
from accounts.tests.api import ApiTenancyTests, api_client
from alerts.tests.factories import make_case
from notifications.models import Contact, Notification
from orgs.models import Organization


class TestContactsApi(ApiTenancyTests):
    path = "/api/v1/contacts/"
    create_body = {"name": "New", "email": "new@example.com"}

    def make(self, org: Organization, n: int) -> str:
        contact = Contact.objects.create(
            customer_id=org.customer_id, name=f"c{n}", email=f"c{n}@{org.name}.example"
        )
        return str(contact.code)

    def test_admin_token_creates_updates_and_deletes(self, alice: User, acme: Customer) -> None:
        client = api_client(alice, acme, can_write=True)
        created = client.post(self.path, {"name": "NOC", "email": "noc@acme.example"})
        assert created.status_code == 201, created.content
        contact = Contact.objects.get(code=created.json()["id"])
        assert contact.customer == acme
        path = f"{self.path}{contact.code}/"
        updated = client.patch(path, {"language": "en", "is_active": False})
        assert updated.status_code == 200
        contact.refresh_from_db()
        assert (contact.language, contact.is_active) == ("en", False)
        assert client.delete(path).status_code == 204
        assert not Contact.objects.filter(pk=contact.pk).exists()

    def test_the_customer_cannot_be_chosen(
        self, alice: User, acme: Customer, globex: Customer
    ) -> None:
        client = api_client(alice, acme, can_write=True)
        body = {"name": "x", "email": "x@example.com", "customer": globex.pk}
        assert client.post(self.path, body).status_code == 201
        assert Contact.objects.get(email="x@example.com").customer == acme

    def test_duplicate_address_is_a_field_error(
        self, alice: User, acme: Customer, acme_org: Organization
    ) -> None:
        self.make(acme_org, 1)
        client = api_client(alice, acme, can_write=True)
        response = client.post(self.path, {"name": "again", "email": "c1@acme-prod.example"})
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["email"]

    def test_an_address_used_by_another_customer_is_free(
        self, alice: User, acme: Customer, globex_org: Organization
    ) -> None:
        self.make(globex_org, 1)
        client = api_client(alice, acme, can_write=True)
        body = {"name": "same", "email": "c1@globex-prod.example"}
        assert client.post(self.path, body).status_code == 201

    def test_a_contact_with_mail_is_kept(
        self, alice: User, acme: Customer, acme_org: Organization
    ) -> None:
        code = self.make(acme_org, 1)
        contact = Contact.objects.get(code=code)
        Notification.objects.create(
            customer=acme, organization=acme_org, case=make_case(acme_org), contact=contact
        )
        response = api_client(alice, acme, can_write=True).delete(f"{self.path}{code}/")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "conflict"
        assert Contact.objects.filter(pk=contact.pk).exists()

    def test_staff_token_cannot_create(self, superuser: User) -> None:
        client = api_client(superuser, None, can_write=True)
        response = client.post(self.path, {"name": "x", "email": "x@example.com"})
        assert response.status_code == 403
