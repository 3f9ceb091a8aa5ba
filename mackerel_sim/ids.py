"""Opaque identifiers and API keys that look like Mackerel's, reproducible from a seed."""

from __future__ import annotations

import hashlib
import random
import string

# Mackerel's IDs are 11 characters of a base58-like alphabet (mackerel-api.md §0, §12.8).
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ID_LENGTH = 11
KEY_ALPHABET = string.ascii_letters + string.digits
KEY_LENGTH = 44


class IdFactory:
    """Hands out unique IDs and keys drawn from one seeded generator.

    The same seed and the same sequence of calls give the same IDs, which is what makes scenarios
    and demo worlds reproducible.
    """

    def __init__(self, seed: int | str | None) -> None:
        self._rng = random.Random(seed)
        self._issued: set[str] = set()

    def new_id(self) -> str:
        while True:
            candidate = "".join(self._rng.choice(BASE58) for _ in range(ID_LENGTH))
            if candidate not in self._issued:
                self._issued.add(candidate)
                return candidate

    def new_key(self) -> str:
        while True:
            candidate = "".join(self._rng.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))
            if candidate not in self._issued:
                self._issued.add(candidate)
                return candidate

    def reserve(self, value: str) -> None:
        """Mark an ID loaded from a saved state as taken so it is never issued again."""
        self._issued.add(value)


def stable_id(*parts: str) -> str:
    """An ID derived from names rather than drawn, for things like a user's ID in a webhook."""
    digest = int.from_bytes(hashlib.sha256(":".join(parts).encode()).digest(), "big")
    chars = []
    for _ in range(ID_LENGTH):
        digest, index = divmod(digest, len(BASE58))
        chars.append(BASE58[index])
    return "".join(chars)
