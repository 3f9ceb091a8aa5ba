"""When the Mackerel client retries, and how long it waits.

The rule, in one place so it can be read and tested on its own:

* Only transient failures are retried: network errors and timeouts, 5xx, and 429.
  Other 4xx never are: a bad key, a missing host or an invalid monitor stays wrong however often
  it is sent (mackerel-agent follows the same rule).
* Idempotent requests (GET, PUT, DELETE, and the POSTs whose effect is "set to this value",
  such as metric posts whose re-post overwrites the same timestamp) are retried on any of those.
* Other POSTs (create host, create monitor, check reports, close alert, retire, ...) are retried
  only when Mackerel cannot have acted on them: the connection was never made (connect error or
  timeout, pool timeout, proxy refused the tunnel), or Mackerel answered 429 or 503, which reject a
  request without processing it. A read timeout, a dropped connection or a 500/502/504 after a POST
  is raised to the caller, because the POST may have landed and a second one could create a
  duplicate monitor or count a check failure twice.
* A retried DELETE whose first attempt did land answers 404: callers deleting things should treat
  ``NotFoundError`` as "already gone".
* Waits grow exponentially with jitter (``backoff * 2**n``, capped, randomised in its upper half)
  so seventy organizations synced by the same beat don't retry in lockstep. A ``Retry-After``
  from Mackerel replaces the computed wait; one longer than ``max_retry_after`` is not slept
  through inside a request: the error is raised at once with ``retry_after`` so a worker can
  reschedule the task instead of blocking.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

# Raised before any byte of the request reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)

# Raised for a request that can never succeed as built (bad URL scheme, invalid header):
# retrying only delays the error.
_PERMANENT = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


def retryable_exception(exc: httpx.TransportError, *, idempotent: bool) -> bool:
    """Whether a request that failed with ``exc`` (no HTTP answer) may be sent again."""
    if isinstance(exc, _PERMANENT):
        return False
    if isinstance(exc, _NOT_SENT):
        return True
    return idempotent


def retryable_status(status_code: int, *, idempotent: bool) -> bool:
    """Whether a request Mackerel answered with ``status_code`` may be sent again."""
    if status_code in (429, 503):
        return True
    # 501 and 505 say the server will never handle this request.
    return idempotent and status_code >= 500 and status_code not in (501, 505)


def backoff_delay(
    retry_number: int, *, backoff: float, max_backoff: float, rng: random.Random
) -> float:
    """Seconds to wait before retry number ``retry_number`` (1 for the first retry).

    "Equal jitter": half the exponential step is fixed, half random, so waits still grow but
    concurrent clients spread out.
    """
    step = min(max_backoff, backoff * 2.0 ** (retry_number - 1))
    return step / 2 + rng.uniform(0, step / 2)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date; None if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    seconds: float | None
    try:
        seconds = float(value)
    except ValueError:
        seconds = _seconds_until_http_date(value, now=now)
    if seconds is None or not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _seconds_until_http_date(value: str, *, now: datetime | None) -> float | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - (now or datetime.now(tz=UTC))).total_seconds()
