from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.models import Customer, Membership, User
from demo.management.commands.seed_demo import DEMO_PASSWORD, demo_webhook_token
from notifications.models import Contact
from orgs.models import Organization


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> tuple[int, ...]:
    return (
        Customer.objects.count(),
        Organization.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        Contact.objects.count(),
    )


@pytest.mark.django_db
def test_seed_demo_creates_the_demo_world_and_prints_logins() -> None:
    output = _seed()
    assert _counts()[:2] == (3, 5)
    assert "alice@sakura.example" in output
    assert DEMO_PASSWORD in output
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == {"admin", "viewer"}
    assert User.objects.filter(is_staff=True, groups__name="sales").exists()
    assert User.objects.filter(is_staff=True, groups__name="support").exists()
    assert User.objects.filter(is_superuser=True).exists()
    assert Contact.objects.count() >= 3


@pytest.mark.django_db
def test_seed_demo_is_idempotent() -> None:
    _seed()
    first = _counts()
    _seed()
    assert _counts() == first


@pytest.mark.django_db
def test_demo_customer_logs_in_and_sees_only_their_organizations(client: Client) -> None:
    _seed()
    # django-axes needs the request to count attempts; the test client's login has none.
    assert client.login(
        request=HttpRequest(), username="charlie@globex.example", password=DEMO_PASSWORD
    )
    page = client.get("/").content.decode()
    assert "globex-prod" in page
    assert "globex-dev" in page
    assert "sakura-prod" not in page
    assert "initech-stg" not in page


@pytest.mark.django_db
def test_demo_webhook_tokens_are_known_to_the_demo(client: Client) -> None:
    _seed()
    org = Organization.objects.by_webhook_token(demo_webhook_token("sakura-prod"))
    assert org is not None
    assert org.name == "sakura-prod"


@pytest.mark.django_db
def test_seed_demo_refuses_production_mode(settings: Settings) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", stdout=StringIO())
    assert Customer.objects.count() == 0
