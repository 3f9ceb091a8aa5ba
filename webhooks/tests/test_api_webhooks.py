"""The webhook API: subscriptions made by read-write tokens, the delivery log, replay."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from accounts.models import Customer, User
from accounts.tests.api import ApiTenancyTests, api_client
from orgs.models import Organization
from webhooks import planning, services, signing
from webhooks.models import Delivery, EventType, Subscription
from webhooks.tests.conftest import Receiver


def make_subscription(org: Organization, n: int) -> Subscription:
    subscription = Subscription(
        customer_id=org.customer_id,
        url=f"https://93.184.216.34/{org.name}/{n}",
        events=["case.opened"],
    )
    services.set_new_secret(subscription)
    subscription.save()
    return subscription


class TestSubscriptionsApi(ApiTenancyTests):
    path = "/api/v1/webhooks/"
    create_body = {"url": "https://93.184.216.34/hook", "events": ["case.opened"]}

    def make(self, org: Organization, n: int) -> str:
        return str(make_subscription(org, n).code)

    def test_made_with_its_secret_shown_once(
        self, alice: User, acme: Customer, receiver: Receiver
    ) -> None:
        client = api_client(alice, acme, can_write=True)
        body = {"url": receiver.url, "events": ["case.opened", "case.closed"]}
        response = client.post(self.path, body)
        assert response.status_code == 201, response.content
        made = response.json()
        assert made["secret"].startswith("whsec_")
        assert "secret" not in client.get(f"{self.path}{made['id']}/").json()
        subscription = Subscription.objects.get(code=made["id"])
        assert subscription.customer == acme

    def test_a_private_url_is_a_field_error(self, alice: User, acme: Customer) -> None:
        client = api_client(alice, acme, can_write=True)
        body = {"url": "http://169.254.169.254/latest/", "events": ["case.opened"]}
        response = client.post(self.path, body)
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["url"]
        assert not Subscription.objects.exists()

    def test_rotate_test_and_reenable(
        self,
        alice: User,
        acme: Customer,
        acme_org: Organization,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        subscription = make_subscription(acme_org, 1)
        Subscription.objects.filter(pk=subscription.pk).update(
            is_active=False, disabled_reason="410"
        )
        client = api_client(alice, acme, can_write=True)
        path = f"{self.path}{subscription.code}/"
        secret = client.post(f"{path}rotate-secret/").json()["secret"]
        assert secret.startswith("whsec_")
        with django_capture_on_commit_callbacks() as callbacks:
            response = client.post(f"{path}test/")
        assert response.status_code == 202
        assert response.json()["event_type"] == EventType.TEST
        assert len(callbacks) == 1
        assert client.patch(path, {"is_active": True}).json()["disabled_reason"] == ""


class TestDeliveriesApi(ApiTenancyTests):
    path = "/api/v1/webhook-deliveries/"

    def make(self, org: Organization, n: int) -> str:
        subscription = make_subscription(org, n)
        return str(planning.make_test_delivery(subscription).pk)

    def test_replay(self, alice: User, acme: Customer, acme_org: Organization) -> None:
        delivery_id = self.make(acme_org, 1)
        Delivery.objects.filter(pk=delivery_id).update(status="failed", attempts=10)
        client = api_client(alice, acme, can_write=True)
        response = client.post(f"{self.path}{delivery_id}/replay/")
        assert response.status_code == 202
        assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
        reader = api_client(alice, acme)
        assert reader.post(f"{self.path}{delivery_id}/replay/").status_code == 403


def test_verification_example_in_the_docs_works() -> None:
    """The receiver's code in docs/api.md accepts our signatures and refuses forgeries."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    example = docs.split("### Verifying the signature", 1)[1].split("```python\n", 1)[1]
    namespace: dict[str, Any] = {}
    exec(example.split("```", 1)[0], namespace)  # noqa: S102 -- our own documentation
    verify = namespace["verify"]
    old, new = signing.new_secret(), signing.new_secret()
    body = b'{"type":"case.opened"}'
    headers = signing.headers([new, old], "evt_1", int(time.time()), body)
    assert verify(old, headers, body)
    assert verify(new, headers, body)
    assert not verify(signing.new_secret(), headers, body)
    assert not verify(new, headers, body + b" ")
    stale = signing.headers([new], "evt_1", int(time.time()) - 600, body)
    assert not verify(new, stale, body)
