"""The admin HTTP API under `/_sim/`: inspect messages and events, inject faults, set up tracking.

It has no authentication: the simulator listens on loopback for tests and demos only.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from mail_sim.faults import Fault
from mail_sim.server import Reply, Request
from mail_sim.tracking import TrackingConfig

if TYPE_CHECKING:
    from mail_sim.simulator import MailSimulator

_TRACKING_FIELDS = set(TrackingConfig.__dataclass_fields__) | {"bounce_pattern"}


class _BadRequest(ValueError):
    """The admin request body is not what the route expects."""


def handle(sim: MailSimulator, request: Request) -> Reply:
    route = request.path.removeprefix("/_sim/").rstrip("/")
    try:
        return _route(sim, request, route)
    except _BadRequest as err:
        return Reply.json(400, {"error": str(err)})


def _route(sim: MailSimulator, request: Request, route: str) -> Reply:  # noqa: PLR0911 - a routing table
    method = request.method
    if route == "health" and method == "GET":
        return Reply.json(200, {"ok": True})
    if route == "messages" and method == "GET":
        return Reply.json(200, _messages(sim, request))
    if route == "messages" and method == "DELETE":
        sim.clear_messages()
        return Reply(204)
    if route.startswith("messages/") and method == "GET":
        message = sim.find(unquote(route.removeprefix("messages/")))
        if message is None:
            return Reply.json(404, {"error": "no such message"})
        return Reply.json(200, message.as_json())
    if route == "faults":
        return _faults(sim, request)
    if route == "events" and method == "GET":
        return Reply.json(200, {"events": [delivery.as_json() for delivery in sim.events]})
    if route == "events" and method == "POST":
        return _send_event(sim, _body(request))
    if route == "tracking":
        return _tracking(sim, request)
    if route == "outcomes":
        return _outcomes(sim, request)
    if route == "reset" and method == "POST":
        sim.clear()
        return Reply(204)
    return Reply.json(404, {"error": f"no admin route {method} /_sim/{route}"})


def _messages(sim: MailSimulator, request: Request) -> dict[str, Any]:
    messages = sim.messages
    if provider := request.query.get("provider", [""])[0]:
        messages = [m for m in messages if m.provider == provider]
    if recipient := request.query.get("to", [""])[0].lower():
        messages = [m for m in messages if recipient in (r.lower() for r in m.recipients)]
    return {"count": len(messages), "messages": [m.as_json() for m in messages]}


def _faults(sim: MailSimulator, request: Request) -> Reply:
    if request.method == "POST":
        try:
            sim.add_fault(_fault(_body(request)))
        except ValueError as err:
            raise _BadRequest(str(err)) from err
    elif request.method == "DELETE":
        sim.clear_faults()
        return Reply(204)
    return Reply.json(200, {"faults": sim.faults.snapshot()})


def _fault(body: dict[str, Any]) -> Fault:
    """`{"kind": "status", "count": 3, "status": 503}`; `window_seconds` instead of `count`
    for an outage; `retry_after` for rate_limit; `seconds` and `accept` for hang."""
    window = body.get("window_seconds")
    try:
        fault = Fault(
            kind=body.get("kind", "status"),
            remaining=None if window is not None else int(body.get("count", 1)),
            until=None if window is None else time.monotonic() + float(window),
            status=int(body.get("status", 503)),
            retry_after=int(body.get("retry_after", 1)),
            seconds=float(body.get("seconds", 30.0)),
            accept=bool(body.get("accept", False)),
        )
    except (TypeError, ValueError) as err:
        raise _BadRequest(str(err)) from err
    return fault


def _send_event(sim: MailSimulator, body: dict[str, Any]) -> Reply:
    try:
        deliveries = sim.send_event(
            body["message_id"], body.get("event", "delivered"), body.get("recipient")
        )
    except KeyError as err:
        return Reply.json(404, {"error": str(err)})
    except (RuntimeError, ValueError) as err:
        raise _BadRequest(str(err)) from err
    return Reply.json(200, {"events": [delivery.as_json() for delivery in deliveries]})


def _tracking(sim: MailSimulator, request: Request) -> Reply:
    if request.method in ("POST", "PUT"):
        body = _body(request)
        unknown = set(body) - _TRACKING_FIELDS
        if unknown:
            raise _BadRequest(f"unknown tracking settings: {sorted(unknown)}")
        try:
            sim.configure_tracking(**body)
        except (TypeError, ValueError) as err:
            raise _BadRequest(str(err)) from err
    config = sim.tracking
    return Reply.json(200, {name: getattr(config, name) for name in config.__dataclass_fields__})


def _outcomes(sim: MailSimulator, request: Request) -> Reply:
    if request.method == "POST":
        body = _body(request)
        if "pattern" not in body:
            raise _BadRequest("an outcome needs a pattern")
        try:
            sim.set_outcome(body["pattern"], *body.get("events", ["delivered"]))
        except ValueError as err:
            raise _BadRequest(str(err)) from err
    elif request.method == "DELETE":
        sim.clear_outcomes()
        return Reply(204)
    outcomes = [{"pattern": o.pattern, "events": list(o.events)} for o in sim.outcomes]
    return Reply.json(200, {"outcomes": outcomes})


def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError as err:
        raise _BadRequest("body is not JSON") from err
    if not isinstance(body, dict):
        raise _BadRequest("body must be a JSON object")
    return body
