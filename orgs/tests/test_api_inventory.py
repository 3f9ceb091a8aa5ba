"""The inventory API: organizations, services and hosts."""

from __future__ import annotations

from accounts.models import Customer, User
from accounts.tests.api import ApiTenancyTests, api_client
from orgs.models import Host, Organization, Service
from orgs.tests.factories import make_host, make_role


class TestOrganizationsApi(ApiTenancyTests):
    path = "/api/v1/organizations/"

    def make(self, org: Organization, n: int) -> str:
        made = Organization.objects.create(customer=org.customer, name=f"{org.name}-{n}")
        return str(made.code)

    def test_secrets_are_not_in_the_answer(
        self, alice: User, acme: Customer, acme_org: Organization
    ) -> None:
        row = api_client(alice, acme).get(self.path).json()["results"][0]
        assert set(row) == {"id", "name", "display_name", "is_active", "last_sync_success_at"}


class TestServicesApi(ApiTenancyTests):
    path = "/api/v1/services/"
    id_field = "name"
    has_detail = False

    def make(self, org: Organization, n: int) -> str:
        name = f"{org.customer.name.lower()}-svc-{n}"
        Service.objects.create(customer_id=org.customer_id, organization=org, name=name)
        return name


class TestHostsApi(ApiTenancyTests):
    path = "/api/v1/hosts/"

    def make(self, org: Organization, n: int) -> str:
        role = make_role(org, "web", "app")
        return make_host(org, f"{org.name[:1]}H{n:04d}", roles=[role]).mackerel_id

    def test_host_shows_roles_and_addresses(
        self, alice: User, acme: Customer, acme_org: Organization
    ) -> None:
        make_host(
            acme_org,
            "4Xk2mQ9sTrB",
            roles=[make_role(acme_org, "web", "app")],
            ip_addresses="10.0.0.1 10.0.0.2",
            memo="rack 3",
        )
        host = api_client(alice, acme).get(f"{self.path}4Xk2mQ9sTrB/").json()
        assert host["roles"] == ["web: app"]
        assert host["ip_addresses"] == ["10.0.0.1", "10.0.0.2"]
        assert host["memo"] == "rack 3"
        assert host["organization"] == "acme-prod"

    def test_filters(self, alice: User, acme: Customer, acme_org: Organization) -> None:
        make_host(acme_org, "web1", roles=[make_role(acme_org, "web", "app")])
        make_host(acme_org, "db1", roles=[make_role(acme_org, "db", "primary")])
        make_host(acme_org, "old1", is_retired=True, status=Host.Status.POWEROFF)
        client = api_client(alice, acme)

        def listed(**params: str) -> list[str]:
            return sorted(row["id"] for row in client.get(self.path, params).json()["results"])

        assert listed(service="db") == ["db1"]
        assert listed(retired="true") == ["old1"]
        assert listed(retired="false") == ["db1", "web1"]
        assert listed(status="poweroff") == ["old1"]
        assert listed(organization="globex-prod") == []
        response = client.get(self.path, {"status": "exploded"})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid"
        assert "status" in response.json()["error"]["fields"]


def test_unknown_paths_answer_in_the_error_shape(alice: User, acme: Customer) -> None:
    client = api_client(alice, acme)
    for path in ("/api/v1/nothing/", "/api/v1/hosts/a/b/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_a_host_id_with_a_dot_is_routed(
    alice: User, acme: Customer, acme_org: Organization
) -> None:
    make_host(acme_org, "h.1")
    assert api_client(alice, acme).get("/api/v1/hosts/h.1/").json()["id"] == "h.1"
