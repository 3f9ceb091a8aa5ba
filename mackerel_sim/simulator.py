"""`Simulator`: the Python face of the simulated Mackerel, and what the HTTP server drives."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mackerel_sim import (
    alert_groups,
    alerting,
    channels,
    checks,
    downtimes,
    evaluation,
    inventory,
    metrics,
    monitors,
    persistence,
    webhooks,
)
from mackerel_sim.clock import Clock
from mackerel_sim.ids import IdFactory
from mackerel_sim.sender import Delivery, Job, WebhookSender
from mackerel_sim.state import HOST_ALERT_TYPES, JSON, Alert, Monitor, Organization, World

if TYPE_CHECKING:
    from mackerel_sim.routing import Request
    from mackerel_sim.scenarios import ScenarioRun
    from mackerel_sim.server import ServerHandle

ORG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class OrgKeys:
    """An organization's name, its (webhook-only) ID and its two API keys."""

    name: str
    id: str
    rw_key: str
    ro_key: str

    def to_json(self) -> JSON:
        return {"name": self.name, "id": self.id, "rwKey": self.rw_key, "roKey": self.ro_key}


class Simulator:
    """A simulated Mackerel: organizations, API, monitoring, webhooks, faults and scenarios.

    Thread-safe: every method takes the world lock. `seed` makes IDs, keys, demo worlds,
    scenarios and fault fractions reproducible; `speed` scales the simulated clock (0 freezes
    it: time then moves only with `advance()`, and scenarios run instantly).
    """

    def __init__(
        self,
        seed: int | str | None = None,
        *,
        start_time: float | None = None,
        speed: float = 1.0,
        webhook_rate: float | None = None,
        webhook_timeout: float = 5.0,
        webhook_retries: int = 0,
        webhook_retry_delay: float = 1.0,
        webhook_workers: int = 1,
        suspend_after: int | None = None,
        tick_interval: float = 0.2,
        admin_token: str | None = None,
    ) -> None:
        self.seed = seed
        self.clock = Clock(start_time, speed)
        self.world = World(IdFactory(seed), self.clock)
        self.world.set_emitter(self._emit)
        self.suspend_after = suspend_after
        self.admin_token = admin_token
        self.sender = WebhookSender(
            rate=webhook_rate,
            timeout=webhook_timeout,
            retries=webhook_retries,
            retry_delay=webhook_retry_delay,
            workers=webhook_workers,
            accept=self._accept_job,
            record=self._record_delivery,
        )
        self._tick_interval = tick_interval
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self.runs: list[ScenarioRun] = []
        self._servers: list[ServerHandle] = []
        self._requests: deque[JSON] = deque(maxlen=50_000)
        self._requests_lock = threading.Lock()

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background clock tick (re-notifications, interruptions). Idempotent."""
        with self.world.lock:
            if self._ticker is not None:
                return
            self._ticker = threading.Thread(
                target=self._tick_loop, name="mackerel-sim-tick", daemon=True
            )
            self._ticker.start()

    def _tick_loop(self) -> None:
        while not self._stop.wait(self._tick_interval):
            self.tick()

    def close(self) -> None:
        """Stop scenarios, servers started by `serve()`, the tick and the webhook sender."""
        self._stop.set()
        for server in self._servers:
            server.stop()
        for run in list(self.runs):
            run.stop()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        self.sender.close()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
        """Serve the Mackerel API and the admin API from a background thread."""
        from mackerel_sim.server import serve

        self.start()
        handle = serve(self, host=host, port=port)
        self._servers.append(handle)
        return handle

    def record_request(self, req: Request, status: int, elapsed: float) -> None:
        """Remember an API request (not admin ones), so tests can see how a client behaved."""
        if req.path.startswith("/_sim"):
            return
        entry = {
            "time": time.time(),
            "method": req.method,
            "path": req.path,
            "query": req.query,
            "org": req.org.name if req.org else None,
            "status": status,
            "elapsed": elapsed,
        }
        with self._requests_lock:
            self._requests.append(entry)

    def requests(self, org: str | None = None) -> list[JSON]:
        with self._requests_lock:
            return [r for r in self._requests if org is None or r["org"] == org]

    # --- webhook plumbing -----------------------------------------------------------------

    def _emit(self, org: Organization, event: str, payload: JSON, alert: Alert | None) -> None:
        for channel in org.channels.values():
            if channel.type != "webhook" or channel.suspended_at is not None or not channel.url:
                continue
            if event not in channel.events:
                continue
            # A channel notified of alert groups is not told about their alerts one by one (§7.3).
            if (
                event == "alert"
                and alert is not None
                and alert.group_ids
                and "alertGroup" in channel.events
            ):
                continue
            body = webhooks.with_image(payload, alert) if channel.enabled_graph_image else payload
            self.sender.enqueue(
                Job(
                    org.name,
                    channel.id,
                    channel.url,
                    str(payload["event"]),
                    json.dumps(body, ensure_ascii=False),
                )
            )

    def _accept_job(self, job: Job) -> bool:
        with self.world.lock:
            org = self.world.orgs.get(job.org)
            channel = org.channels.get(job.channel_id) if org else None
            return channel is not None and channel.suspended_at is None

    def _record_delivery(self, delivery: Delivery) -> None:
        with self.world.lock:
            org = self.world.orgs.get(delivery.org)
            channel = org.channels.get(delivery.channel_id) if org else None
            if channel is None:
                return
            channel.failures = 0 if delivery.ok else channel.failures + 1
            if self.suspend_after and channel.failures >= self.suspend_after:
                channel.suspended_at = int(self.world.now())

    # --- time -----------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.now()

    def tick(self) -> None:
        with self.world.lock:
            evaluation.tick(self.world)

    def advance(self, seconds: float) -> None:
        """Move the simulated clock forward and run what became due (re-notifications...)."""
        self.clock.advance(seconds)
        self.tick()

    def set_speed(self, speed: float) -> None:
        self.clock.set_speed(speed)

    # --- organizations --------------------------------------------------------------------

    def _org(self, name: str) -> Organization:
        return self.world.org(name)

    @staticmethod
    def _keys(org: Organization) -> OrgKeys:
        return OrgKeys(name=org.name, id=org.id, rw_key=org.rw_key, ro_key=org.ro_key)

    def add_organization(
        self,
        name: str,
        *,
        display_name: str | None = None,
        rw_key: str | None = None,
        ro_key: str | None = None,
        default_host_status: str = "working",
        default_monitors: bool = True,
    ) -> OrgKeys:
        """Create an organization with a read-write and a read-only key.

        Like a new Mackerel organization, it starts with a connectivity monitor unless
        `default_monitors` is False.
        """
        if not ORG_NAME.match(name):
            raise ValueError(f"invalid organization name: {name!r}")
        with self.world.lock:
            if name in self.world.orgs:
                raise ValueError(f"organization {name!r} already exists")
            org = Organization(
                id=self.world.ids.new_id(),
                name=name,
                rw_key=rw_key or self.world.ids.new_key(),
                ro_key=ro_key or self.world.ids.new_key(),
                display_name=display_name,
                default_host_status=inventory.check_status(default_host_status),
            )
            for key in (org.rw_key, org.ro_key):
                if key in self.world.keys:
                    raise ValueError("API keys must be unique across organizations")
            self.world.orgs[name] = org
            self.world.keys[org.rw_key] = (org, True)
            self.world.keys[org.ro_key] = (org, False)
            org.faults.configure(seed=f"{self.seed}:faults:{name}")
            if default_monitors:
                monitor = Monitor(
                    id=self.world.ids.new_id(),
                    type="connectivity",
                    fields={
                        "name": "connectivity",
                        "alertStatusOnGone": "CRITICAL",
                        "scopes": [],
                        "excludeScopes": [],
                        "isMute": False,
                    },
                )
                org.monitors[monitor.id] = monitor
            return self._keys(org)

    def organizations(self) -> list[OrgKeys]:
        with self.world.lock:
            return [self._keys(o) for o in self.world.orgs.values()]

    def organization(self, name: str) -> OrgKeys:
        with self.world.lock:
            return self._keys(self._org(name))

    # --- services, roles, hosts -------------------------------------------------------------

    def add_service(self, org: str, name: str, memo: str = "") -> JSON:
        with self.world.lock:
            service = inventory.create_service(
                self.world, self._org(org), {"name": name, "memo": memo}
            )
            return service.to_api()

    def add_role(self, org: str, service: str, name: str, memo: str = "") -> JSON:
        with self.world.lock:
            body = {"name": name, "memo": memo}
            return inventory.create_role(self.world, self._org(org), service, body).to_api()

    def delete_service(self, org: str, name: str) -> JSON:
        """Delete a service with its roles, metrics and monitors, closing their alerts."""
        with self.world.lock:
            return inventory.delete_service(self.world, self._org(org), name).to_api()

    def add_host(
        self,
        org: str,
        *,
        name: str,
        roles: dict[str, list[str]] | list[str] | None = None,
        memo: str = "",
        custom_identifier: str | None = None,
        interfaces: list[JSON] | None = None,
        status: str | None = None,
        display_name: str | None = None,
        meta: JSON | None = None,
    ) -> str:
        """Register a host (sends `hostRegister`); `roles` is {service: [role]} or full names."""
        if isinstance(roles, dict):
            fullnames = [f"{svc}:{role}" for svc, names in roles.items() for role in names]
        else:
            fullnames = list(roles or [])
        body = {
            "name": name,
            "memo": memo,
            "customIdentifier": custom_identifier,
            "displayName": display_name,
            "interfaces": interfaces or [],
            "roleFullnames": fullnames,
            "meta": meta or {},
        }
        with self.world.lock:
            return inventory.create_host(self.world, self._org(org), body, status=status).id

    def host(self, org: str, host_id: str) -> JSON:
        with self.world.lock:
            return self._org(org).host(host_id).to_api()

    def hosts(self, org: str, *, include_retired: bool = False) -> list[JSON]:
        with self.world.lock:
            hosts = self._org(org).hosts.values()
            return [h.to_api() for h in hosts if include_retired or not h.is_retired]

    def set_host_memo(self, org: str, host_id: str, memo: str) -> None:
        with self.world.lock:
            inventory.set_memo(self._org(org), host_id, memo)

    def set_host_status(
        self, org: str, host_id: str, status: str, *, user: str | None = None
    ) -> None:
        """Change a host's status (sends `hostStatus`); `user` is a screen name or None."""
        with self.world.lock:
            organization = self._org(org)
            host = inventory.live_host(organization, host_id)
            inventory.set_status(self.world, organization, host, status, user=user)

    def retire_host(self, org: str, host_id: str, *, user: str | None = None) -> None:
        with self.world.lock:
            organization = self._org(org)
            inventory.retire(self.world, organization, organization.host(host_id), user=user)

    def host_down(self, org: str, host_id: str) -> None:
        """The host stops answering: connectivity monitors in scope open alerts."""
        with self.world.lock:
            organization = self._org(org)
            evaluation.set_reachable(self.world, organization, organization.host(host_id), False)

    def host_up(self, org: str, host_id: str) -> None:
        with self.world.lock:
            organization = self._org(org)
            evaluation.set_reachable(self.world, organization, organization.host(host_id), True)

    # --- metrics and checks -------------------------------------------------------------------

    def post_host_metrics(self, org: str, points: list[JSON]) -> None:
        with self.world.lock:
            metrics.post_host_metrics(self.world, self._org(org), points)

    def post_service_metrics(self, org: str, service: str, points: list[JSON]) -> None:
        with self.world.lock:
            metrics.post_service_metrics(self.world, self._org(org), service, points)

    def report_checks(self, org: str, reports: list[JSON]) -> None:
        with self.world.lock:
            checks.report(self.world, self._org(org), {"reports": reports})

    # --- monitors ----------------------------------------------------------------------------

    def add_monitor(self, org: str, body: JSON, *, user: str | None = None) -> str:
        with self.world.lock:
            return monitors.create(self.world, self._org(org), body, user=user).id

    def update_monitor(
        self, org: str, monitor_id: str, body: JSON, *, user: str | None = None
    ) -> JSON:
        with self.world.lock:
            return monitors.update(self.world, self._org(org), monitor_id, body, user=user).to_api()

    def delete_monitor(self, org: str, monitor_id: str, *, user: str | None = None) -> JSON:
        with self.world.lock:
            return monitors.delete(self.world, self._org(org), monitor_id, user=user).to_api()

    def monitor(self, org: str, monitor_id: str) -> JSON:
        with self.world.lock:
            return self._org(org).monitor(monitor_id).to_api()

    def monitors(self, org: str) -> list[JSON]:
        with self.world.lock:
            return [m.to_api() for m in monitors.listed(self._org(org))]

    # --- alerts -----------------------------------------------------------------------------

    def open_alert(
        self,
        org: str,
        monitor_id: str,
        *,
        host_id: str | None = None,
        status: str = "CRITICAL",
        value: float | None = None,
        message: str | None = None,
        series: JSON | None = None,
    ) -> str:
        """Open an alert for a monitor as its logic would (or move the open one to `status`).

        Host-scoped monitors (connectivity, host, check, anomalyDetection) need `host_id`.
        Returns the alert ID; opening sends an `alert` webhook unless suppressed.
        """
        with self.world.lock:
            organization = self._org(org)
            monitor = organization.monitor(monitor_id)
            if monitor.type in HOST_ALERT_TYPES:
                if host_id is None:
                    raise ValueError(f"a {monitor.type} alert needs host_id")
                organization.host(host_id)
            if status not in ("WARNING", "CRITICAL", "UNKNOWN"):
                raise ValueError(f"invalid alert status: {status!r}")
            if monitor.type == "query" and series is None:
                series = {"name": str(monitor.fields.get("query", "")), "labels": {}}
            alert = alerting.raise_alert(
                self.world,
                organization,
                monitor,
                status=status,
                host_id=host_id if monitor.type in HOST_ALERT_TYPES else None,
                value=value,
                message=message,
                series=series,
            )
            return alert.id

    def change_alert(
        self,
        org: str,
        alert_id: str,
        *,
        status: str,
        value: float | None = None,
        message: str | None = None,
    ) -> JSON:
        """Move an open alert to another non-OK status (notifies), or close it with "OK"."""
        with self.world.lock:
            organization = self._org(org)
            alert = organization.alert(alert_id)
            if status == "OK":
                alerting.close_alert(
                    self.world,
                    organization,
                    alert,
                    reason=alerting.AUTO_CLOSE_REASON,
                    trigger="monitor",
                    value=value,
                )
            elif alert.is_open:
                alerting.raise_alert(
                    self.world,
                    organization,
                    organization.monitor(alert.monitor_id),
                    status=status,
                    host_id=alert.host_id,
                    value=value,
                    message=message,
                    series=alert.series,
                )
            return alert.to_api()

    def close_alert(
        self,
        org: str,
        alert_id: str,
        *,
        reason: str = "",
        manual: bool = True,
        user: str | None = None,
    ) -> JSON:
        """Close an alert: by hand (trigger "manual close") or as a recovery ("monitor")."""
        with self.world.lock:
            organization = self._org(org)
            alert = organization.alert(alert_id)
            trigger = "manual close" if manual else "monitor"
            reason = reason or ("" if manual else alerting.AUTO_CLOSE_REASON)
            alerting.close_alert(
                self.world, organization, alert, reason=reason, trigger=trigger, user=user
            )
            return alert.to_api()

    def alert(self, org: str, alert_id: str) -> JSON:
        with self.world.lock:
            return self._org(org).alert(alert_id).to_api()

    def alerts(self, org: str, *, with_closed: bool = True) -> list[JSON]:
        """Alerts newest first, closed ones included unless `with_closed` is False."""
        with self.world.lock:
            organization = self._org(org)
            found = [organization.alerts[a] for a in reversed(organization.alert_order)]
            return [a.to_api() for a in found if with_closed or a.is_open]

    # --- downtimes, alert groups, channels ---------------------------------------------------

    def add_downtime(self, org: str, body: JSON) -> str:
        with self.world.lock:
            return downtimes.create(self.world, self._org(org), body).id

    def add_alert_group_setting(self, org: str, body: JSON) -> str:
        with self.world.lock:
            return alert_groups.create(self.world, self._org(org), body).id

    def add_webhook_channel(
        self,
        org: str,
        url: str,
        events: list[str] | None = None,
        *,
        name: str | None = None,
        enabled_graph_image: bool = False,
    ) -> str:
        """Add a webhook channel; `events` defaults to all of them ("monitor" covers the three
        monitor events, whose own names are accepted too)."""
        body = {
            "type": "webhook",
            "name": name or f"webhook {url}",
            "url": url,
            "events": events,
            "enabledGraphImage": enabled_graph_image,
        }
        with self.world.lock:
            return channels.create(self.world, self._org(org), body).id

    def remove_channel(self, org: str, channel_id: str) -> None:
        with self.world.lock:
            channels.delete(self._org(org), channel_id)

    def channel(self, org: str, channel_id: str) -> JSON:
        with self.world.lock:
            return channels.find(self._org(org), channel_id).to_api()

    def unsuspend_channel(self, org: str, channel_id: str) -> None:
        with self.world.lock:
            channel = channels.find(self._org(org), channel_id)
            channel.suspended_at, channel.failures = None, 0

    def send_sample(self, org: str, channel_id: str | None = None) -> int:
        """Send the `sample` event, as the test button does; returns how many were queued."""
        with self.world.lock:
            organization = self._org(org)
            targets = [
                c
                for c in organization.channels.values()
                if c.type == "webhook" and c.url and (channel_id is None or c.id == channel_id)
            ]
            body = json.dumps(webhooks.sample_payload())
            for channel in targets:
                self.sender.enqueue(
                    Job(organization.name, channel.id, str(channel.url), "sample", body)
                )
            return len(targets)

    # --- faults -----------------------------------------------------------------------------

    def inject(
        self,
        org: str,
        *,
        latency: float | None = None,
        status: int | None = None,
        count: int | None = None,
        fraction: float | None = None,
        rate_limit: int | None = None,
        rate_limit_window: float | None = None,
        rate_limit_retry_after: int | None = None,
        path_prefix: str | None = None,
    ) -> JSON:
        """Make an organization's API misbehave; only the arguments given change.

        `status` fails the next `count` requests, or a seeded `fraction` of them, or all of
        them; `rate_limit` allows that many requests per `rate_limit_window` seconds, then
        answers 429 with `Retry-After` (`rate_limit_retry_after`, also used for a forced 429).
        """
        with self.world.lock:
            faults = self._org(org).faults
            faults.configure(
                seed=f"{self.seed}:faults:{org}",
                latency=latency,
                status=status,
                count=count,
                fraction=fraction,
                rate_limit=rate_limit,
                rate_limit_window=rate_limit_window,
                retry_after=rate_limit_retry_after,
                path_prefix=path_prefix,
            )
            return faults.to_json()

    def clear_faults(self, org: str) -> None:
        with self.world.lock:
            self._org(org).faults.clear()

    def faults(self, org: str) -> JSON:
        with self.world.lock:
            return self._org(org).faults.to_json()

    # --- deliveries -------------------------------------------------------------------------

    def set_webhook_rate(self, per_second: float | None) -> None:
        self.sender.set_rate(per_second)

    def deliveries(
        self, org: str | None = None, event: str | None = None, channel_id: str | None = None
    ) -> list[Delivery]:
        return [
            d
            for d in self.sender.deliveries()
            if (org is None or d.org == org)
            and (event is None or d.event == event)
            and (channel_id is None or d.channel_id == channel_id)
        ]

    def wait_for_webhooks(self, timeout: float = 5.0) -> bool:
        """Wait until every queued webhook has been attempted; False on timeout."""
        return self.sender.wait_idle(timeout)

    def clear_deliveries(self) -> None:
        self.sender.clear()

    # --- scenarios and demo -------------------------------------------------------------------

    def run_scenario(self, name: str, *, wait: bool = False, **params: Any) -> ScenarioRun:
        """Plan a scenario from the seed and run it (in a thread unless `wait`)."""
        from mackerel_sim import scenarios

        run = scenarios.start(self, name, wait=wait, **params)
        with self.world.lock:
            self.runs.append(run)
        return run

    def build_demo(self, org_names: list[str], **options: Any) -> list[OrgKeys]:
        """Create plausible organizations with services, roles, hosts and monitors."""
        from mackerel_sim import demo

        return demo.build(self, org_names, **options)

    # --- state --------------------------------------------------------------------------------

    def dump_state(self, *, include_metrics: bool = False) -> JSON:
        with self.world.lock:
            return persistence.dump(self.world, include_metrics=include_metrics)

    def load_state(self, data: JSON) -> list[OrgKeys]:
        """Add the organizations of a dump (or a hand-written world file) to this simulator."""
        with self.world.lock:
            loaded = persistence.load(self.world, data, seed=self.seed)
            return [self._keys(o) for o in loaded]

    def save_state(self, path: str | Path, *, include_metrics: bool = False) -> None:
        data = self.dump_state(include_metrics=include_metrics)
        Path(path).write_text(
            json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )

    def load_state_file(self, path: str | Path) -> list[OrgKeys]:
        return self.load_state(json.loads(Path(path).read_text(encoding="utf-8")))
