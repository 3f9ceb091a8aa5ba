"""Subscription URLs must not reach Tairyo's own network (SSRF, reliability.md §3.2).

Loopback, private, link-local (cloud metadata at 169.254.169.254 among them), shared, reserved
and multicast addresses are refused when a URL is saved and again when sending, after DNS
resolution, and the request then goes to the address that was checked, so a name that resolves
differently the second time (DNS rebinding) cannot slip through. Hosts named in
TAIRYO_WEBHOOK_ALLOWED_HOSTS (an internal ticketing server, the tests' receiver) are exempt.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedDestination(Exception):
    """The URL is not one Tairyo will send to; the message says why."""


@dataclass(frozen=True)
class Target:
    """A URL with the address it resolved to and was checked at."""

    scheme: str
    host: str
    port: int
    address: IPAddress
    path: str

    @property
    def url(self) -> str:
        """The URL with the checked address in place of the host name."""
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{self.scheme}://{host}:{self.port}{self.path}"


def _public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(url: str) -> Target:
    """Check ``url`` and pick the address to send to; RefusedDestination if it is not allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedDestination("only http and https URLs with a host name")
    if parts.username or parts.password:
        raise RefusedDestination("credentials in the URL are not allowed")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise RefusedDestination("invalid port") from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise RefusedDestination(f"{host} does not resolve") from None
    # Strip an IPv6 zone ("fe80::1%eth0"): the address decides, not the interface.
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise RefusedDestination(f"{host} does not resolve")
    allowed = host.lower() in {name.lower() for name in settings.TAIRYO_WEBHOOK_ALLOWED_HOSTS}
    if not allowed:
        # Every address, not just the first: a name with one public and one private address
        # would otherwise reach the private one on a later resolution.
        refused = [str(address) for address in addresses if not _public(address)]
        if refused:
            raise RefusedDestination(f"{host} resolves to a non-public address ({refused[0]})")
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    return Target(parts.scheme, host, port, addresses[0], path)
