from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_switching_language_is_saved_on_the_user(
    login: Callable[[User], Client], alice: User
) -> None:
    client = login(alice)
    assert client.get("/").headers["Content-Language"] == "ja"
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/cases/"})
    assert response.status_code == 302
    assert response["Location"] == "/cases/"
    alice.refresh_from_db()
    assert alice.language == "en"
    assert client.get("/").headers["Content-Language"] == "en"
    # A fresh session (another browser) follows the saved choice, not a cookie.
    assert login(alice).get("/").headers["Content-Language"] == "en"


def test_anonymous_visitor_switches_by_cookie_only(client: Client) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert client.get("/accounts/login/").headers["Content-Language"] == "en"


def test_an_unknown_language_changes_nothing(login: Callable[[User], Client], alice: User) -> None:
    login(alice).post("/i18n/setlang/", {"language": "xx"})
    alice.refresh_from_db()
    assert alice.language == "ja"


def test_every_page_offers_the_language_switch(client: Client) -> None:
    page = client.get("/accounts/login/").content.decode()
    assert 'action="/i18n/setlang/"' in page
    assert 'value="en"' in page
    assert 'value="ja"' in page


def test_user_sets_their_time_zone_and_times_follow_it(
    login: Callable[[User], Client], alice: User
) -> None:
    client = login(alice)
    assert "Asia/Tokyo" in client.get("/").content.decode()
    response = client.post(
        "/accounts/settings/",
        {"full_name": "Alice", "language": "en", "time_zone": "Europe/London"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.language, alice.time_zone) == ("en", "Europe/London")
    assert "Europe/London" in client.get("/").content.decode()


def test_a_bad_time_zone_is_refused(login: Callable[[User], Client], alice: User) -> None:
    response = login(alice).post(
        "/accounts/settings/", {"full_name": "", "language": "ja", "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors
