from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def later() -> datetime:
    """The next 30-second step: a new code, and past the throttle of one wrong code."""
    return timezone.now() + timedelta(seconds=31)


def password_login(client: Client, user: User, next_page: str = "/") -> str:
    response = client.post(
        f"/accounts/login/?next={next_page}", {"username": user.email, "password": PASSWORD}
    )
    return str(client.get(response["Location"])["Location"])


def test_staff_must_set_up_a_second_factor_before_anything_else(
    client: Client, support_user: User
) -> None:
    assert password_login(client, support_user, "/admin/") == (
        "/accounts/2fa/setup/?next=%2Fadmin%2F"
    )
    page = client.get("/accounts/2fa/setup/?next=/admin/")
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=support_user, confirmed=False)
    assert page.context["key"]
    wrong = client.post("/accounts/2fa/setup/", {"token": "000000", "next": "/admin/"})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors
    with time_machine.travel(later()):  # a wrong code slows the next attempt down
        done = client.post("/accounts/2fa/setup/", {"token": code(device), "next": "/admin/"})
        assert done["Location"] == "/admin/"
        assert client.get("/admin/").status_code == 200


def test_staff_with_a_device_enter_a_code_at_each_login(client: Client, support_user: User) -> None:
    device = TOTPDevice.objects.create(user=support_user, name="phone", confirmed=True)
    assert password_login(client, support_user, "/staff/coverage/") == (
        "/accounts/2fa/?next=%2Fstaff%2Fcoverage%2F"
    )
    assert client.get("/staff/coverage/").status_code == 302
    assert client.post("/accounts/2fa/", {"token": "123456"}).status_code == 200
    with time_machine.travel(later()):
        response = client.post(
            "/accounts/2fa/", {"token": code(device), "next": "/staff/coverage/"}
        )
        assert response["Location"] == "/staff/coverage/"
        assert client.get("/staff/coverage/").status_code == 200


def test_a_customer_without_a_device_is_not_asked(client: Client, alice: User) -> None:
    response = client.post("/accounts/login/", {"username": alice.email, "password": PASSWORD})
    assert client.get(response["Location"]).status_code == 200


def test_a_customer_turns_it_on_and_is_asked_at_the_next_login(
    login: Callable[[User], Client], client: Client, alice: User
) -> None:
    settings_page = login(alice)
    assert "/accounts/2fa/setup/" in settings_page.get("/accounts/settings/").content.decode()
    settings_page.get("/accounts/2fa/setup/")
    device = TOTPDevice.objects.get(user=alice)
    settings_page.post("/accounts/2fa/setup/", {"token": code(device)})
    assert TOTPDevice.objects.get(user=alice).confirmed

    assert password_login(client, alice, "/cases/") == "/accounts/2fa/?next=%2Fcases%2F"
    with time_machine.travel(later()):  # a code is accepted once
        response = client.post("/accounts/2fa/", {"token": code(device), "next": "/cases/"})
        assert response["Location"] == "/cases/"
        assert client.get("/cases/").status_code == 200


def test_a_customer_turns_it_off_with_a_current_code(
    login: Callable[[User], Client], alice: User
) -> None:
    client = login(alice)
    device = TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    client.post("/accounts/2fa/disable/", {"token": "000000"})
    assert TOTPDevice.objects.filter(user=alice).exists()
    with time_machine.travel(later()):
        client.post("/accounts/2fa/disable/", {"token": code(device)})
    assert not TOTPDevice.objects.filter(user=alice).exists()


def test_staff_cannot_turn_it_off(login: Callable[[User], Client], support_user: User) -> None:
    client = login(support_user)
    device = TOTPDevice.objects.get(user=support_user)
    client.post("/accounts/2fa/disable/", {"token": code(device)})
    assert TOTPDevice.objects.filter(user=support_user).exists()


def test_machine_paths_and_the_way_out_stay_open(client: Client, support_user: User) -> None:
    password_login(client, support_user)
    assert client.get("/livez").status_code == 200
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
