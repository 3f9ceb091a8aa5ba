"""Scripted scenarios: a plan of timed steps drawn from the seed, then played on the clock.

Planning is a pure function of the seed, the parameters and the world, so the same seed gives
the same plan; playing it at speed 0 (frozen clock) also gives the same webhooks, byte for byte.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mackerel_sim import demo
from mackerel_sim.state import JSON

if TYPE_CHECKING:
    from mackerel_sim.simulator import Simulator


@dataclass(frozen=True)
class Step:
    """One action at `at` simulated seconds after the scenario starts.

    String arguments starting with "@" name an object created earlier in the run.
    """

    at: float
    action: str
    org: str
    args: JSON = field(default_factory=dict)

    def to_json(self) -> JSON:
        return {"at": self.at, "action": self.action, "org": self.org, "args": self.args}


@dataclass
class Host:
    """What planning needs to know about a host."""

    org: str
    id: str
    name: str
    roles: list[str]


class Planner:
    """The world as planning sees it, plus the scenario's own random generator."""

    def __init__(self, sim: Simulator, name: str, params: JSON) -> None:
        self.sim = sim
        self.rng = random.Random(f"{sim.seed}:{name}:{json.dumps(params, sort_keys=True)}")
        self.params = params
        with sim.world.lock:
            self.orgs = sorted(sim.world.orgs)
            self.hosts = sorted(
                (
                    Host(o.name, h.id, h.name, [f"{s}:{r}" for s, r in h.role_pairs()])
                    for o in sim.world.orgs.values()
                    for h in o.hosts.values()
                    if not h.is_retired and h.status == "working" and h.reachable
                ),
                key=lambda h: (h.org, h.name, h.id),
            )

    def pick_host(self) -> Host:
        org, host_id = self.params.get("org"), self.params.get("host")
        candidates = [
            h for h in self.hosts if (org is None or h.org == org) and host_id in (None, h.id)
        ]
        if not candidates:
            raise ValueError("no working host matches the scenario's org/host")
        return self.rng.choice(candidates)

    def pick_org(self) -> str:
        org = self.params.get("org")
        if org is not None:
            if org not in self.orgs:
                raise ValueError(f"no organization named {org!r}")
            return str(org)
        if not self.orgs:
            raise ValueError("the simulator has no organization")
        return self.rng.choice(self.orgs)


# --- plans -----------------------------------------------------------------------------------


def plan_host_down_up(p: Planner) -> list[Step]:
    host = p.pick_host()
    return [
        Step(0, "host_down", host.org, {"hostId": host.id}),
        Step(float(p.params["down_for"]), "host_up", host.org, {"hostId": host.id}),
    ]


def plan_flapping(p: Planner) -> list[Step]:
    host = p.pick_host()
    metric, threshold = str(p.params["metric"]), float(p.params["threshold"])
    period = float(p.params["period"])
    monitor = {
        "type": "host",
        "name": f"flapping {metric}",
        "memo": "値が閾値付近で揺れています / value flapping around the threshold",
        "metric": metric,
        "operator": ">",
        "warning": threshold * 0.8,
        "critical": threshold,
        "duration": 1,
        "maxCheckAttempts": 1,
        "scopes": [],
        "excludeScopes": [],
    }
    steps = [Step(0, "ensure_monitor", host.org, {"label": "flapping", "body": monitor})]
    for n in range(int(p.params["flaps"])):
        high = round(p.rng.uniform(threshold + 1, threshold * 1.2 + 1), 2)
        low = round(p.rng.uniform(0, threshold * 0.5), 2)
        steps.append(
            Step(
                n * 2 * period,
                "post_metric",
                host.org,
                {"hostId": host.id, "name": metric, "value": high},
            )
        )
        steps.append(
            Step(
                (n * 2 + 1) * period,
                "post_metric",
                host.org,
                {"hostId": host.id, "name": metric, "value": low},
            )
        )
    return steps


def plan_cron_failure(p: Planner) -> list[Step]:
    host = p.pick_host()
    name = str(p.params["name"])
    report = {
        "hostId": host.id,
        "name": name,
        "notificationInterval": p.params["notification_interval"],
    }
    steps = [
        Step(
            0,
            "check_report",
            host.org,
            {
                **report,
                "status": "CRITICAL",
                "message": "command exited with code: 1\n% /usr/local/bin/backup.sh --full",
            },
        )
    ]
    if p.params["recover_after"] is not None:
        steps.append(
            Step(
                float(p.params["recover_after"]),
                "check_report",
                host.org,
                {
                    **report,
                    "status": "OK",
                    "message": "command exited with code: 0",
                },
            )
        )
    return steps


def plan_memo_change(p: Planner) -> list[Step]:
    host = p.pick_host()
    memo = p.params["memo"]
    if memo is None:
        memo = p.rng.choice([m for m in demo.HOST_MEMOS if m])
    return [Step(0, "set_memo", host.org, {"hostId": host.id, "memo": memo})]


def plan_register_retire(p: Planner) -> list[Step]:
    org = p.pick_org()
    with p.sim.world.lock:
        services = p.sim.world.org(org).services
        roles = [f"{s.name}:{r}" for s in services.values() for r in s.roles]
    number = demo.next_vm_number(p.sim)
    interval, retire_after = float(p.params["interval"]), p.params["retire_after"]
    steps = []
    for n in range(int(p.params["count"])):
        name = demo.host_name(number + n)
        steps.append(
            Step(
                n * interval,
                "register_host",
                org,
                {
                    "label": name,
                    "name": name,
                    "roles": [p.rng.choice(roles)] if roles else [],
                    "memo": p.rng.choice(demo.HOST_MEMOS),
                    "interfaces": [
                        {"name": "eth0", "ipAddress": demo.documentation_ipv4(number + n)}
                    ],
                },
            )
        )
        if retire_after is not None:
            steps.append(
                Step(float(retire_after) + n * interval, "retire_host", org, {"hostId": f"@{name}"})
            )
    return steps


def plan_network_outage(p: Planner) -> list[Step]:
    """N hosts across M organizations go unreachable within S seconds, then come back."""
    orgs = p.orgs
    wanted_orgs = p.params["orgs"]
    if wanted_orgs is not None:
        orgs = sorted(p.rng.sample(orgs, min(int(wanted_orgs), len(orgs))))
    pool = [h for h in p.hosts if h.org in orgs]
    chosen = p.rng.sample(pool, min(int(p.params["hosts"]), len(pool)))
    within = float(p.params["within"])
    recover_within = float(
        p.params["recover_within"] if p.params["recover_within"] is not None else within
    )
    steps = []
    if p.params["rate"] is not None:
        steps.append(Step(0, "set_rate", "", {"perSecond": p.params["rate"]}))
    for host in chosen:
        down = round(p.rng.uniform(0, within), 3)
        up = round(float(p.params["down_for"]) + p.rng.uniform(0, recover_within), 3)
        steps.append(Step(down, "host_down", host.org, {"hostId": host.id}))
        steps.append(Step(max(up, down), "host_up", host.org, {"hostId": host.id}))
    return steps


def plan_demo_background(p: Planner) -> list[Step]:
    """Now and then one host goes down for a few minutes: a calm day for the demo."""
    steps: list[Step] = []
    if not p.hosts:
        return steps
    every, duration = float(p.params["every"]), float(p.params["duration"])
    t = p.rng.uniform(0.2, 1.0) * every
    while t < duration:
        host = p.rng.choice(p.hosts)
        down_for = p.rng.uniform(float(p.params["down_min"]), float(p.params["down_max"]))
        steps.append(Step(round(t, 3), "host_down", host.org, {"hostId": host.id}))
        steps.append(Step(round(t + down_for, 3), "host_up", host.org, {"hostId": host.id}))
        t += p.rng.uniform(0.5, 1.5) * every
    return sorted(steps, key=lambda s: s.at)


def plan_every_event(p: Planner) -> list[Step]:
    """One webhook of every kind, and an alert of every monitor type, in one organization."""
    org = p.pick_org()
    svc, role = "events", "app"
    name = demo.host_name(demo.next_vm_number(p.sim))
    scope = f"{svc}:{role}"
    monitors: list[tuple[str, JSON]] = [
        (
            "host",
            {
                "type": "host",
                "name": "events cpu",
                "memo": "CPU",
                "metric": "custom.events.cpu",
                "operator": ">",
                "warning": 70,
                "critical": 90.5,
                "duration": 1,
                "maxCheckAttempts": 1,
                "notificationInterval": 10,
                "scopes": [svc],
            },
        ),
        (
            "connectivity",
            {
                "type": "connectivity",
                "name": "events connectivity",
                "scopes": [scope],
                "alertStatusOnGone": "WARNING",
            },
        ),
        (
            "service",
            {
                "type": "service",
                "name": "events - requests",
                "service": svc,
                "metric": "custom.events.requests",
                "operator": "<",
                "warning": 10,
                "critical": 2.5,
                "duration": 1,
                "missingDurationCritical": 60,
            },
        ),
        (
            "external",
            {
                "type": "external",
                "name": "events top page",
                "service": svc,
                "url": "https://www.example.com/",
                "method": "GET",
                "headers": [{"name": "Cache-Control", "value": "no-cache"}],
                "certificationExpirationWarning": 30,
                "followRedirect": True,
            },
        ),
        (
            "expression",
            {
                "type": "expression",
                "name": "events load",
                "expression": f'avg(roleSlots("{scope}","loadavg5"))',
                "operator": ">",
                "warning": 0.5,
                "critical": 1,
            },
        ),
        (
            "anomalyDetection",
            {
                "type": "anomalyDetection",
                "name": "events anomaly",
                "scopes": [f"{svc}: {role}"],
                "warningSensitivity": "normal",
            },
        ),
        (
            "query",
            {
                "type": "query",
                "name": "events query",
                "legend": "cpu {{host}}",
                "query": 'container.cpu.utilization{service="events"}',
                "operator": ">",
                "warning": 50,
                "critical": 80.5,
            },
        ),
        (
            "grouped",
            {
                "type": "host",
                "name": "events grouped",
                "metric": "custom.events.grouped",
                "operator": ">",
                "critical": 1,
                "duration": 1,
                "scopes": [svc],
            },
        ),
    ]
    steps = [
        Step(0, "ensure_role", org, {"service": svc, "role": role}),
        Step(
            0,
            "register_host",
            org,
            {
                "label": "events-host",
                "name": name,
                "roles": [scope],
                "memo": "イベント確認用 / event test host",
                "interfaces": [{"name": "eth0", "ipAddress": "192.0.2.250"}],
            },
        ),
    ]
    steps += [
        Step(1, "ensure_monitor", org, {"label": label, "body": body}) for label, body in monitors
    ]
    steps.append(
        Step(1, "update_monitor", org, {"label": "host", "changes": {"memo": "CPU usage"}})
    )
    steps.append(
        Step(
            1,
            "add_group_setting",
            org,
            {"body": {"name": "events group", "memo": "", "monitorScopes": ["@grouped"]}},
        )
    )
    opens: list[tuple[str, JSON]] = [
        ("connectivity", {"hostId": "@events-host", "status": "WARNING"}),
        ("host", {"hostId": "@events-host", "status": "CRITICAL", "value": 95.25}),
        ("service", {"status": "CRITICAL", "value": 1.5}),
        ("external", {"status": "CRITICAL", "message": "HTTP request failed - status is 500"}),
        ("expression", {"status": "WARNING", "value": 0.75}),
        ("anomalyDetection", {"hostId": "@events-host", "status": "CRITICAL"}),
        (
            "query",
            {
                "status": "CRITICAL",
                "value": 85.5,
                "series": {"name": "container.cpu.utilization", "labels": {"host": name}},
            },
        ),
        ("grouped", {"hostId": "@events-host", "status": "CRITICAL", "value": 3}),
    ]
    for label, args in opens:
        steps.append(
            Step(
                2, "open_alert", org, {"label": f"alert-{label}", "monitorId": f"@{label}", **args}
            )
        )
    steps.append(
        Step(
            2,
            "check_report",
            org,
            {
                "hostId": "@events-host",
                "name": "events-check",
                "status": "CRITICAL",
                "message": "events check failed",
            },
        )
    )
    steps.append(
        Step(3, "change_alert", org, {"alertId": "@alert-host", "status": "WARNING", "value": 75})
    )
    for n, (label, _) in enumerate(opens):
        steps.append(
            Step(
                4,
                "close_alert",
                org,
                {
                    "alertId": f"@alert-{label}",
                    "manual": n % 2 == 0,
                    "user": "operator@example.com" if n % 2 == 0 else None,
                },
            )
        )
    steps.append(
        Step(
            4,
            "check_report",
            org,
            {
                "hostId": "@events-host",
                "name": "events-check",
                "status": "OK",
                "message": "events check ok",
            },
        )
    )
    steps.append(Step(5, "set_status", org, {"hostId": "@events-host", "status": "maintenance"}))
    steps.append(
        Step(
            5,
            "set_status",
            org,
            {"hostId": "@events-host", "status": "working", "user": "operator@example.com"},
        )
    )
    steps.append(Step(6, "delete_monitor", org, {"monitorId": "@query"}))
    steps.append(Step(6, "retire_host", org, {"hostId": "@events-host"}))
    steps.append(Step(7, "sample", org, {}))
    return steps


@dataclass(frozen=True)
class Scenario:
    """A named scenario, its parameters with defaults, and how to plan it."""

    name: str
    description: str
    defaults: JSON
    plan: Callable[[Planner], list[Step]]


SCENARIOS = {
    s.name: s
    for s in (
        Scenario(
            "host-down-up",
            "one host goes unreachable, then comes back",
            {"org": None, "host": None, "down_for": 300},
            plan_host_down_up,
        ),
        Scenario(
            "flapping",
            "a host metric crosses its threshold back and forth",
            {
                "org": None,
                "host": None,
                "metric": "custom.flapping.value",
                "threshold": 90,
                "flaps": 4,
                "period": 120,
            },
            plan_flapping,
        ),
        Scenario(
            "cron-failure",
            "a cron job's check report fails (and recovers if asked)",
            {
                "org": None,
                "host": None,
                "name": "cron-backup",
                "recover_after": 600,
                "notification_interval": None,
            },
            plan_cron_failure,
        ),
        Scenario(
            "memo-change",
            "a host memo is edited",
            {"org": None, "host": None, "memo": None},
            plan_memo_change,
        ),
        Scenario(
            "hosts-register-retire",
            "new hosts are registered, then retired",
            {"org": None, "count": 2, "interval": 30, "retire_after": 300},
            plan_register_retire,
        ),
        Scenario(
            "network-outage",
            "N hosts across M organizations become unreachable within S seconds, then recover",
            {
                "hosts": 100,
                "orgs": None,
                "within": 60,
                "down_for": 300,
                "recover_within": None,
                "rate": None,
            },
            plan_network_outage,
        ),
        Scenario(
            "demo-background",
            "an occasional host down and back, all day long",
            {"every": 900, "duration": 86400, "down_min": 120, "down_max": 600},
            plan_demo_background,
        ),
        Scenario(
            "every-event",
            "one webhook of every event type and an alert of every monitor type",
            {"org": None},
            plan_every_event,
        ),
    )
}


def plan(sim: Simulator, name: str, **params: Any) -> tuple[JSON, list[Step]]:
    """Resolve parameters against the scenario's defaults and plan it."""
    scenario = SCENARIOS.get(name)
    if scenario is None:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    unknown = set(params) - set(scenario.defaults)
    if unknown:
        raise ValueError(f"unknown parameters for {name}: {', '.join(sorted(unknown))}")
    resolved = {**scenario.defaults, **params}
    steps = scenario.plan(Planner(sim, name, resolved))
    return resolved, sorted(steps, key=lambda s: s.at)


# --- running ---------------------------------------------------------------------------------

_run_ids = itertools.count(1)


class ScenarioRun:
    """A scenario being played: its plan, progress, the objects it created and any errors."""

    def __init__(self, name: str, params: JSON, steps: list[Step]) -> None:
        self.id = str(next(_run_ids))
        self.name = name
        self.params = params
        self.plan = steps
        self.state = "pending"
        self.applied = 0
        self.errors: list[str] = []
        self.refs: dict[str, str] = {}
        self._stop = threading.Event()
        self._done = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def to_json(self, *, include_plan: bool = False) -> JSON:
        body: JSON = {
            "id": self.id,
            "name": self.name,
            "params": self.params,
            "state": self.state,
            "steps": len(self.plan),
            "applied": self.applied,
            "errors": self.errors,
            "refs": self.refs,
        }
        if include_plan:
            body["plan"] = [s.to_json() for s in self.plan]
        return body

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("@"):
            return self.refs[value[1:]]
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value


def _wait_until(sim: Simulator, target: float, stop: threading.Event) -> bool:
    while not stop.is_set():
        remaining = target - sim.now()
        if remaining <= 0:
            return True
        if sim.clock.frozen:
            sim.advance(remaining)
            return True
        # Short slices so a speed change takes effect promptly.
        stop.wait(min(remaining / sim.clock.speed, 0.5))
    return False


def _report(sim: Simulator, org: str, args: JSON) -> None:
    report: JSON = {
        "source": {"type": "host", "hostId": args["hostId"]},
        "name": args["name"],
        "status": args["status"],
        "message": args["message"],
        "occurredAt": int(sim.now()),
    }
    if args.get("notificationInterval"):
        report["notificationInterval"] = args["notificationInterval"]
    sim.report_checks(org, [report])


def _ensure_monitor(sim: Simulator, run: ScenarioRun, org: str, args: JSON) -> None:
    body = run.resolve(args["body"])
    existing = [m["id"] for m in sim.monitors(org) if m["name"] == body["name"]]
    run.refs[args["label"]] = existing[0] if existing else sim.add_monitor(org, body)


def _register(sim: Simulator, run: ScenarioRun, org: str, args: JSON) -> None:
    host_id = sim.add_host(
        org,
        name=args["name"],
        roles=args["roles"],
        memo=args["memo"],
        interfaces=args["interfaces"],
    )
    run.refs[args["label"]] = host_id


def _open(sim: Simulator, run: ScenarioRun, org: str, args: JSON) -> None:
    options = {k: args[k] for k in ("hostId", "status", "value", "message", "series") if k in args}
    host_id = options.pop("hostId", None)
    run.refs[args["label"]] = sim.open_alert(org, args["monitorId"], host_id=host_id, **options)


def _update_monitor(sim: Simulator, run: ScenarioRun, org: str, args: JSON) -> None:
    monitor_id = run.refs[args["label"]]
    body = {k: v for k, v in sim.monitor(org, monitor_id).items() if k != "id"}
    sim.update_monitor(org, monitor_id, {**body, **args["changes"]})


def _ensure_role(sim: Simulator, org: str, args: JSON) -> None:
    services = {s["name"]: s for s in [*_service_list(sim, org)]}
    if args["service"] not in services:
        sim.add_service(org, args["service"])
        services[args["service"]] = {"roles": []}
    if args["role"] not in services[args["service"]]["roles"]:
        sim.add_role(org, args["service"], args["role"])


def _service_list(sim: Simulator, org: str) -> list[JSON]:
    with sim.world.lock:
        return [s.to_api() for s in sim.world.org(org).services.values()]


def _post_metric(sim: Simulator, org: str, args: JSON) -> None:
    point = {
        "hostId": args["hostId"],
        "name": args["name"],
        "time": int(sim.now()),
        "value": args["value"],
    }
    sim.post_host_metrics(org, [point])


# Actions return whatever the simulator method returns; the runner ignores it.
Action = Callable[["Simulator", ScenarioRun, str, JSON], object]
ACTIONS: dict[str, Action] = {
    "host_down": lambda sim, run, org, a: sim.host_down(org, a["hostId"]),
    "host_up": lambda sim, run, org, a: sim.host_up(org, a["hostId"]),
    "post_metric": lambda sim, run, org, a: _post_metric(sim, org, a),
    "check_report": lambda sim, run, org, a: _report(sim, org, a),
    "set_memo": lambda sim, run, org, a: sim.set_host_memo(org, a["hostId"], a["memo"]),
    "register_host": _register,
    "retire_host": lambda sim, run, org, a: sim.retire_host(org, a["hostId"]),
    "set_status": lambda sim, run, org, a: sim.set_host_status(
        org, a["hostId"], a["status"], user=a.get("user")
    ),
    "set_rate": lambda sim, run, org, a: sim.set_webhook_rate(a["perSecond"]),
    "ensure_monitor": _ensure_monitor,
    "ensure_role": lambda sim, run, org, a: _ensure_role(sim, org, a),
    "update_monitor": _update_monitor,
    "delete_monitor": lambda sim, run, org, a: sim.delete_monitor(org, a["monitorId"]),
    "add_group_setting": lambda sim, run, org, a: sim.add_alert_group_setting(
        org, run.resolve(a["body"])
    ),
    "open_alert": _open,
    "change_alert": lambda sim, run, org, a: sim.change_alert(
        org, a["alertId"], status=a["status"], value=a.get("value")
    ),
    "close_alert": lambda sim, run, org, a: sim.close_alert(
        org, a["alertId"], manual=a["manual"], user=a.get("user")
    ),
    "sample": lambda sim, run, org, a: sim.send_sample(org),
}


def apply(sim: Simulator, run: ScenarioRun, step: Step) -> None:
    """Carry out one step through the simulator's public methods."""
    action = ACTIONS.get(step.action)
    if action is None:
        raise ValueError(f"unknown action {step.action!r}")
    # Labels and bodies are resolved by the action itself (a body may name later objects).
    args = {k: v for k, v in step.args.items() if k in ("label", "body")}
    args.update(run.resolve({k: v for k, v in step.args.items() if k not in ("label", "body")}))
    action(sim, run, step.org, args)


def play(sim: Simulator, run: ScenarioRun) -> None:
    run.state = "running"
    start = sim.now()
    try:
        for step in run.plan:
            if not _wait_until(sim, start + step.at, run._stop):
                break
            try:
                apply(sim, run, step)
                run.applied += 1
            except (
                Exception
            ) as exc:  # one failed step (a host retired meanwhile) must not end the run
                run.errors.append(f"{step.action} at {step.at}: {type(exc).__name__}: {exc}")
    finally:
        run.state = "stopped" if run._stop.is_set() else "done"
        run._done.set()


def start(sim: Simulator, name: str, *, wait: bool = False, **params: Any) -> ScenarioRun:
    resolved, steps = plan(sim, name, **params)
    run = ScenarioRun(name, resolved, steps)
    if wait:
        play(sim, run)
    else:
        threading.Thread(target=play, args=(sim, run), name=f"scenario-{name}", daemon=True).start()
    return run
