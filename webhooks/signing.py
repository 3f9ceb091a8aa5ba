"""Standard Webhooks signatures (https://www.standardwebhooks.com/, reliability.md §3.2).

``webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``, one value per
secret in force, space-separated, so a receiver can rotate without missing a delivery. Secrets
read ``whsec_<base64 of 32 random bytes>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"  # noqa: S105 -- the format's prefix, not a secret
# Receivers should refuse timestamps further than this from their clock (replay protection).
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(
    secrets_in_force: list[str], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret in force."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret, message_id, timestamp, body) for secret in secrets_in_force
        ),
    }


def verify(secret: str, received: dict[str, str], body: bytes, now: float | None = None) -> bool:
    """What a receiver does (docs/api.md shows the same in a few lines): True if one of the
    signatures is ours and the timestamp is recent."""
    try:
        timestamp = int(received["webhook-timestamp"])
        message_id = received["webhook-id"]
        offered = received["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = signature(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, value) for value in offered)
