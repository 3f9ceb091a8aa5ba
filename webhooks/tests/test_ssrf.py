"""Subscription URLs cannot reach Tairyo's own network, when saved or when sending."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Customer
from webhooks import services, ssrf


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8000/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://172.16.5.4/",
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[::1]/",
        "http://[fd00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "ftp://93.184.216.34/",
        "http://user:pw@93.184.216.34/",
        "http://nonexistent.invalid/",
    ],
)
def test_refused_when_saved(url: str, acme: Customer) -> None:
    with pytest.raises(ValidationError):
        services.create(acme, url, ["case.opened"])


def test_a_public_address_is_accepted() -> None:
    target = ssrf.resolve("https://93.184.216.34/hooks?a=1")
    assert (target.url, target.host, target.port) == (
        "https://93.184.216.34:443/hooks?a=1",
        "93.184.216.34",
        443,
    )


def test_staff_may_allow_an_internal_host(settings: Any) -> None:
    settings.TAIRYO_WEBHOOK_ALLOWED_HOSTS = ["localhost"]
    assert str(ssrf.resolve("http://localhost:9000/x").address) in ("127.0.0.1", "::1")
    with pytest.raises(ssrf.RefusedDestination):
        ssrf.resolve("http://127.0.0.1:9000/x")


def test_a_name_with_any_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def two_addresses(host: str, port: int, **_: Any) -> list[Any]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", two_addresses)
    with pytest.raises(ssrf.RefusedDestination, match="10.0.0.5"):
        ssrf.resolve("https://tickets.example.com/")
