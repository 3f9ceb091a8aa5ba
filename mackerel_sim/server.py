"""The HTTP side: a threaded server answering Mackerel's API and the admin API under /_sim."""

from __future__ import annotations

import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from mackerel_sim import admin, api
from mackerel_sim.errors import ApiError
from mackerel_sim.routing import Request, Response, Router
from mackerel_sim.state import World

if TYPE_CHECKING:
    from mackerel_sim.simulator import Simulator

ADMIN_PREFIX = "/_sim"
UNAUTHORIZED = "Authentication failed. Please try with valid Api Key."
MAX_BODY = 10 * 1024 * 1024


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response({"error": {"message": message}}, status, headers or {})


class MackerelApp:
    """Turns a request into a response: routing, keys, permissions, faults, then the handler."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.api: Router[World] = api.build_router()
        self.admin: Router[Simulator] = admin.build_router()

    def handle(self, req: Request) -> Response:
        if req.path == ADMIN_PREFIX or req.path.startswith(ADMIN_PREFIX + "/"):
            return admin.handle(self.sim, self.admin, req)
        return self._handle_api(req)

    def _handle_api(self, req: Request) -> Response:
        world = self.sim.world
        # Unknown paths are 404 even without a key, as on the real service (§12.1).
        match = self.api.match(req.method, req.path)
        if match is None:
            return _error(404, "Not found.")
        route, req.params = match
        with world.lock:
            entry = world.keys.get(req.headers.get("X-Api-Key") or "")
            if entry is None:
                return _error(401, UNAUTHORIZED)
            req.org, req.can_write = entry
            if route.write and not req.can_write:
                return _error(403, "Permission denied. This API key has no write permission.")
            decision = req.org.faults.decide(req.path)
        if decision.latency:
            time.sleep(decision.latency)
        if decision.status is not None:
            return _error(decision.status, decision.message, decision.headers)
        with world.lock:
            try:
                return route.handler(world, req)
            except ApiError as exc:
                return Response(exc.body(), exc.status, exc.headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    app: MackerelApp
    quiet: bool


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, lets the app answer it, writes JSON back."""

    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes; with Nagle on, each response waits ~40 ms for an ACK.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - names required by BaseHTTPRequestHandler
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def do_PUT(self) -> None:  # noqa: N802
        self._handle()

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle()

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        if not self.server.quiet:
            super().log_message(format, *args)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ApiError(413, "Request Entity Too Large")
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        started = time.monotonic()
        target = urlsplit(self.path)
        req = Request(
            method=self.command,
            path=target.path,
            query=parse_qs(target.query, keep_blank_values=True),
            headers=self.headers,
            body=b"",
        )
        try:
            req.body = self._read_body()
            response = self.server.app.handle(req)
        except ApiError as exc:
            # The body was not read, so the connection cannot carry another request.
            self.close_connection = True
            response = Response(exc.body(), exc.status, exc.headers)
        except Exception:  # a bug must not kill the connection silently
            traceback.print_exc(file=sys.stderr)
            response = _error(500, "Internal Server Error")
        payload = response.encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        self.server.app.sim.record_request(req, response.status, time.monotonic() - started)


class ServerHandle:
    """A running simulator server. `url` is the base URL, e.g. http://127.0.0.1:PORT."""

    def __init__(self, server: _Server, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        host, port = server.server_address[:2]
        self.host = str(host)
        self.port = int(port)
        self.url = f"http://{self.host}:{self.port}"
        self._stopped = False

    def stop(self) -> None:
        """Stop serving; calling it again does nothing."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    sim: Simulator, *, host: str = "127.0.0.1", port: int = 0, quiet: bool = True
) -> ServerHandle:
    server = _Server((host, port), _Handler)
    server.app = MackerelApp(sim)
    server.quiet = quiet
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.01},
        name="mackerel-sim-http",
        daemon=True,
    )
    thread.start()
    return ServerHandle(server, thread)
