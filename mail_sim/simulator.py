"""`MailSimulator`: the provider as a whole; send APIs, faults, recorded messages and events."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from typing import Protocol
from urllib.parse import unquote

from mail_sim import admin, mailgun, sendgrid
from mail_sim.faults import Fault, FaultPlan
from mail_sim.server import Reply, Request, ServerHandle
from mail_sim.store import MessageStore, ReceivedMessage
from mail_sim.tracking import (
    Dispatcher,
    EventDelivery,
    EventPost,
    Outcome,
    TrackingConfig,
    deliver,
    events_for,
    normalize_event,
)

DEFAULT_MAILGUN_API_KEY = "key-mailsim"
DEFAULT_SENDGRID_API_KEY = "SG.mailsim"
_MAILGUN_SEND = re.compile(r"^/v3/([^/]+)/messages$")
_SENDGRID_SEND = "/v3/mail/send"
_Handled = tuple[Reply, ReceivedMessage | None]


class _Provider(Protocol):
    """How a provider module answers when a fault stands in for the real send."""

    def error_reply(self, status: int) -> Reply: ...

    def rate_limit_reply(self, retry_after: int) -> Reply: ...


class MailSimulator:
    """A fake Mailgun and SendGrid for anymail, held in memory and served over HTTP.

    Pass `None` as a key to accept any key. `mailgun_domains`, when given, makes other
    sending domains answer 404 "Domain not found", as Mailgun does.
    """

    def __init__(
        self,
        *,
        mailgun_api_key: str | None = DEFAULT_MAILGUN_API_KEY,
        sendgrid_api_key: str | None = DEFAULT_SENDGRID_API_KEY,
        mailgun_domains: Iterable[str] | None = None,
        on_message: Callable[[ReceivedMessage], None] | None = None,
        on_event: Callable[[EventDelivery], None] | None = None,
    ) -> None:
        self.mailgun_api_key = mailgun_api_key
        self.sendgrid_api_key = sendgrid_api_key
        self.mailgun_domains = None if mailgun_domains is None else frozenset(mailgun_domains)
        self.on_message = on_message
        self.on_event = on_event
        self.faults = FaultPlan()
        self.tracking = TrackingConfig(auto=False)
        self.outcomes: tuple[Outcome, ...] = ()
        self._store = MessageStore()
        self._events: list[EventDelivery] = []
        self._events_lock = threading.Lock()
        self._dispatcher = Dispatcher(self._record_event)

    def serve(self, host: str = "127.0.0.1", port: int = 0, verbose: bool = False) -> ServerHandle:
        """Serve on a background thread; `port=0` picks a free port (see `.url`)."""
        return ServerHandle(self.dispatch, host, port, verbose, on_stop=self.faults.release)

    @property
    def messages(self) -> list[ReceivedMessage]:
        return self._store.all()

    @property
    def events(self) -> list[EventDelivery]:
        with self._events_lock:
            return list(self._events)

    def wait_for_messages(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Block until at least `count` messages have arrived (for code that sends in a worker)."""
        return self._store.wait_for(lambda messages: len(messages) >= count, timeout)

    def find(self, message_id: str) -> ReceivedMessage | None:
        """The message with this provider id, or with this per-recipient anymail id."""
        return self._store.find(message_id)

    def clear(self) -> None:
        """Forget messages, event deliveries and pending faults; keep keys and tracking setup."""
        self.clear_messages()
        self.clear_faults()

    def clear_messages(self) -> None:
        """Forget received messages and the event deliveries made for them."""
        self._store.clear()
        with self._events_lock:
            self._events.clear()

    def clear_faults(self) -> None:
        self.faults.clear()

    # Faults: each send request takes at most one, see FaultPlan.

    def fail_next(self, n: int = 1, status: int = 503) -> None:
        self.faults.add_count("status", n, status=status)

    def fail_for(self, seconds: float, status: int = 503) -> None:
        self.faults.add_window("status", seconds, status=status)

    def hang_next(self, n: int = 1, seconds: float = 30.0, accept: bool = False) -> None:
        """Hold the next `n` requests for `seconds`, then answer 503 (or accept, if `accept`).

        `accept=True` is the nasty case: the client timed out, but the mail went out.
        """
        self.faults.add_count("hang", n, seconds=seconds, accept=accept)

    def rate_limit_next(self, n: int = 1, retry_after: int = 1) -> None:
        self.faults.add_count("rate_limit", n, retry_after=retry_after)

    def disconnect_next(self, n: int = 1) -> None:
        """Close the connection on the next `n` requests without answering."""
        self.faults.add_count("disconnect", n)

    def add_fault(self, fault: Fault) -> None:
        self.faults.add(fault)

    def configure_tracking(
        self,
        url: str | None = None,
        *,
        mailgun_url: str | None = None,
        sendgrid_url: str | None = None,
        mailgun_signing_key: str | None = None,
        basic_auth: str | None = None,
        bounce_pattern: str | None = None,
        auto: bool = True,
        delay: float = TrackingConfig.delay,
        timeout: float = TrackingConfig.timeout,
        retries: int = TrackingConfig.retries,
        retry_delay: float = TrackingConfig.retry_delay,
    ) -> None:
        """Post delivery events to anymail's tracking webhook(s).

        Without `mailgun_signing_key`, Mailgun events are signed with the Mailgun API key,
        which is also anymail's fallback for MAILGUN_WEBHOOK_SIGNING_KEY. `basic_auth` (or
        `user:pass@` in the URL) is anymail's WEBHOOK_SECRET.
        """
        self.tracking = TrackingConfig(
            url=url,
            mailgun_url=mailgun_url,
            sendgrid_url=sendgrid_url,
            mailgun_signing_key=mailgun_signing_key,
            basic_auth=basic_auth,
            auto=auto,
            delay=delay,
            timeout=timeout,
            retries=retries,
            retry_delay=retry_delay,
        )
        if bounce_pattern:
            self.set_outcome(bounce_pattern, "bounced")

    def set_outcome(self, pattern: str, *events: str) -> None:
        """Recipients matching `pattern` produce these events instead of `delivered`.

        E.g. `set_outcome("*@slow.invalid", "deferred", "delivered")`. Earlier rules win.
        """
        normalized = tuple(normalize_event(event) for event in events or ("delivered",))
        self.outcomes = (*self.outcomes, Outcome(pattern, normalized))

    def reject_recipients(self, pattern: str) -> None:
        """Accept mail to matching recipients, then report them rejected (Mailgun `rejected`,
        SendGrid `dropped`): neither provider refuses a valid address at send time."""
        self.set_outcome(pattern, "rejected")

    def clear_outcomes(self) -> None:
        self.outcomes = ()

    def send_event(
        self, message_id: str, event: str = "delivered", recipient: str | None = None
    ) -> list[EventDelivery]:
        """Post one event now, for every recipient of the message or just `recipient`."""
        message = self._store.find(message_id)
        if message is None:
            raise KeyError(f"mail simulator has no message {message_id!r}")
        url = self.tracking.url_for(message.provider)
        if url is None:
            raise RuntimeError("call configure_tracking(url=...) before sending events")
        recipients = [recipient] if recipient else message.recipients
        posts = self._build_events(message, normalize_event(event), recipients)
        deliveries = [deliver(post, url, self.tracking) for post in posts]
        for delivery in deliveries:
            self._record_event(delivery)
        return deliveries

    def flush_events(self, timeout: float = 5.0) -> list[EventDelivery]:
        """Wait until every automatic event has been posted; return all deliveries so far."""
        self._dispatcher.flush(timeout)
        return self.events

    # HTTP entry point (ServerHandle calls this from its request threads).

    def dispatch(self, request: Request) -> Reply:
        if request.path.startswith("/_sim/"):
            return admin.handle(self, request)
        if request.method == "POST" and request.path == _SENDGRID_SEND:
            return self._send(
                sendgrid, lambda: sendgrid.handle_send(request, api_key=self.sendgrid_api_key)
            )
        mailgun_send = _MAILGUN_SEND.match(request.path)
        if request.method == "POST" and mailgun_send:
            domain = unquote(mailgun_send.group(1))
            return self._send(
                mailgun,
                lambda: mailgun.handle_send(
                    request, domain, api_key=self.mailgun_api_key, domains=self.mailgun_domains
                ),
            )
        return _unknown_route(request)

    def _send(self, provider: _Provider, handle: Callable[[], _Handled]) -> Reply:
        fault = self.faults.take()
        if fault is not None and (reply := self._fault_reply(fault, provider)) is not None:
            return reply
        reply, message = handle()
        if message is not None:
            self._accept(message)
        return reply

    def _fault_reply(self, fault: Fault, provider: _Provider) -> Reply | None:
        if fault.kind == "disconnect":
            return Reply(0, drop=True)
        if fault.kind == "rate_limit":
            return provider.rate_limit_reply(fault.retry_after)
        if fault.kind == "hang":
            self.faults.sleep(fault.seconds)
            if fault.accept:
                return None
        return provider.error_reply(fault.status)

    def _accept(self, message: ReceivedMessage) -> None:
        self._store.add(message)
        if self.on_message:
            self.on_message(message)
        config = self.tracking
        url = config.url_for(message.provider)
        if not (config.auto and url):
            return
        # Group recipients by their n-th event, so a `deferred, delivered` outcome posts all
        # deferrals before any delivery, as a provider's retry schedule would.
        plans = {
            recipient: events_for(recipient, self.outcomes) for recipient in message.recipients
        }
        for step in range(max(len(events) for events in plans.values())):
            by_event: dict[str, list[str]] = {}
            for recipient, events in plans.items():
                if step < len(events):
                    by_event.setdefault(events[step], []).append(recipient)
            for event, recipients in by_event.items():
                self._dispatcher.enqueue(
                    self._build_events(message, event, recipients), url, config
                )

    def _build_events(
        self, message: ReceivedMessage, event: str, recipients: list[str]
    ) -> list[EventPost]:
        if message.provider == sendgrid.PROVIDER:
            return sendgrid.build_events(message, event, recipients)
        key = self.tracking.mailgun_signing_key or self.mailgun_api_key or ""
        return mailgun.build_events(message, event, recipients, signing_key=key)

    def _record_event(self, delivery: EventDelivery) -> None:
        with self._events_lock:
            self._events.append(delivery)
        if self.on_event:
            self.on_event(delivery)


def _unknown_route(request: Request) -> Reply:
    if request.path.startswith("/v3/") and request.method == "POST":
        # What Mailgun answers for a mistyped endpoint; anymail turns it into a clear error.
        return Reply.text(200, "Mailgun Magnificent API")
    return Reply.json(404, {"message": f"mail simulator: no route {request.method} {request.path}"})
