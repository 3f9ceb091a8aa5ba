from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from conftest import PASSWORD


@pytest.mark.django_db
def test_user_logs_in_with_email_in_any_case(client: Client, alice: User) -> None:
    response = client.post(
        "/accounts/login/", {"username": "Alice@ACME.example", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").context["user"] == alice


@pytest.mark.django_db
def test_wrong_password_shows_an_error_and_logs_nobody_in(client: Client, alice: User) -> None:
    response = client.post("/accounts/login/", {"username": alice.email, "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not response.context["user"].is_authenticated


@pytest.mark.django_db
def test_login_page_is_japanese_by_default_and_english_on_request(client: Client) -> None:
    assert client.get("/accounts/login/").headers["Content-Language"] == "ja"
    english = client.get("/accounts/login/", headers={"accept-language": "en"})
    assert english.headers["Content-Language"] == "en"


@pytest.mark.django_db
def test_user_email_is_unique_case_insensitively(alice: User) -> None:
    user = User.objects.get_by_natural_key("ALICE@acme.example")
    assert user == alice
