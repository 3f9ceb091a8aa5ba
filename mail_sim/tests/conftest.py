"""A running simulator per test, and a small real HTTP server standing in for a webhook receiver."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mail_sim import MailSimulator, ServerHandle

MAILGUN_KEY = "key-test-mailgun"
SENDGRID_KEY = "SG.test-sendgrid"
DOMAIN = "mg.tairyo.example"


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records webhook posts; `respond` decides the status code for each."""

    url: str
    requests: list[Received] = field(default_factory=list)
    respond: Callable[[Received], int] = lambda _request: 200
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise TimeoutError(f"receiver got {len(self.requests)} of {count} requests")
            return list(self.requests)


@pytest.fixture
def sim() -> MailSimulator:
    return MailSimulator(mailgun_api_key=MAILGUN_KEY, sendgrid_api_key=SENDGRID_KEY)


@pytest.fixture
def server(sim: MailSimulator) -> Iterator[ServerHandle]:
    with sim.serve() as handle:
        yield handle


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            status = state.respond(request)
            with state.arrived:
                state.requests.append(request)
                state.arrived.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join()
