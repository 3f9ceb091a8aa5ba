"""Issuing, checking and revoking API tokens (design.md invariant 4: stored hashed).

A token reads ``tairyo_<prefix>_<secret>``: the prefix is stored in clear to find the row in one
indexed lookup, the whole token only as its SHA-256 digest. SHA-256 rather than a slow password
hash because the secret is 256 random bits, not something a person chose: nothing to brute-force,
and every API request pays for the check.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, Customer, User

SCHEME = "tairyo"
# last_used_at is written at most this often per token, so polling does not write every request.
LAST_USED_PRECISION = timedelta(minutes=1)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A new token's row and its plain text, which exists only until shown once."""

    token: ApiToken
    plain: str


def issue(
    *,
    name: str,
    customer: Customer | None,
    can_write: bool,
    created_by: User | None,
    expires_at: datetime | None = None,
) -> IssuedToken:
    """Make a token; the caller shows ``plain`` once and forgets it."""
    token = ApiToken(
        name=name,
        customer=customer,
        can_write=can_write,
        created_by=created_by,
        expires_at=expires_at,
    )
    plain = set_secret(token)
    token.save()
    return IssuedToken(token=token, plain=plain)


def set_secret(token: ApiToken) -> str:
    """Give an unsaved token its secret: prefix and digest stored, plain text returned."""
    token.prefix = secrets.token_hex(4)
    plain = f"{SCHEME}_{token.prefix}_{secrets.token_urlsafe(32)}"
    token.digest = digest(plain)
    return plain


def find(plain: str) -> ApiToken | None:
    """The usable token whose text is ``plain``, or None for anything else."""
    parts = plain.split("_", 2)  # the secret itself may contain "_"
    if len(parts) != 3 or parts[0] != SCHEME:  # noqa: PLR2004 -- scheme, prefix and secret
        return None
    token = (
        ApiToken.objects.usable()
        .select_related("customer", "created_by")
        .filter(prefix=parts[1])
        .first()
    )
    if token is None or not hmac.compare_digest(token.digest, digest(plain)):
        return None
    return token


def touch(token: ApiToken) -> None:
    """Record that the token was used, at most once per LAST_USED_PRECISION."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def revoke(token: ApiToken) -> None:
    """Stop the token working at once; the row stays, for the record (and the audit log)."""
    with transaction.atomic():
        # Locked and saved rather than updated in one statement, so the audit log sees it.
        current = ApiToken.objects.select_for_update().filter(pk=token.pk, revoked_at=None).first()
        if current is not None:
            current.revoked_at = timezone.now()
            current.save(update_fields=["revoked_at"])
    if current is not None:
        token.revoked_at = current.revoked_at
