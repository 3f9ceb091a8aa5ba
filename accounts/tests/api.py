"""Shared helpers of the API tests: token clients, and the tenancy checks every endpoint inherits.

An endpoint's test module subclasses ``ApiTenancyTests`` and says how to make one of its objects;
it then gets, for free (style.md §2.6, reliability.md §4.2): anonymous → 401, another customer's
token → 404 on the detail and nothing of theirs in the list, a read-only token → 403 on writes,
a staff token sees every customer, and a list costs the same queries for 1 row as for 20.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import tokens
from accounts.models import Customer, User
from orgs.models import Organization


class ApiClient:
    """A test client that sends ``Authorization: Bearer <token>`` and JSON bodies."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(path, params or {}, headers=self.headers)

    def _send(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        return getattr(self.client, method)(
            path, json.dumps(body or {}), content_type="application/json", headers=self.headers
        )

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._send("post", path, body)

    def patch(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._send("patch", path, body)

    def delete(self, path: str) -> Any:
        return self._send("delete", path, None)


def api_client(user: User, customer: Customer | None, can_write: bool = False) -> ApiClient:
    """A client with a new token made by ``user`` for ``customer`` (None: every customer)."""
    issued = tokens.issue(name="test", customer=customer, can_write=can_write, created_by=user)
    return ApiClient(issued.plain)


class ApiTenancyTests:
    """Tenancy and cost checks inherited by every endpoint's tests."""

    path: ClassVar[str]
    id_field: ClassVar[str] = "id"
    has_detail: ClassVar[bool] = True
    # A body a read-write token could send to create one (None: the endpoint is read-only).
    create_body: ClassVar[dict[str, Any] | None] = None

    def make(self, org: Organization, n: int) -> str:
        """Make object number ``n`` of ``org``; return its public ID."""
        raise NotImplementedError

    def ids(self, response: Any) -> list[str]:
        assert response.status_code == 200, response.content
        return [str(row[self.id_field]) for row in response.json()["results"]]

    def detail(self, object_id: str) -> str:
        return f"{self.path}{object_id}/"

    @pytest.fixture
    def victim(self, globex_org: Organization) -> str:
        return self.make(globex_org, 1)

    @pytest.fixture
    def outsider(self, alice: User, acme: Customer) -> ApiClient:
        return api_client(alice, acme, can_write=True)

    def test_anonymous_gets_401(self, victim: str) -> None:
        anonymous = ApiClient(None)
        response = anonymous.get(self.path)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
        if self.has_detail:
            assert anonymous.get(self.detail(victim)).status_code == 401

    def test_an_unknown_token_gets_401(self, victim: str) -> None:
        response = ApiClient("tairyo_00000000_nothing").get(self.path)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "authentication_failed"

    def test_another_customers_object_is_404(
        self, victim: str, outsider: ApiClient, charlie: User, globex: Customer
    ) -> None:
        owner = api_client(charlie, globex)
        if not self.has_detail:
            # A list-only endpoint (services): a guessed object URL is the API's JSON 404 for
            # its owner and the outsider alike, so it tells the outsider nothing; the list's own
            # isolation is the next test.
            for client in (owner, outsider):
                response = client.get(self.detail(victim))
                assert response.status_code == 404
                assert response.json()["error"]["code"] == "not_found"
            return
        assert owner.get(self.detail(victim)).status_code == 200, "make() must give a real ID"
        response = outsider.get(self.detail(victim))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        if self.create_body is not None:
            assert outsider.patch(self.detail(victim), {"name": "x"}).status_code == 404
            assert outsider.delete(self.detail(victim)).status_code == 404
            assert owner.get(self.detail(victim)).status_code == 200

    def test_another_customers_objects_are_not_listed(
        self, victim: str, outsider: ApiClient, acme_org: Organization
    ) -> None:
        own = self.make(acme_org, 2)
        response = outsider.get(self.path)
        listed = self.ids(response)
        assert own in listed
        assert victim not in listed
        assert "globex" not in response.content.decode().lower()

    def test_read_only_token_cannot_write(
        self, bob: User, acme: Customer, acme_org: Organization
    ) -> None:
        own = self.make(acme_org, 2)
        reader = api_client(bob, acme, can_write=False)
        response = reader.post(self.path, self.create_body or {})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        if self.has_detail:
            assert reader.patch(self.detail(own), {"name": "x"}).status_code == 403
            assert reader.delete(self.detail(own)).status_code == 403

    def test_staff_token_sees_every_customer(
        self, support_user: User, victim: str, acme_org: Organization
    ) -> None:
        own = self.make(acme_org, 2)
        staff = api_client(support_user, None)
        assert {own, victim} <= set(self.ids(staff.get(self.path)))

    def test_list_queries_do_not_grow_with_rows(
        self, outsider: ApiClient, acme_org: Organization
    ) -> None:
        self.make(acme_org, 0)
        outsider.get(self.path)  # warm up: last-used time, content types
        with CaptureQueriesContext(connection) as one:
            assert outsider.get(self.path).status_code == 200
        for n in range(1, 20):
            self.make(acme_org, 100 + n)
        with CaptureQueriesContext(connection) as many:
            response = outsider.get(self.path)
        assert len(self.ids(response)) >= 20
        assert len(many) == len(one), [query["sql"] for query in many.captured_queries]
