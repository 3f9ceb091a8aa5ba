"""Delivers webhooks from background threads at a controllable rate, recording every attempt."""

from __future__ import annotations

import base64
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

USER_AGENT = "Mackerel-Webhook (Tairyo mackerel_sim)"
MAX_RECORDED = 100_000
RESPONSE_PREVIEW = 2048


@dataclass
class Job:
    """One webhook body on its way to one channel."""

    org: str
    channel_id: str
    url: str
    event: str
    body: str
    attempt: int = 1


@dataclass
class Delivery:
    """One delivery attempt: where it went, what was sent and how the receiver answered."""

    seq: int
    org: str
    channel_id: str
    url: str
    event: str
    body: str
    attempt: int
    status: int | None = None
    error: str | None = None
    response_body: str = ""
    sent_at: float = 0.0
    elapsed: float = 0.0
    _payload: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def payload(self) -> Any:
        if self._payload is None:
            self._payload = json.loads(self.body)
        return self._payload

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "org": self.org,
            "channelId": self.channel_id,
            "url": self.url,
            "event": self.event,
            "attempt": self.attempt,
            "status": self.status,
            "error": self.error,
            "responseBody": self.response_body,
            "sentAt": self.sent_at,
            "elapsed": self.elapsed,
            "body": self.payload,
        }


def split_credentials(url: str) -> tuple[str, str | None]:
    """Mackerel supports basic auth only as `https://user:pass@host/` in the URL (§9.1)."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc += f":{parts.port}"
    plain = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    token = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    return plain, "Basic " + base64.b64encode(token).decode()


class WebhookSender:
    """A queue drained by worker threads; the API only ever enqueues.

    `rate` caps deliveries per second across all workers (None: as fast as receivers answer).
    `accept(job)` is asked just before sending (a channel may have been deleted or suspended);
    `record(delivery)` hears about every attempt.
    """

    def __init__(
        self,
        *,
        rate: float | None = None,
        timeout: float = 5.0,
        retries: int = 0,
        retry_delay: float = 1.0,
        workers: int = 1,
        accept: Callable[[Job], bool] | None = None,
        record: Callable[[Delivery], None] | None = None,
    ) -> None:
        self.timeout = timeout
        self.retries = retries
        self.retry_delay = retry_delay
        self._workers = workers
        self._accept = accept
        self._record = record
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Condition()
        self._pending = 0
        self._seq = 0
        self._deliveries: deque[Delivery] = deque(maxlen=MAX_RECORDED)
        self._rate = rate
        self._next_slot = 0.0
        self._threads: list[threading.Thread] = []
        self._closed = False
        # Receivers are local test servers: never route them through an HTTP proxy.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _start(self) -> None:
        if self._threads or self._closed:
            return
        for n in range(self._workers):
            thread = threading.Thread(
                target=self._run, name=f"mackerel-sim-webhooks-{n}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def enqueue(self, job: Job) -> None:
        with self._lock:
            if self._closed:
                return
            self._pending += 1
            self._start()
        self._queue.put(job)

    def set_rate(self, rate: float | None) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive or None")
        with self._lock:
            self._rate = rate
            self._next_slot = 0.0

    @property
    def rate(self) -> float | None:
        return self._rate

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every queued webhook has been attempted (retries included)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
            return True

    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def clear(self) -> None:
        with self._lock:
            self._deliveries.clear()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=2)

    def _wait_for_slot(self) -> None:
        with self._lock:
            if self._rate is None:
                return
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + 1 / self._rate
        if slot > now:
            time.sleep(slot - now)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            retry = False
            try:
                if self._accept is None or self._accept(job):
                    self._wait_for_slot()
                    delivery = self._post(job)
                    retry = not delivery.ok and job.attempt <= self.retries
                    if self._record is not None:
                        self._record(delivery)
            finally:
                if retry:
                    self._schedule_retry(job)
                else:
                    self._done()

    def _schedule_retry(self, job: Job) -> None:
        again = Job(job.org, job.channel_id, job.url, job.event, job.body, job.attempt + 1)
        timer = threading.Timer(self.retry_delay, self._queue.put, args=(again,))
        timer.daemon = True
        timer.start()

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1
            self._lock.notify_all()

    def _post(self, job: Job) -> Delivery:
        with self._lock:
            self._seq += 1
            seq = self._seq
        delivery = Delivery(
            seq=seq,
            org=job.org,
            channel_id=job.channel_id,
            url=job.url,
            event=job.event,
            body=job.body,
            attempt=job.attempt,
            sent_at=time.time(),
        )
        url, authorization = split_credentials(job.url)
        if urlsplit(url).scheme not in ("http", "https"):
            delivery.error = "ValueError: only http and https URLs are delivered to"
            return self._finish(delivery, time.monotonic())
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if authorization:
            headers["Authorization"] = authorization
        # The scheme was checked just above, so urlopen cannot be steered to file: URLs.
        request = urllib.request.Request(  # noqa: S310
            url, data=job.body.encode(), headers=headers, method="POST"
        )
        started = time.monotonic()
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                delivery.status = response.status
                delivery.response_body = response.read(RESPONSE_PREVIEW).decode(errors="replace")
        except urllib.error.HTTPError as exc:
            delivery.status = exc.code
            delivery.response_body = exc.read(RESPONSE_PREVIEW).decode(errors="replace")
        except (OSError, ValueError) as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
        return self._finish(delivery, started)

    def _finish(self, delivery: Delivery, started: float) -> Delivery:
        delivery.elapsed = time.monotonic() - started
        with self._lock:
            self._deliveries.append(delivery)
        return delivery
