from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from alerts.models import WebhookReceipt
from alerts.tests import payloads
from alerts.tests.factories import make_case, make_cases
from orgs.models import Organization
from orgs.tests.factories import make_hosts

pytestmark = pytest.mark.django_db

# Session, user, the counts, the newest open cases (each with its organization and host).
STATUS_QUERIES = 4


def test_status_page_shows_only_the_customers_open_cases(
    login: Callable[[User], Client],
    alice: User,
    acme_org: Organization,
    globex_org: Organization,
) -> None:
    make_case(acme_org, "open1")
    make_case(acme_org, "closed1", is_open=False)
    make_case(globex_org, "globex1", message="Globex secret")
    client = login(alice)
    for url in ("/status/", "/status/live/"):
        page = client.get(url).content.decode()
        assert "open1" in page
        assert "closed1" not in page
        assert "globex1" not in page
        assert "Globex secret" not in page


def test_the_page_loads_its_script_from_our_own_static_files(
    login: Callable[[User], Client], alice: User
) -> None:
    page = login(alice).get("/status/").content.decode()
    assert 'src="/static/js/live.js"' in page
    assert 'data-live-url="/status/live/"' in page
    assert "http://" not in page.split("<body>", 1)[0]
    assert "https://" not in page.split("<body>", 1)[0]


def test_a_storm_shows_as_it_grows(
    login: Callable[[User], Client], alice: User, deliver: Callable[..., WebhookReceipt]
) -> None:
    client = login(alice)
    now = int(time.time())
    assert client.get("/status/live/").context["open"].total == 0
    for n in range(1, 4):
        host = payloads.host(host_id=f"h{n}")
        deliver(payloads.alert(alert_id=f"storm{n}", host=host, opened=now, changed=now))
        live = client.get("/status/live/")
        assert live.context["open"].total == n
        assert live.context["open"].recent == n
        assert f"storm{n}" in live.content.decode()
    deliver(payloads.closing("storm1", at=now + 60, opened=now, host=payloads.host(host_id="h1")))
    assert client.get("/status/live/").context["open"].total == 2


def test_an_unchanged_fragment_is_answered_304(
    login: Callable[[User], Client], alice: User, acme_org: Organization
) -> None:
    make_case(acme_org, "open1")
    client = login(alice)
    first = client.get("/status/live/")
    assert first.status_code == 200
    assert "private" in first["Cache-Control"]
    again = client.get("/status/live/", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    make_case(acme_org, "open2")
    changed = client.get("/status/live/", headers={"If-None-Match": first["ETag"]})
    assert changed.status_code == 200


def test_an_expired_session_is_sent_to_log_in(client: Client) -> None:
    response = client.get("/status/live/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_beyond_the_shown_cases_the_rest_are_counted_and_linked(
    login: Callable[[User], Client], alice: User, acme_org: Organization
) -> None:
    make_cases(acme_org, 105)
    response = login(alice).get("/status/live/")
    assert len(response.context["open"].cases) == 100
    assert response.context["open"].hidden == 5
    assert 'href="/cases/?state=open"' in response.content.decode()


@pytest.mark.parametrize("url", ["/status/", "/status/live/"])
def test_query_count_does_not_grow_with_the_storm(
    login: Callable[[User], Client],
    alice: User,
    acme_org: Organization,
    django_assert_max_num_queries: Any,
    url: str,
) -> None:
    client = login(alice)
    hosts = make_hosts(acme_org, 20)
    make_cases(acme_org, 5, hosts=hosts, prefix="few")
    with django_assert_max_num_queries(STATUS_QUERIES) as few:
        assert client.get(url).status_code == 200
    make_cases(acme_org, 195, hosts=hosts, prefix="many")
    with django_assert_max_num_queries(STATUS_QUERIES) as many:
        client.get(url)
    assert len(many) == len(few)
