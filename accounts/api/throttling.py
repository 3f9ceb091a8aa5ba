"""Per-token request rate limit, counted in Redis so every web process shares the count."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken

logger = logging.getLogger(__name__)


class TokenRateThrottle(SimpleRateThrottle):
    """TAIRYO_API_RATE requests per token; a 429 with Retry-After beyond it."""

    scope = "token"

    def __init__(self) -> None:
        self.cache = caches["api"]
        super().__init__()

    def get_rate(self) -> str:
        # Read at request time (not class definition) so the setting can change in tests.
        return str(settings.TAIRYO_API_RATE)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = request.auth
        if not isinstance(token, ApiToken):
            return None  # unauthenticated requests are refused before they cost anything
        return f"throttle:token:{token.pk}"

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except RedisError:
            # The limit protects the service; an unreachable Redis must not take the API down.
            logger.warning("API throttle: Redis unreachable, request allowed")
            return True
