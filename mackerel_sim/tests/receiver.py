"""A real HTTP server that collects the webhooks the simulator sends."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass
class Received:
    """One POST as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Behaviour:
    """How the receiver answers: status code and an optional delay."""

    status: int = 200
    delay: float = 0.0
    seen: list[Received] = field(default_factory=list)


class Receiver:
    """Listens on 127.0.0.1 at a free port; `url` is where webhooks should go."""

    def __init__(self) -> None:
        self.behaviour = Behaviour()
        self._cond = threading.Condition()
        behaviour, cond = self.behaviour, self._cond

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if behaviour.delay:
                    time.sleep(behaviour.delay)
                with cond:
                    behaviour.seen.append(
                        Received(self.path, dict(self.headers.items()), json.loads(raw))
                    )
                    cond.notify_all()
                self.send_response(behaviour.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/mackerel"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    @property
    def received(self) -> list[Received]:
        with self._cond:
            return list(self.behaviour.seen)

    def bodies(self, event: str | None = None) -> list[Any]:
        return [r.body for r in self.received if event is None or r.body.get("event") == event]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.behaviour.seen) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return list(self.behaviour.seen)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
