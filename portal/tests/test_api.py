"""The REST API as a whole: its schema, its docs page, and a fuzzer run against the schema."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, given, settings

from accounts import tokens
from accounts.models import Customer, User
from accounts.tests.api import ApiTenancyTests
from alerts.tests.factories import make_case
from notifications.models import Contact
from orgs.models import Organization
from orgs.tests.factories import make_host
from portal.api_urls import router

ROOT = Path(__file__).resolve().parents[2]
# A 400 for schema-valid input is right where the schema cannot say why: a contact's address
# already taken, a NUL character in a filter. Every other check runs, the 500 and schema ones first.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]
# Generated requests per operation: enough to find a 500 in a filter, quick enough to run always.
EXAMPLES = 30


def _tested_paths() -> set[str]:
    for module in ROOT.glob("*/tests/test_api_*.py"):
        importlib.import_module(".".join(module.relative_to(ROOT).with_suffix("").parts))

    def subclasses(cls: type[Any]) -> list[type[Any]]:
        return [sub for child in cls.__subclasses__() for sub in [child, *subclasses(child)]]

    return {cls.path for cls in subclasses(ApiTenancyTests)}


def test_every_api_endpoint_is_tested() -> None:
    endpoints = {f"/api/v1/{prefix}/" for prefix, _viewset, _basename in router.registry}
    missing = endpoints - _tested_paths()
    assert not missing, f"subclass accounts.tests.api.ApiTenancyTests for: {sorted(missing)}"


@pytest.mark.django_db
def test_schema_and_docs_are_served_without_a_cdn(client: Client) -> None:
    schema = client.get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 200
    assert "/api/v1/cases/{id}/" in schema.json()["paths"]
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.content.decode()
    for external in ("cdn.jsdelivr", "unpkg.com", "cdnjs"):
        assert external not in docs.content.decode()


@pytest.fixture
def api_schema(db: None) -> Iterator[Any]:
    """The schema, loaded from the WSGI application that the fuzzer then calls in-process."""
    from django.core import signals
    from django.db import close_old_connections

    from portal.wsgi import application

    # As Django's test client does: a request must not close the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated webhook URLs are never looked up: every name is unknown (refused, a 400)."""
    import socket

    def unknown(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror("not looked up in tests")

    monkeypatch.setattr("webhooks.ssrf.socket.getaddrinfo", unknown)


@pytest.fixture
def token(alice: User, acme: Customer, acme_org: Organization, globex_org: Organization) -> str:
    """A read-write token of acme's, in a world with one object of each kind on both sides."""
    for org in (acme_org, globex_org):
        host = make_host(org, f"{org.name[:1]}H1")
        make_case(org, f"{org.name[:1]}C1", host=host)
        Contact.objects.create(customer=org.customer, name="ops", email=f"ops@{org.name}.test")
    return tokens.issue(name="fuzz", customer=acme, can_write=True, created_by=alice).plain


@pytest.mark.slow
def test_api_conforms_to_its_schema(api_schema: Any, token: str) -> None:
    """Generated requests to every operation: no 500, every answer as the schema says.

    Driven by hand rather than by schemathesis' pytest plugin, which does not run on pytest 9.
    """
    headers = {"Authorization": f"Bearer {token}"}
    failures: dict[str, str] = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)

        try:
            check()
        except BaseExceptionGroup as failure:  # collected, to report every operation at once
            failures[operation.label] = str(failure)[:2000]
    assert not failures, "\n\n".join(f"{label}: {text}" for label, text in failures.items())
