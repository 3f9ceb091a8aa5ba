"""Every customer-facing page with an object in its URL answers 404 for another customer's
object (design.md invariant 3), and a new page cannot be added without joining this sweep."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import User
from alerts.models import Case
from alerts.tests.factories import make_case
from orgs.models import Host, Organization
from orgs.tests.factories import make_host

SECRET = "Globex secret"


@dataclass
class Victim:
    """One object of every kind, all globex's, found by alice's attempts."""

    organization: Organization
    host: Host
    case: Case


# URL name -> the kwargs that name globex's object. A new URL pattern with a kwarg fails
# test_every_pattern_with_an_object_is_covered until it is added here or to NOT_CUSTOMER_FACING.
FACTORIES: dict[str, Callable[[Victim], dict[str, Any]]] = {
    "orgs:organization_detail": lambda v: {"code": v.organization.code},
    "pages:host_detail": lambda v: {"host_id": v.host.mackerel_id},
    "pages:case_detail": lambda v: {"alert_id": v.case.alert_id},
}

# Patterns with a kwarg that no customer session reaches, and why.
NOT_CUSTOMER_FACING = {
    # Mackerel posts here; the organization's secret token is the credential, not a session.
    "alerts:mackerel_webhook",
    # Staff only (is_staff); Django admin sends anyone else to its login page.
    "admin:",
    # The token in the mailed link is the credential; it names no customer object.
    "accounts:password_reset_confirm",
    # The REST API takes API tokens, not sessions; every endpoint inherits the same checks
    # (anonymous 401, another customer's object 404, read-only token 403) from
    # accounts/tests/api.py, and test_every_api_endpoint_is_tested makes sure none is left out.
    "api:",
    # Staff only (is_staff); anyone else logged in gets a 404, anonymous visitors the login
    # (pages/tests/test_staff_summary.py).
    "pages:staff_",
}


def _patterns(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, prefix + str(entry.pattern), inner)
        else:
            yield f"{namespace}{entry.name or ''}", prefix + str(entry.pattern), entry


def _is_customer_facing(name: str) -> bool:
    return not any(name == skip or name.startswith(skip) for skip in NOT_CUSTOMER_FACING if skip)


def patterns_with_objects() -> list[tuple[str, str]]:
    found = []
    for name, route, pattern in _patterns(get_resolver()):
        has_kwargs = bool(pattern.pattern.regex.groupindex)
        if has_kwargs and _is_customer_facing(name) and (name, route) not in found:
            found.append((name, route))
    return found


def pages_without_objects() -> list[str]:
    return sorted(
        name
        for name, _route, pattern in _patterns(get_resolver())
        if not pattern.pattern.regex.groupindex
        and name.split(":")[0] in {"pages", "orgs", "alerts"}
        and _is_customer_facing(name)
    )


def test_every_pattern_with_an_object_is_covered() -> None:
    uncovered = [route for name, route in patterns_with_objects() if name not in FACTORIES]
    assert not uncovered, (
        f"register these in FACTORIES (or, with a reason, in NOT_CUSTOMER_FACING): {uncovered}"
    )
    assert set(FACTORIES) <= {name for name, _ in patterns_with_objects()}, "stale FACTORIES"


@pytest.fixture
def victim(globex_org: Organization, charlie: User) -> Victim:
    host = make_host(globex_org, "gHost1", memo=SECRET)
    case = make_case(globex_org, "gCase1", host=host, message=SECRET)
    return Victim(organization=globex_org, host=host, case=case)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_another_customers_object_is_404(
    name: str,
    login: Callable[[User], Client],
    alice: User,
    charlie: User,
    acme_org: Organization,
    victim: Victim,
) -> None:
    url = reverse(name, kwargs=FACTORIES[name](victim))
    assert login(charlie).get(url).status_code == 200, "the factory must name a real object"
    as_alice = login(alice)
    for response in (as_alice.get(url), as_alice.post(url), as_alice.head(url)):
        assert response.status_code == 404, f"{url} answered {response.status_code}"
        assert SECRET.encode() not in response.content
    assert Case.objects.get(pk=victim.case.pk).message == SECRET


@pytest.mark.django_db
@pytest.mark.parametrize("name", pages_without_objects())
def test_lists_never_show_another_customers_objects(
    name: str,
    login: Callable[[User], Client],
    alice: User,
    acme_org: Organization,
    victim: Victim,
) -> None:
    response = login(alice).get(reverse(name), {"q": "", "state": "all", "retired": "all"})
    assert response.status_code in (200, 405)
    for marker in (SECRET, "globex-prod", "gHost1", "gCase1", str(victim.organization.code)):
        assert marker not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(FACTORIES) + pages_without_objects())
def test_anonymous_visitors_are_sent_to_log_in(name: str, client: Client, victim: Victim) -> None:
    kwargs = FACTORIES[name](victim) if name in FACTORIES else {}
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
