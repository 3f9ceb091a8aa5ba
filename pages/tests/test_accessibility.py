"""Structural accessibility of every customer page: one h1, a language, a viewport, a label for
every control, and no heading levels skipped."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from django.test import Client

from accounts.models import User
from alerts.models import WebhookReceipt
from alerts.tests import payloads

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/status/",
    "/hosts/",
    "/hosts/4Xk2mQ9sTrB/",
    "/cases/",
    "/cases/3k73ZJscVcW/",
    "/orgs/",
    "/accounts/settings/",
    "/accounts/password/",
]
ANONYMOUS_PAGES = ["/accounts/login/", "/accounts/password/reset/"]
UNLABELLED_INPUTS = {"hidden", "submit", "button"}


class Structure(HTMLParser):
    """What a screen reader and a phone need from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = ""
        self.viewport = False
        self.headings: list[int] = []
        self.labels: set[str] = set()
        self.controls: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.lang = attributes.get("lang") or ""
        elif tag == "meta" and attributes.get("name") == "viewport":
            self.viewport = True
        elif len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.headings.append(int(tag[1]))
        elif tag == "label" and attributes.get("for"):
            self.labels.add(str(attributes["for"]))
        elif tag in {"input", "select", "textarea"} and (
            attributes.get("type") not in UNLABELLED_INPUTS
        ):
            self.controls.append(attributes)

    def unlabelled(self) -> list[dict[str, str | None]]:
        return [
            control
            for control in self.controls
            if control.get("id") not in self.labels and not control.get("aria-label")
        ]


def check(html: str) -> None:
    page = Structure()
    page.feed(html)
    assert page.lang in {"ja", "en"}
    assert page.viewport
    assert page.headings.count(1) == 1, page.headings
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        assert after <= before + 1, f"heading level skipped: {page.headings}"
    assert not page.unlabelled(), page.unlabelled()


@pytest.fixture
def world(alice: User, deliver: Callable[..., WebhookReceipt]) -> None:
    deliver(payloads.alert())


@pytest.mark.parametrize("url", PAGES)
def test_customer_pages_are_structured_for_assistive_technology(
    url: str, login: Callable[[User], Client], alice: User, world: None
) -> None:
    response = login(alice).get(url)
    assert response.status_code == 200
    check(response.content.decode())


@pytest.mark.parametrize("url", ANONYMOUS_PAGES)
def test_anonymous_pages_are_structured_for_assistive_technology(url: str, client: Client) -> None:
    check(client.get(url).content.decode())
