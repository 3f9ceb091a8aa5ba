"""The admin API under /_sim: inspect and drive the simulator over HTTP.

Every route calls the same `Simulator` method a Python caller would. No authentication unless the
simulator was given an admin token, which then must come in `X-Sim-Admin-Token`.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from mackerel_sim import scenarios
from mackerel_sim.errors import ApiError, bad_request
from mackerel_sim.routing import Request, Response, Router

if TYPE_CHECKING:
    from mackerel_sim.simulator import Simulator

TOKEN_HEADER = "X-Sim-Admin-Token"  # noqa: S105 - a header name, not a secret


def _body(req: Request) -> dict[str, Any]:
    body = req.json(empty={})
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    return body


def _ok(**extra: Any) -> Response:
    return Response({"success": True, **extra})


# --- state, organizations ------------------------------------------------------------------------


def health(sim: Simulator, req: Request) -> Response:
    return Response({"ok": True, "time": sim.now(), "organizations": len(sim.organizations())})


def get_state(sim: Simulator, req: Request) -> Response:
    return Response(sim.dump_state(include_metrics=req.one("metrics") == "true"))


def load_state(sim: Simulator, req: Request) -> Response:
    keys = sim.load_state(_body(req))
    return Response({"organizations": [k.to_json() for k in keys]})


def list_orgs(sim: Simulator, req: Request) -> Response:
    return Response({"organizations": [k.to_json() for k in sim.organizations()]})


def create_org(sim: Simulator, req: Request) -> Response:
    body = _body(req)
    keys = sim.add_organization(
        str(body.get("name", "")),
        display_name=body.get("displayName"),
        rw_key=body.get("rwKey"),
        ro_key=body.get("roKey"),
        default_host_status=body.get("defaultHostStatus", "working"),
        default_monitors=body.get("defaultMonitors", True),
    )
    return Response(keys.to_json())


def get_org(sim: Simulator, req: Request) -> Response:
    org = req.params[0]
    return Response({**sim.organization(org).to_json(), "faults": sim.faults(org)})


def create_service(sim: Simulator, req: Request) -> Response:
    body = _body(req)
    return Response(
        sim.add_service(req.params[0], str(body.get("name")), memo=body.get("memo", ""))
    )


def create_role(sim: Simulator, req: Request) -> Response:
    body = _body(req)
    org, service = req.params
    return Response(sim.add_role(org, service, str(body.get("name")), memo=body.get("memo", "")))


# --- hosts ---------------------------------------------------------------------------------------


def create_host(sim: Simulator, req: Request) -> Response:
    body = _body(req)
    host_id = sim.add_host(
        req.params[0],
        name=str(body.get("name")),
        roles=body.get("roles"),
        memo=body.get("memo", ""),
        custom_identifier=body.get("customIdentifier"),
        interfaces=body.get("interfaces"),
        status=body.get("status"),
        display_name=body.get("displayName"),
        meta=body.get("meta"),
    )
    return Response({"id": host_id})


def host_status(sim: Simulator, req: Request) -> Response:
    body, (org, host_id) = _body(req), req.params
    sim.set_host_status(org, host_id, str(body.get("status")), user=body.get("user"))
    return _ok()


def host_memo(sim: Simulator, req: Request) -> Response:
    org, host_id = req.params
    sim.set_host_memo(org, host_id, str(_body(req).get("memo", "")))
    return _ok()


def host_down(sim: Simulator, req: Request) -> Response:
    sim.host_down(*req.params)
    return _ok()


def host_up(sim: Simulator, req: Request) -> Response:
    sim.host_up(*req.params)
    return _ok()


def host_retire(sim: Simulator, req: Request) -> Response:
    sim.retire_host(*req.params, user=_body(req).get("user"))
    return _ok()


# --- monitors, alerts, downtimes, channels -------------------------------------------------------


def create_monitor(sim: Simulator, req: Request) -> Response:
    org = req.params[0]
    monitor_id = sim.add_monitor(org, _body(req))
    return Response(sim.monitor(org, monitor_id))


def open_alert(sim: Simulator, req: Request) -> Response:
    body, org = _body(req), req.params[0]
    alert_id = sim.open_alert(
        org,
        str(body.get("monitorId")),
        host_id=body.get("hostId"),
        status=body.get("status", "CRITICAL"),
        value=body.get("value"),
        message=body.get("message"),
        series=body.get("series"),
    )
    return Response(sim.alert(org, alert_id))


def alert_status(sim: Simulator, req: Request) -> Response:
    body = _body(req)
    alert = sim.change_alert(
        *req.params,
        status=str(body.get("status")),
        value=body.get("value"),
        message=body.get("message"),
    )
    return Response(alert)


def close_alert(sim: Simulator, req: Request) -> Response:
    body = _body(req)
    alert = sim.close_alert(
        *req.params,
        reason=body.get("reason", ""),
        manual=body.get("manual", True),
        user=body.get("user"),
    )
    return Response(alert)


def create_downtime(sim: Simulator, req: Request) -> Response:
    return Response({"id": sim.add_downtime(req.params[0], _body(req))})


def create_group_setting(sim: Simulator, req: Request) -> Response:
    return Response({"id": sim.add_alert_group_setting(req.params[0], _body(req))})


def create_channel(sim: Simulator, req: Request) -> Response:
    body, org = _body(req), req.params[0]
    channel_id = sim.add_webhook_channel(
        org,
        str(body.get("url")),
        body.get("events"),
        name=body.get("name"),
        enabled_graph_image=body.get("enabledGraphImage", False),
    )
    return Response(sim.channel(org, channel_id))


def delete_channel(sim: Simulator, req: Request) -> Response:
    sim.remove_channel(*req.params)
    return _ok()


def unsuspend_channel(sim: Simulator, req: Request) -> Response:
    sim.unsuspend_channel(*req.params)
    return _ok()


def send_sample(sim: Simulator, req: Request) -> Response:
    return Response({"queued": sim.send_sample(req.params[0], _body(req).get("channelId"))})


# --- faults --------------------------------------------------------------------------------------


def get_faults(sim: Simulator, req: Request) -> Response:
    return Response(sim.faults(req.params[0]))


def set_faults(sim: Simulator, req: Request) -> Response:
    body = _body(req)
    faults = sim.inject(
        req.params[0],
        latency=body.get("latency"),
        status=body.get("status"),
        count=body.get("count"),
        fraction=body.get("fraction"),
        rate_limit=body.get("rateLimit"),
        rate_limit_window=body.get("rateLimitWindow"),
        rate_limit_retry_after=body.get("retryAfter"),
        path_prefix=body.get("pathPrefix"),
    )
    return Response(faults)


def clear_faults(sim: Simulator, req: Request) -> Response:
    sim.clear_faults(req.params[0])
    return _ok()


# --- webhooks, clock, scenarios, demo ------------------------------------------------------------


def list_deliveries(sim: Simulator, req: Request) -> Response:
    since = int(req.one("since") or 0)
    found = sim.deliveries(
        org=req.one("org"), event=req.one("event"), channel_id=req.one("channelId")
    )
    return Response({"deliveries": [d.to_json() for d in found if d.seq > since]})


def clear_deliveries(sim: Simulator, req: Request) -> Response:
    sim.clear_deliveries()
    return _ok()


def flush_webhooks(sim: Simulator, req: Request) -> Response:
    idle = sim.wait_for_webhooks(float(_body(req).get("timeout", 5.0)))
    return Response({"idle": idle, "pending": sim.sender.pending})


def get_rate(sim: Simulator, req: Request) -> Response:
    return Response({"perSecond": sim.sender.rate, "pending": sim.sender.pending})


def set_rate(sim: Simulator, req: Request) -> Response:
    sim.set_webhook_rate(_body(req).get("perSecond"))
    return get_rate(sim, req)


def get_clock(sim: Simulator, req: Request) -> Response:
    return Response({"now": sim.now(), "speed": sim.clock.speed})


def set_clock(sim: Simulator, req: Request) -> Response:
    body = _body(req)
    if body.get("speed") is not None:
        sim.set_speed(float(body["speed"]))
    if body.get("advance"):
        sim.advance(float(body["advance"]))
    return get_clock(sim, req)


def list_scenarios(sim: Simulator, req: Request) -> Response:
    return Response(
        {
            "scenarios": [
                {"name": s.name, "description": s.description, "params": s.defaults}
                for s in scenarios.SCENARIOS.values()
            ]
        }
    )


def run_scenario(sim: Simulator, req: Request) -> Response:
    body = _body(req)
    wait = bool(body.pop("wait", False))
    run = sim.run_scenario(req.params[0], wait=wait, **body)
    return Response(run.to_json(include_plan=True))


def list_runs(sim: Simulator, req: Request) -> Response:
    return Response({"runs": [r.to_json() for r in sim.runs]})


def _run(sim: Simulator, run_id: str) -> scenarios.ScenarioRun:
    for run in sim.runs:
        if run.id == run_id:
            return run
    raise ApiError(404, "Run Not Found.")


def get_run(sim: Simulator, req: Request) -> Response:
    return Response(_run(sim, req.params[0]).to_json(include_plan=True))


def stop_run(sim: Simulator, req: Request) -> Response:
    _run(sim, req.params[0]).stop()
    return _ok()


def build_demo(sim: Simulator, req: Request) -> Response:
    body = _body(req)
    orgs = body.get("orgs")
    if not isinstance(orgs, list) or not all(isinstance(o, str) for o in orgs):
        raise bad_request("orgs must be an array of organization names")
    keys = sim.build_demo(
        orgs,
        hosts_per_org=int(body.get("hostsPerOrg", 12)),
        webhook_url=body.get("webhookUrl"),
        webhook_events=body.get("webhookEvents"),
    )
    return Response({"organizations": [k.to_json() for k in keys]})


def list_requests(sim: Simulator, req: Request) -> Response:
    return Response({"requests": sim.requests(req.one("org"))})


def build_router() -> Router[Simulator]:
    r: Router[Simulator] = Router()
    org = "/_sim/orgs/{}"
    r.add("GET", "/_sim/health", health)
    r.add("GET", "/_sim/state", get_state)
    r.add("POST", "/_sim/state", load_state)
    r.add("GET", "/_sim/orgs", list_orgs)
    r.add("POST", "/_sim/orgs", create_org)
    r.add("GET", org, get_org)
    r.add("POST", f"{org}/services", create_service)
    r.add("POST", f"{org}/services/{{}}/roles", create_role)
    r.add("POST", f"{org}/hosts", create_host)
    r.add("POST", f"{org}/hosts/{{}}/status", host_status)
    r.add("POST", f"{org}/hosts/{{}}/memo", host_memo)
    r.add("POST", f"{org}/hosts/{{}}/down", host_down)
    r.add("POST", f"{org}/hosts/{{}}/up", host_up)
    r.add("POST", f"{org}/hosts/{{}}/retire", host_retire)
    r.add("POST", f"{org}/monitors", create_monitor)
    r.add("POST", f"{org}/alerts", open_alert)
    r.add("POST", f"{org}/alerts/{{}}/status", alert_status)
    r.add("POST", f"{org}/alerts/{{}}/close", close_alert)
    r.add("POST", f"{org}/downtimes", create_downtime)
    r.add("POST", f"{org}/alert-group-settings", create_group_setting)
    r.add("POST", f"{org}/channels", create_channel)
    r.add("DELETE", f"{org}/channels/{{}}", delete_channel)
    r.add("POST", f"{org}/channels/{{}}/unsuspend", unsuspend_channel)
    r.add("POST", f"{org}/sample", send_sample)
    r.add("GET", f"{org}/faults", get_faults)
    r.add("POST", f"{org}/faults", set_faults)
    r.add("DELETE", f"{org}/faults", clear_faults)
    r.add("GET", "/_sim/webhooks/deliveries", list_deliveries)
    r.add("DELETE", "/_sim/webhooks/deliveries", clear_deliveries)
    r.add("POST", "/_sim/webhooks/flush", flush_webhooks)
    r.add("GET", "/_sim/webhooks/rate", get_rate)
    r.add("POST", "/_sim/webhooks/rate", set_rate)
    r.add("GET", "/_sim/clock", get_clock)
    r.add("POST", "/_sim/clock", set_clock)
    r.add("GET", "/_sim/scenarios", list_scenarios)
    r.add("POST", "/_sim/scenarios/{}", run_scenario)
    r.add("GET", "/_sim/runs", list_runs)
    r.add("GET", "/_sim/runs/{}", get_run)
    r.add("POST", "/_sim/runs/{}/stop", stop_run)
    r.add("POST", "/_sim/demo", build_demo)
    r.add("GET", "/_sim/requests", list_requests)
    return r


def handle(sim: Simulator, router: Router[Simulator], req: Request) -> Response:
    if sim.admin_token is not None:
        given = req.headers.get(TOKEN_HEADER) or ""
        if not hmac.compare_digest(given.encode(), sim.admin_token.encode()):
            return Response({"error": {"message": "admin token required"}}, 401)
    match = router.match(req.method, req.path)
    if match is None:
        return Response({"error": {"message": "Not found."}}, 404)
    route, req.params = match
    try:
        return route.handler(sim, req)
    except ApiError as exc:
        return Response(exc.body(), exc.status, exc.headers)
    except KeyError as exc:
        return Response({"error": {"message": f"not found: {exc.args[0]}"}}, 404)
    except (ValueError, TypeError) as exc:
        return Response({"error": {"message": str(exc)}}, 400)
