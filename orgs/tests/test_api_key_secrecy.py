"""A Mackerel API key saved through the admin is never stored or shown in plain text."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.models import User
from orgs import encryption
from orgs.models import Organization

API_KEY = "mkr-ApiKey-7Hq2xZpL9sW4bRt8vNc3"
# The organization page carries its routes inline (notifications/admin.py): an empty formset.
ROUTES_INLINE = {"routes-TOTAL_FORMS": "0", "routes-INITIAL_FORMS": "0"}


def _table_dump() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(o)::text FROM orgs_organization o")
        return "\n".join(row[0] for row in cursor.fetchall())


def _save_key_in_admin(client: Client, org: Organization, key: str) -> None:
    response = client.post(
        f"/admin/orgs/organization/{org.pk}/change/",
        {
            "customer": org.customer_id,
            "name": org.name,
            "display_name": "",
            "memo": org.memo,
            "is_active": "on",
            "new_api_key": key,
            **ROUTES_INLINE,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.mark.django_db
def test_api_key_saved_in_admin_is_encrypted_and_never_shown(
    login: Callable[[User], Client], superuser: User, alice: User, acme_org: Organization
) -> None:
    admin = login(superuser)
    _save_key_in_admin(admin, acme_org, API_KEY)

    acme_org.refresh_from_db()
    assert acme_org.get_api_key() == API_KEY
    assert acme_org.api_key_last4 == "vNc3"
    assert API_KEY not in _table_dump()
    assert API_KEY[:-4] not in _table_dump()

    pages = [
        admin.get(f"/admin/orgs/organization/{acme_org.pk}/change/"),
        admin.get("/admin/orgs/organization/"),
        login(alice).get("/"),
        login(alice).get(acme_org.get_absolute_url()),
    ]
    for page in pages:
        assert page.status_code == 200
        assert API_KEY[:-4] not in page.content.decode()
    assert "••••vNc3" in pages[0].content.decode()


@pytest.mark.django_db
def test_empty_key_field_keeps_the_current_key(
    login: Callable[[User], Client], superuser: User, acme_org: Organization
) -> None:
    acme_org.set_api_key(API_KEY)
    acme_org.save()
    _save_key_in_admin(login(superuser), acme_org, "")
    acme_org.refresh_from_db()
    assert acme_org.get_api_key() == API_KEY


@pytest.mark.django_db
def test_malformed_key_is_refused_with_a_form_error(
    login: Callable[[User], Client], superuser: User, acme_org: Organization
) -> None:
    response = login(superuser).post(
        f"/admin/orgs/organization/{acme_org.pk}/change/",
        {
            "customer": acme_org.customer_id,
            "name": acme_org.name,
            "new_api_key": "a b",
            **ROUTES_INLINE,
        },
    )
    assert response.status_code == 200
    assert "Mackerel API key" in response.content.decode() or response.context["errors"]
    acme_org.refresh_from_db()
    assert not acme_org.has_api_key


@pytest.mark.django_db
def test_sales_cannot_see_or_set_the_key_field(
    login: Callable[[User], Client], sales_user: User, acme_org: Organization
) -> None:
    page = login(sales_user).get(f"/admin/orgs/organization/{acme_org.pk}/change/")
    assert page.status_code == 200
    assert 'name="new_api_key"' not in page.content.decode()


@pytest.mark.django_db
def test_key_rotation_decrypts_old_values_and_reencrypts_under_the_new_key(
    settings: Settings, acme_org: Organization
) -> None:
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    acme_org.set_api_key(API_KEY)
    acme_org.save()

    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    acme_org.refresh_from_db()
    assert acme_org.get_api_key() == API_KEY
    assert not encryption.is_current(acme_org.api_key_encrypted)

    call_command("rotate_encryption_keys")
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    acme_org.refresh_from_db()
    assert encryption.is_current(acme_org.api_key_encrypted)
    assert acme_org.get_api_key() == API_KEY


@pytest.mark.django_db
def test_value_under_a_removed_key_fails_loudly(settings: Settings, acme_org: Organization) -> None:
    acme_org.set_api_key(API_KEY)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(encryption.DecryptionError) as excinfo:
        acme_org.get_api_key()
    assert API_KEY not in str(excinfo.value)


@pytest.mark.django_db
def test_sales_cannot_set_the_key_or_the_webhook_defences_by_posting_them(
    login: Callable[[User], Client], sales_user: User, acme_org: Organization
) -> None:
    response = login(sales_user).post(
        f"/admin/orgs/organization/{acme_org.pk}/change/",
        {
            "customer": acme_org.customer_id,
            "name": acme_org.name,
            "display_name": "",
            "memo": "edited by sales",
            "is_active": "on",
            "new_api_key": API_KEY,
            "webhook_username": "mackerel",
            "new_webhook_password": "hunter2-hunter2",
            "webhook_allowed_networks": "192.0.2.0/24",
            **ROUTES_INLINE,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    acme_org.refresh_from_db()
    assert acme_org.memo == "edited by sales", "sales may edit the rest"
    assert not acme_org.has_api_key
    assert (acme_org.webhook_username, acme_org.webhook_password_hash) == ("", "")
    assert acme_org.webhook_allowed_networks == ""


@pytest.mark.django_db
def test_superuser_sets_the_webhook_defences_and_a_bad_network_is_refused(
    login: Callable[[User], Client], superuser: User, acme_org: Organization
) -> None:
    client = login(superuser)
    form = {
        "customer": acme_org.customer_id,
        "name": acme_org.name,
        "display_name": "",
        "memo": "",
        "is_active": "on",
        "webhook_username": "mackerel",
        "new_webhook_password": "hunter2-hunter2",
        **ROUTES_INLINE,
    }
    url = f"/admin/orgs/organization/{acme_org.pk}/change/"
    refused = client.post(url, form | {"webhook_allowed_networks": "192.0.2.0/24\nnot-a-net"})
    assert refused.status_code == 200
    assert "not-a-net" in refused.content.decode()
    acme_org.refresh_from_db()
    assert acme_org.webhook_username == "", "nothing saved"
    saved = client.post(url, form | {"webhook_allowed_networks": "192.0.2.0/24\n2001:db8::/32"})
    assert saved.status_code == 302
    acme_org.refresh_from_db()
    assert acme_org.webhook_credentials_match("mackerel", "hunter2-hunter2")
    assert not acme_org.webhook_credentials_match("mackerel", "wrong")
    assert acme_org.webhook_source_allowed("192.0.2.7")
    assert not acme_org.webhook_source_allowed("198.51.100.1")
    assert "hunter2" not in client.get(url).content.decode()
