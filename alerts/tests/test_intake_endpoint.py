"""The webhook endpoint: check, store one receipt, answer; bad input is a 4xx with a reason."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks

from alerts.models import Case, WebhookReceipt
from alerts.tests import payloads
from orgs.models import Organization

pytestmark = pytest.mark.django_db


def test_webhook_is_stored_and_processing_enqueued_on_commit(
    post_webhook: Callable[..., Any],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_webhook(payloads.alert())
    assert response.status_code == 200
    receipt = WebhookReceipt.objects.get()
    assert response.json() == {"status": "accepted", "receipt": receipt.pk}
    assert receipt.status == WebhookReceipt.Status.PENDING
    assert receipt.event == "alert"
    assert receipt.headers["Content-Type"] == "application/json"
    assert len(callbacks) == 1
    assert not Case.objects.exists(), "the fast path creates no case; a worker does"


def test_unknown_token_is_404_and_stores_nothing(post_webhook: Callable[..., Any]) -> None:
    response = post_webhook(payloads.alert(), token="no-such-token")
    assert response.status_code == 404
    assert not WebhookReceipt.objects.exists()


def test_rotated_out_token_works_during_grace(
    post_webhook: Callable[..., Any], acme_org: Organization, acme_token: str
) -> None:
    new = acme_org.rotate_webhook_token(grace=timedelta(hours=1))
    assert post_webhook(payloads.alert(), token=acme_token).status_code == 200
    assert post_webhook(payloads.alert(), token=new).status_code == 200


def test_get_is_not_allowed(client: Any, acme_token: str) -> None:
    assert client.get(f"/hooks/mackerel/{acme_token}/").status_code == 405


def test_wrong_content_type_is_415(post_webhook: Callable[..., Any]) -> None:
    response = post_webhook(b"event=alert", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]
    assert not WebhookReceipt.objects.exists()


def test_body_over_the_limit_is_413_and_not_stored(
    post_webhook: Callable[..., Any], settings: Any
) -> None:
    settings.TAIRYO_WEBHOOK_MAX_BYTES = 2048
    body = payloads.alert(message="x" * 4000)
    response = post_webhook(body)
    assert response.status_code == 413
    assert not WebhookReceipt.objects.exists()


def test_invalid_json_is_400_and_kept_as_rejected(post_webhook: Callable[..., Any]) -> None:
    response = post_webhook(b'{"event": "alert", ')
    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]
    receipt = WebhookReceipt.objects.get()
    assert receipt.status == WebhookReceipt.Status.REJECTED
    assert "not JSON" in receipt.reason
    assert not Case.objects.exists()


def test_missing_field_is_400_naming_it(post_webhook: Callable[..., Any]) -> None:
    body = payloads.alert()
    del body["alert"]["id"]
    response = post_webhook(body)
    assert response.status_code == 400
    assert "alert.id" in response.json()["error"]
    assert WebhookReceipt.objects.get().status == WebhookReceipt.Status.REJECTED


def test_other_organizations_name_is_400(post_webhook: Callable[..., Any]) -> None:
    response = post_webhook(payloads.alert(org="globex-prod"))
    assert response.status_code == 400
    assert "globex-prod" in response.json()["error"]
    assert WebhookReceipt.objects.get().status == WebhookReceipt.Status.REJECTED


def test_sample_is_accepted_without_an_organization_name(post_webhook: Callable[..., Any]) -> None:
    response = post_webhook({"event": "sample", "message": "Sample Notification from Mackerel"})
    assert response.status_code == 200


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_auth_is_required_when_configured(
    post_webhook: Callable[..., Any], acme_org: Organization
) -> None:
    acme_org.webhook_username = "mackerel"
    acme_org.set_webhook_password("s3cret-pass")
    acme_org.save()
    assert post_webhook(payloads.alert()).status_code == 401
    wrong = post_webhook(payloads.alert(), HTTP_AUTHORIZATION=_basic("mackerel", "nope"))
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Basic")
    right = post_webhook(payloads.alert(), HTTP_AUTHORIZATION=_basic("mackerel", "s3cret-pass"))
    assert right.status_code == 200
    assert WebhookReceipt.objects.count() == 1


def test_source_networks_restrict_senders(
    post_webhook: Callable[..., Any], acme_org: Organization, settings: Any
) -> None:
    acme_org.webhook_allowed_networks = "203.0.113.0/24\n2001:db8::/32"
    acme_org.save()
    assert post_webhook(payloads.alert(), REMOTE_ADDR="198.51.100.7").status_code == 403
    assert post_webhook(payloads.alert(), REMOTE_ADDR="203.0.113.9").status_code == 200
    settings.TAIRYO_PROXY_HOPS = 1
    behind_proxy = post_webhook(
        payloads.alert(), REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.20"
    )
    assert behind_proxy.status_code == 200
    assert WebhookReceipt.objects.filter(remote_addr="203.0.113.20").exists()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_no_body_makes_the_endpoint_fail(post_webhook: Callable[..., Any], body: bytes) -> None:
    before = WebhookReceipt.objects.count()
    response = post_webhook(body)
    # An empty body reaches the view without a content type (415); anything else is read.
    assert response.status_code in (200, 400, 415)
    stored = WebhookReceipt.objects.count() - before
    if response.status_code == 200:
        assert response.json()["status"] == "accepted"
        assert stored == 1
    else:
        assert response.json()["error"]
        assert stored == (1 if response.status_code == 400 else 0)


def test_token_cache_forgets_a_revoked_token_within_its_lifetime(
    post_webhook: Callable[..., Any], acme_org: Organization, acme_token: str, settings: Any
) -> None:
    import time_machine
    from django.utils import timezone

    from orgs.models import forget_webhook_tokens

    assert post_webhook(payloads.alert(), token=acme_token).status_code == 200
    # Revoked by another process: this process's cache does not hear of it...
    Organization.objects.filter(pk=acme_org.pk).update(webhook_token_digest="revoked")
    assert post_webhook(payloads.alert(), token=acme_token).status_code == 200
    # ...for longer than TAIRYO_WEBHOOK_TOKEN_CACHE_SECONDS.
    later = timezone.now() + timedelta(seconds=settings.TAIRYO_WEBHOOK_TOKEN_CACHE_SECONDS + 1)
    with time_machine.travel(later):
        assert post_webhook(payloads.alert(), token=acme_token).status_code == 404
    forget_webhook_tokens()


@pytest.mark.django_db(transaction=True)
def test_a_webhook_survives_its_database_connection_being_terminated(
    post_webhook: Callable[..., Any],
) -> None:
    from conftest import terminate_database_connection

    assert post_webhook(payloads.alert("before00001")).status_code == 200
    terminate_database_connection()  # the connection the next request reuses
    response = post_webhook(payloads.alert("after000001"))
    assert response.status_code == 200, response.content
    assert WebhookReceipt.objects.filter(body__contains="after000001").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_token_looked_up_on_a_terminated_connection_is_not_a_500(
    post_webhook: Callable[..., Any],
) -> None:
    """The first webhook of an organization in a process looks its token up in the database;
    a connection terminated under that lookup is tried again, as the insert is."""
    from conftest import terminate_database_connection
    from orgs.models import forget_webhook_tokens

    assert post_webhook(payloads.alert("before00001")).status_code == 200
    forget_webhook_tokens()  # this process has not seen the token yet
    terminate_database_connection()
    response = post_webhook(payloads.alert("after000001"))
    assert response.status_code == 200, response.content
    assert WebhookReceipt.objects.filter(body__contains="after000001").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_is_woken_once_the_answer_is_sent(
    acme_org: Organization, acme_token: str, redis_client: Any
) -> None:
    """Mackerel does not wait for the Redis round trip that wakes a worker: the server sends the
    answer, then calls close(), and only then does the wake-up go."""
    from django.test import RequestFactory

    from alerts import services
    from alerts.views import mackerel_webhook

    request = RequestFactory().post(
        f"/hooks/mackerel/{acme_token}/",
        data=payloads.encode(payloads.alert("woken00001")),
        content_type="application/json",
    )
    response = mackerel_webhook(request, acme_token)
    assert response.status_code == 200
    assert WebhookReceipt.objects.filter(body__contains="woken00001").exists(), "committed"
    assert redis_client.llen("intake") == 0, "nothing published while the answer is on its way"
    response.close()  # what the WSGI server does once the answer is written
    assert redis_client.llen("intake") == 1
    assert redis_client.exists(services.WAKE_KEY)


def test_a_webhook_sends_no_health_check_before_its_insert(
    client: Any, post_webhook: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CONN_HEALTH_CHECKS costs every request a "SELECT 1" round trip; the intake, which retries
    a dead connection itself, skips it. Other views keep it."""
    from django.db import connections

    connection = connections["default"]  # the wrapper itself, not the thread-local proxy
    connection.ensure_connection()
    checks: list[str] = []
    is_usable = connection.is_usable

    def counted_is_usable() -> bool:
        checks.append("SELECT 1")
        return is_usable()

    monkeypatch.setattr(connection, "is_usable", counted_is_usable)

    def as_at_the_start_of_a_request() -> None:
        # What close_old_connections does when a request starts on a reused connection (the
        # test client leaves that signal out).
        connection.health_check_done = False  # type: ignore[attr-defined]

    as_at_the_start_of_a_request()
    assert post_webhook(payloads.alert("nocheck0001")).status_code == 200
    assert checks == []
    as_at_the_start_of_a_request()
    assert client.get("/healthz").status_code == 200
    assert checks == ["SELECT 1"], "a view that does not retry keeps Django's check"
