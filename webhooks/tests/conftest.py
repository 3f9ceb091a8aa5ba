"""A real HTTP receiver on loopback (allowed explicitly, as staff would allow an internal host)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from accounts.models import Customer
from webhooks import planning, services
from webhooks.models import Subscription


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records what it receives; answers with the queued statuses, then 200."""

    url: str
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 -- the name http.server calls
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            state.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://localhost:{server.server_address[1]}/hooks/tairyo?x=1"
    settings.TAIRYO_WEBHOOK_ALLOWED_HOSTS = ["localhost"]
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def subscribed(acme: Customer, receiver: Receiver) -> tuple[Subscription, str]:
    """acme subscribed to every case event at the receiver; the planner's mark set."""
    planning.plan_pending()
    return services.create(acme, receiver.url, list(services.CASE_EVENTS))
