from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a new and long passphrase 42"


def reset_link() -> str:
    [message] = mail.outbox
    match = re.search(r"http://127\.0\.0\.1:8000(/accounts/password/reset/\S+/)", str(message.body))
    assert match, message.body
    return match.group(1)


def test_user_resets_their_password_from_a_mailed_link(client: Client, bob: User) -> None:
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password/reset/"' in page
    response = client.post("/accounts/password/reset/", {"email": "BOB@acme.example"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    # Bob reads English: the mail is in his language whatever the visitor's browser says.
    assert mail.outbox[0].subject == "Tairyo: choose a new password"
    assert mail.outbox[0].to == ["bob@acme.example"]

    form = client.get(reset_link(), follow=True)
    assert form.context["validlink"]
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done["Location"] == "/accounts/password/reset/done/"
    bob.refresh_from_db()
    assert bob.check_password(NEW_PASSWORD)
    assert client.get(reset_link()).status_code == 200
    assert not client.get(reset_link(), follow=True).context["validlink"], "a link works once"


def test_japanese_user_gets_a_japanese_mail(client: Client, alice: User) -> None:
    client.post(
        "/accounts/password/reset/", {"email": alice.email}, headers={"accept-language": "en"}
    )
    assert "パスワード" in mail.outbox[0].subject


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client: Client) -> None:
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


def test_a_forged_link_is_refused(client: Client, alice: User) -> None:
    page = client.get("/accounts/password/reset/MQ/abc-123/", follow=True)
    assert not page.context["validlink"]


def test_logged_in_user_changes_their_password(
    login: Callable[[User], Client], alice: User
) -> None:
    from conftest import PASSWORD

    client = login(alice)
    assert 'href="/accounts/password/"' in client.get("/accounts/settings/").content.decode()
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response["Location"] == "/accounts/password/changed/"
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
