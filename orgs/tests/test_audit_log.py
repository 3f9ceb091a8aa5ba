"""Changes to an organization, its API key and its webhook token are in the audit log, with who
made them, and never the key, the token, or their ciphertext or digest."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from auditlog.models import LogEntry
from cryptography.fernet import Fernet
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.models import User
from audit.records import MASK
from orgs.models import Organization, _token_digest

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]
API_KEY = "mkr-ApiKey-7Hq2xZpL9sW4bRt8vNc3"
ROUTES_INLINE = {"routes-TOTAL_FORMS": "0", "routes-INITIAL_FORMS": "0"}


def _log_dump() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(e)::text FROM auditlog_logentry e")
        return "\n".join(row[0] for row in cursor.fetchall())


def _last(org: Organization) -> LogEntry:
    entry: LogEntry = LogEntry.objects.get_for_object(org).order_by("-timestamp", "-pk").first()
    return entry


def _post_org(client: Client, org: Organization, **fields: str) -> Any:
    data = {
        "customer": org.customer_id,
        "name": org.name,
        "display_name": org.display_name,
        "memo": org.memo,
        "is_active": "on",
        **ROUTES_INLINE,
    }
    response = client.post(f"/admin/orgs/organization/{org.pk}/change/", data | fields)
    assert response.status_code == 302
    return response


def test_key_set_and_cleared_in_the_admin_is_logged_masked(
    login: Login, superuser: User, acme_org: Organization
) -> None:
    client = login(superuser)
    _post_org(client, acme_org, new_api_key=API_KEY)
    acme_org.refresh_from_db()
    ciphertext = acme_org.api_key_encrypted
    set_entry = _last(acme_org)
    assert set_entry.actor == superuser
    assert set_entry.changes_dict["api_key_encrypted"] == ["", MASK]
    assert set_entry.changes_dict["api_key_last4"] == ["", "vNc3"]

    _post_org(client, acme_org, clear_api_key="on")
    cleared = _last(acme_org)
    assert cleared.changes_dict["api_key_encrypted"] == [MASK, ""]

    dump = _log_dump()
    assert API_KEY[:-4] not in dump
    assert ciphertext not in dump
    assert ciphertext[: len(ciphertext) // 2] not in dump


def test_memo_change_by_sales_is_logged_with_before_and_after(
    login: Login, sales_user: User, acme_org: Organization
) -> None:
    _post_org(login(sales_user), acme_org, memo="Acme production, Tokyo")
    entry = _last(acme_org)
    assert (entry.actor, entry.action) == (sales_user, LogEntry.Action.UPDATE)
    assert entry.changes_dict == {"memo": ["Acme production", "Acme production, Tokyo"]}


def test_webhook_token_rotation_in_the_admin_is_logged_without_the_token(
    login: Login, superuser: User, acme_org: Organization
) -> None:
    old_digest = acme_org.webhook_token_digest
    response = login(superuser).post(
        "/admin/orgs/organization/",
        {"action": "rotate_webhook_token", "_selected_action": [acme_org.pk]},
    )
    [notice] = get_messages(response.wsgi_request)
    token = str(notice).split("/hooks/mackerel/")[1].split("/")[0]
    acme_org.refresh_from_db()
    assert acme_org.webhook_token_digest == _token_digest(token)

    entry = _last(acme_org)
    assert entry.actor == superuser
    assert entry.changes_dict["webhook_token_digest"] == [MASK, MASK]
    assert entry.changes_dict["webhook_token_hint"] == [MASK, MASK]
    assert entry.changes_dict["previous_webhook_token_digest"] == ["", MASK]
    dump = _log_dump()
    for secret in (token, old_digest, acme_org.webhook_token_digest):
        assert secret not in dump
        assert secret[len(secret) // 2 :] not in dump


def test_key_rotation_command_is_logged_as_the_command(
    settings: Settings, acme_org: Organization
) -> None:
    acme_org.set_api_key(API_KEY)
    acme_org.save()
    old_ciphertext = acme_org.api_key_encrypted
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    acme_org.refresh_from_db()

    entry = _last(acme_org)
    assert entry.actor is None
    assert entry.additional_data["via"] == "rotate_encryption_keys"
    assert entry.changes_dict == {"api_key_encrypted": [MASK, MASK]}
    dump = _log_dump()
    for secret in (API_KEY, old_ciphertext, acme_org.api_key_encrypted):
        assert secret not in dump


def test_support_read_an_organizations_history(
    login: Login, sales_user: User, support_user: User, acme_org: Organization
) -> None:
    _post_org(login(sales_user), acme_org, display_name="Acme (prod)")
    page = login(support_user).get(f"/admin/orgs/organization/{acme_org.pk}/history/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "sales@tairyo.example" in text
    assert "Acme (prod)" in text
