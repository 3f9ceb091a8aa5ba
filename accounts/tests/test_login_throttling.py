from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def attempt(
    client: Client, password: str, email: str = "alice@acme.example", forwarded: str = ""
) -> int:
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    response = client.post(
        "/accounts/login/", {"username": email, "password": password}, headers=headers
    )
    return response.status_code


def test_five_wrong_passwords_lock_the_user_name_from_that_address(
    client: Client, alice: User
) -> None:
    for _ in range(4):
        assert attempt(client, "guess") == 200
    locked = client.post("/accounts/login/", {"username": alice.email, "password": "guess"})
    assert locked.status_code == 429
    assert "15" in locked.content.decode()
    # Even the right password waits out the cool-off.
    assert attempt(client, PASSWORD) == 429
    # Case does not buy more guesses.
    assert attempt(client, "guess", email="ALICE@acme.example") == 429


def test_lockout_is_per_user_name_and_address(client: Client, alice: User, bob: User) -> None:
    for _ in range(5):
        attempt(client, "guess")
    # A colleague from the same address, and alice from another address, still log in.
    assert attempt(client, PASSWORD, email="bob@acme.example") == 302
    assert attempt(Client(REMOTE_ADDR="198.51.100.7"), PASSWORD) == 302


def test_the_lockout_ends_after_the_cool_off(client: Client, alice: User) -> None:
    for _ in range(5):
        attempt(client, "guess")
    assert attempt(client, PASSWORD) == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert attempt(client, PASSWORD) == 302


def test_address_behind_the_proxy_is_the_clients(
    client: Client, alice: User, settings: object
) -> None:
    settings.TAIRYO_PROXY_HOPS = 1  # type: ignore[attr-defined]
    for _ in range(5):
        attempt(client, "guess", forwarded="203.0.113.9")
    assert attempt(client, PASSWORD, forwarded="203.0.113.9") == 429
    # Another customer behind the same load balancer is not locked out with the guesser.
    assert attempt(client, PASSWORD, forwarded="203.0.113.10") == 302


def test_a_success_resets_the_count(client: Client, alice: User) -> None:
    for _ in range(4):
        attempt(client, "guess")
    assert attempt(client, PASSWORD) == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        assert attempt(client, "guess") == 200
