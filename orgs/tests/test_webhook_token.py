from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from orgs.models import Organization


@pytest.mark.django_db
def test_every_organization_gets_a_token_stored_only_as_a_digest(acme_org: Organization) -> None:
    assert len(acme_org.webhook_token_digest) == 64
    assert Organization.objects.by_webhook_token(acme_org.webhook_token_digest) is None


@pytest.mark.django_db
def test_token_finds_its_organization_and_nothing_else(
    acme_org: Organization, globex_org: Organization
) -> None:
    token = acme_org.rotate_webhook_token(grace=timedelta(0))
    assert Organization.objects.by_webhook_token(token) == acme_org
    assert Organization.objects.by_webhook_token(token[:-1]) is None
    assert Organization.objects.by_webhook_token("") is None


@pytest.mark.django_db
def test_rotated_out_token_works_during_the_grace_period_only(acme_org: Organization) -> None:
    old = acme_org.rotate_webhook_token(grace=timedelta(0))
    new = acme_org.rotate_webhook_token(grace=timedelta(hours=1))
    assert Organization.objects.by_webhook_token(new) == acme_org
    assert Organization.objects.by_webhook_token(old) == acme_org
    with time_machine.travel(timedelta(hours=1, seconds=1)):
        assert Organization.objects.by_webhook_token(old) is None
        assert Organization.objects.by_webhook_token(new) == acme_org


@pytest.mark.django_db
def test_rotation_without_grace_revokes_the_old_token_at_once(acme_org: Organization) -> None:
    old = acme_org.rotate_webhook_token(grace=timedelta(0))
    acme_org.rotate_webhook_token(grace=timedelta(0))
    assert Organization.objects.by_webhook_token(old) is None


@pytest.mark.django_db
def test_webhook_url_contains_the_token(acme_org: Organization) -> None:
    token = acme_org.rotate_webhook_token()
    assert acme_org.webhook_url(token).endswith(f"/hooks/mackerel/{token}/")
