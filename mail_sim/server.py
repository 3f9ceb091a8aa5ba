"""The HTTP layer: a threaded stdlib server that hands each request to a dispatch function."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    """What a provider module needs from an HTTP request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lowercased names
    body: bytes

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


@dataclass
class Reply:
    """An HTTP answer; `drop` closes the connection without answering at all."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        return cls(
            status,
            json.dumps(payload).encode("utf-8"),
            {"Content-Type": "application/json", **(headers or {})},
        )

    @classmethod
    def text(cls, status: int, text: str, headers: dict[str, str] | None = None) -> Reply:
        return cls(
            status,
            text.encode("utf-8"),
            {"Content-Type": "text/plain; charset=utf-8", **(headers or {})},
        )


Dispatch = Callable[[Request], Reply]


class _Handler(BaseHTTPRequestHandler):
    """Reads the whole request, asks the dispatcher, writes the reply."""

    # HTTP/1.1 so requests.Session keeps its connection alive, as it does with the providers.
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        try:
            reply = self.server.dispatch(request)
        except Exception as err:  # a bug in the simulator answers 500 rather than hang the client
            reply = Reply.text(500, f"mail simulator error: {err!r}")
        if reply.drop:
            # Close without a status line: the client sees a reset/RemoteDisconnected.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a hang outlived its timeout); nothing left to tell it.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Tests start and stop servers quickly; don't wait out TIME_WAIT on a fixed port.
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatch: Dispatch, verbose: bool) -> None:
        self.dispatch = dispatch
        self.verbose = verbose
        super().__init__(address, _Handler)


class ServerHandle:
    """A running simulator server; `url` is its base, `stop()` (or leaving `with`) ends it."""

    def __init__(
        self,
        dispatch: Dispatch,
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self._server = _Server((host, port), dispatch, verbose)
        self._on_stop = on_stop
        self.host = host
        self.port: int = self._server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            # stop() waits up to one poll interval, and tests start a server per test.
            kwargs={"poll_interval": 0.01},
            name=f"mail-sim-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._on_stop:
            self._on_stop()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Block the calling thread until interrupted (for the CLI)."""
        try:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<mail_sim server {self.url}>"
