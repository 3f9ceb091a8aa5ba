"""Encryption at rest for secrets Tairyo must be able to read back (Mackerel API keys).

MultiFernet over a dedicated key list (``TAIRYO_FIELD_ENCRYPTION_KEYS``), not derived from
``SECRET_KEY``: rotating the session-signing key must not turn into a data migration, and one
leaked secret must not expose both. The first key encrypts; every key decrypts. Each stored value
starts with the fingerprint of the key that encrypted it, so rotation progress can be queried.
"""

from __future__ import annotations

import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "fernet"


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""


def fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


@functools.cache
def _keys(keys: tuple[str, ...]) -> tuple[MultiFernet, str]:
    try:
        fernets = [Fernet(key.encode()) for key in keys]
    except ValueError as exc:
        raise ImproperlyConfigured(
            "TAIRYO_FIELD_ENCRYPTION_KEYS: every key must be 32 url-safe base64-encoded bytes "
            "(make one with `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)"
        ) from exc
    return MultiFernet(fernets), fingerprint(keys[0])


def _configured() -> tuple[MultiFernet, str]:
    keys = tuple(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        raise ImproperlyConfigured("TAIRYO_FIELD_ENCRYPTION_KEYS must hold at least one key")
    return _keys(keys)


def encrypt(plaintext: str) -> str:
    fernet, primary = _configured()
    return f"{PREFIX}:{primary}:{fernet.encrypt(plaintext.encode()).decode()}"


def decrypt(stored: str) -> str:
    fernet, _ = _configured()
    try:
        token = stored.split(":", 2)[2]
        return fernet.decrypt(token.encode()).decode()
    except (IndexError, InvalidToken):
        raise DecryptionError("no configured encryption key decrypts this value") from None


def is_current(stored: str) -> bool:
    """Whether ``stored`` is encrypted with the first (current) key."""
    _, primary = _configured()
    return stored.startswith(f"{PREFIX}:{primary}:")


def rotate(stored: str) -> str:
    """Re-encrypt ``stored`` under the current key."""
    fernet, primary = _configured()
    token = stored.split(":", 2)[2]
    return f"{PREFIX}:{primary}:{fernet.rotate(token.encode()).decode()}"
