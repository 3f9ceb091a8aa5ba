"""Delivery events posted back to anymail's tracking webhook, as the providers post them.

Event names are anymail's normalized ones (`delivered`, `bounced`, ...); each provider module
turns them into its own payload and signature. Automatic events go through one background
thread so the send API answers at once, as the real providers do.
"""

from __future__ import annotations

import base64
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mail_sim import addresses

EVENTS = (
    "queued",
    "delivered",
    "deferred",
    "bounced",
    "rejected",
    "opened",
    "clicked",
    "complained",
    "unsubscribed",
)
# Opens and clicks need a reader; one plausible browser will do.
READER_USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
# Provider spellings are accepted too, so a test can say `failed` or `dropped`.
_ALIASES = {
    "accepted": "queued",
    "processed": "queued",
    "failed": "bounced",
    "bounce": "bounced",
    "temporary_failure": "deferred",
    "dropped": "rejected",
    "open": "opened",
    "click": "clicked",
    "spamreport": "complained",
    "unsubscribe": "unsubscribed",
}


def normalize_event(name: str) -> str:
    event = _ALIASES.get(name.lower(), name.lower())
    if event not in EVENTS:
        raise ValueError(f"unknown event {name!r}; expected one of {EVENTS}")
    return event


@dataclass(frozen=True)
class Outcome:
    """What happens to recipients matching `pattern`: the events they produce, in order."""

    pattern: str
    events: tuple[str, ...]


def events_for(recipient: str, outcomes: tuple[Outcome, ...]) -> tuple[str, ...]:
    """First matching outcome wins; everyone else is simply delivered."""
    for outcome in outcomes:
        if addresses.matches(recipient, outcome.pattern):
            return outcome.events
    return ("delivered",)


@dataclass(frozen=True)
class TrackingConfig:
    """Where and how events are posted. `url` serves both providers unless overridden."""

    url: str | None = None
    mailgun_url: str | None = None
    sendgrid_url: str | None = None
    mailgun_signing_key: str | None = None
    basic_auth: str | None = None  # "user:pass", anymail's WEBHOOK_SECRET
    auto: bool = True
    # Providers report delivery after answering the send call; a short delay keeps
    # that order. Set 0 to test an event racing the send's own bookkeeping.
    delay: float = 0.1
    timeout: float = 10.0  # providers give up on a slow webhook after some seconds, then retry
    retries: int = 0
    retry_delay: float = 0.5

    def url_for(self, provider: str) -> str | None:
        specific = {"mailgun": self.mailgun_url, "sendgrid": self.sendgrid_url}.get(provider)
        return specific or self.url


@dataclass(frozen=True)
class EventPost:
    """One webhook request a provider would make (Mailgun: one event; SendGrid: a batch)."""

    provider: str
    event: str
    message_id: str
    recipients: tuple[str, ...]
    body: bytes
    content_type: str = "application/json"


@dataclass
class EventDelivery:
    """The outcome of posting one `EventPost` to the tracking webhook."""

    post: EventPost
    url: str
    status: int | None = None
    error: str | None = None
    attempts: int = 0
    sent_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.post.provider,
            "event": self.post.event,
            "message_id": self.post.message_id,
            "recipients": list(self.post.recipients),
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "attempts": self.attempts,
            "sent_at": self.sent_at.isoformat(),
            "body": self.post.body.decode("utf-8"),
        }


# Never route loopback webhooks through an HTTP(S)_PROXY from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def deliver(post: EventPost, url: str, config: TrackingConfig) -> EventDelivery:
    """POST an event now, retrying as configured; never raises for HTTP or network errors."""
    target, auth = _split_auth(url, config.basic_auth)
    headers = {"Content-Type": post.content_type, "User-Agent": f"mail-sim/{post.provider}"}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode("ascii")
    delivery = EventDelivery(post=post, url=target)
    for attempt in range(1, config.retries + 2):
        delivery.attempts = attempt
        delivery.status, delivery.error = _post_once(target, post.body, headers, config.timeout)
        if delivery.ok:
            break
        if attempt <= config.retries:
            time.sleep(config.retry_delay)
    return delivery


def _post_once(
    url: str, body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int | None, str | None]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - URL set by the operator
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, None
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", errors="replace")[:500]
    except (urllib.error.URLError, OSError) as err:
        return None, repr(err)


def _split_auth(url: str, basic_auth: str | None) -> tuple[str, str | None]:
    """Take `user:pass@` out of the URL (urllib won't send it) and prefer it over the config."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, basic_auth
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    auth = f"{parts.username}:{parts.password or ''}"
    return urlunsplit(parts._replace(netloc=netloc)), auth


class Dispatcher:
    """Posts automatic events in order on one daemon thread; `flush()` waits until all are out."""

    def __init__(self, record: Callable[[EventDelivery], None]) -> None:
        self._record = record
        self._queue: queue.Queue[tuple[float, EventPost, str, TrackingConfig]] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None

    def enqueue(self, posts: list[EventPost], url: str, config: TrackingConfig) -> None:
        not_before = time.monotonic() + config.delay
        with self._idle:
            self._pending += len(posts)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="mail-sim-events", daemon=True
                )
                self._thread.start()
        for post in posts:
            self._queue.put((not_before, post, url, config))

    def flush(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self._pending} tracking events still unsent")
                self._idle.wait(remaining)

    def _run(self) -> None:
        while True:
            not_before, post, url, config = self._queue.get()
            time.sleep(max(0.0, not_before - time.monotonic()))
            try:
                self._record(deliver(post, url, config))
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()
