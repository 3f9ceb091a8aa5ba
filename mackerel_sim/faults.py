"""Per-organization fault injection: latency, forced error statuses and rate limiting."""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any


@dataclass
class FaultDecision:
    """What to do to one request: wait, then answer with an error or let it through."""

    latency: float = 0.0
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        if self.status is None:
            return ""
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Error"


@dataclass
class Faults:
    """The faults configured for one organization; every field off by default.

    * `latency`: seconds added to every request.
    * `status` with `count`: the next `count` requests fail with `status`; with `fraction`: each
      request fails with that probability (seeded, so reproducible); with neither: all fail.
    * `rate_limit` requests per `rate_limit_window` seconds, then 429 with `Retry-After`.
    * `path_prefix` limits every fault to paths starting with it.
    """

    latency: float = 0.0
    status: int | None = None
    count: int | None = None
    fraction: float | None = None
    rate_limit: int | None = None
    rate_limit_window: float = 1.0
    retry_after: int | None = None
    path_prefix: str | None = None
    injected: int = 0
    _rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False)
    _window_start: float = field(default=0.0, repr=False)
    _window_count: int = field(default=0, repr=False)

    def configure(
        self,
        *,
        seed: str,
        latency: float | None = None,
        status: int | None = None,
        count: int | None = None,
        fraction: float | None = None,
        rate_limit: int | None = None,
        rate_limit_window: float | None = None,
        retry_after: int | None = None,
        path_prefix: str | None = None,
    ) -> None:
        if fraction is not None and not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        if count is not None and count < 0:
            raise ValueError("count must be >= 0")
        if status is not None and not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status")
        if latency is not None:
            self.latency = max(0.0, float(latency))
        if status is not None:
            self.status, self.count, self.fraction = status, count, fraction
        if rate_limit is not None:
            self.rate_limit = rate_limit
            self._window_start, self._window_count = 0.0, 0
        if rate_limit_window is not None:
            self.rate_limit_window = float(rate_limit_window)
        if retry_after is not None:
            self.retry_after = retry_after
        if path_prefix is not None:
            self.path_prefix = path_prefix or None
        self._rng = random.Random(seed)

    def clear(self) -> None:
        self.latency, self.status, self.count, self.fraction = 0.0, None, None, None
        self.rate_limit, self.retry_after, self.path_prefix = None, None, None
        self.rate_limit_window = 1.0

    def decide(self, path: str) -> FaultDecision:
        """Decide the fate of one request; the caller holds the world lock."""
        if self.path_prefix and not path.startswith(self.path_prefix):
            return FaultDecision()
        decision = FaultDecision(latency=self.latency)
        if self._rate_limited():
            self.injected += 1
            decision.status = 429
            decision.headers["Retry-After"] = str(self._retry_after_seconds())
            return decision
        if self.status is not None and self._forced_now():
            self.injected += 1
            decision.status = self.status
            if self.status == 429:
                decision.headers["Retry-After"] = str(self.retry_after or 1)
        return decision

    def _forced_now(self) -> bool:
        if self.count is not None:
            if self.count <= 0:
                self.status, self.count = None, None
                return False
            self.count -= 1
            return True
        if self.fraction is not None:
            return self._rng.random() < self.fraction
        return True

    def _rate_limited(self) -> bool:
        if self.rate_limit is None:
            return False
        # Rate limits are about real load, so they use real time, not the simulated clock.
        now = time.monotonic()
        if now - self._window_start >= self.rate_limit_window:
            self._window_start, self._window_count = now, 0
        self._window_count += 1
        return self._window_count > self.rate_limit

    def _retry_after_seconds(self) -> int:
        if self.retry_after is not None:
            return self.retry_after
        remaining = self.rate_limit_window - (time.monotonic() - self._window_start)
        return max(1, math.ceil(remaining))

    def to_json(self) -> dict[str, Any]:
        return {
            "latency": self.latency,
            "status": self.status,
            "count": self.count,
            "fraction": self.fraction,
            "rateLimit": self.rate_limit,
            "rateLimitWindow": self.rate_limit_window,
            "retryAfter": self.retry_after,
            "pathPrefix": self.path_prefix,
            "injected": self.injected,
        }
