"""Tests of Tairyo's Mackerel client.

The first part checks the pure pieces (parsing of the bodies documented in shared/mackerel-api.md,
the retry rule, error messages). The contract part runs the client over real HTTP against the
Mackerel simulator, method by method, with no mocks.
"""

from __future__ import annotations

import ast
import http.client
import itertools
import json
import pickle
import random
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from mackerel_sim import OrgKeys, ServerHandle, Simulator
from orgs.mackerel import (
    HOST_STATUSES,
    Alert,
    AlertPage,
    AuthenticationError,
    CheckReport,
    Downtime,
    DowntimeRecurrence,
    DowntimeSpec,
    Host,
    HostMetricValue,
    MackerelClient,
    MackerelError,
    MetricPoint,
    Monitor,
    NotFoundError,
    Organization,
    PermissionDeniedError,
    RateLimitedError,
    RequestTimeoutError,
    Role,
    ServerError,
    Service,
    ServiceMetricValue,
    UnexpectedResponseError,
    UnreachableError,
    ValidationError,
)
from orgs.mackerel.retry import (
    backoff_delay,
    parse_retry_after,
    retryable_exception,
    retryable_status,
)

SECRET_KEY = "k3yThatMustNeverLeak0123456789"
PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
)


@pytest.fixture(autouse=True)
def _no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    # The client honours proxy variables; a developer's or CI's proxy must not carry test traffic.
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pickled_and_back(error: BaseException) -> BaseException:
    """What a Celery result backend does to an exception."""
    copy: BaseException = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    return copy


def assert_no_key(error: BaseException, key: str = SECRET_KEY) -> None:
    """The key appears nowhere a log, a traceback, Celery or Sentry could take it from."""
    texts = [
        str(error),
        repr(error),
        repr(error.args),
        "".join(traceback.format_exception(error)),
        repr(pickled_and_back(error).__dict__),
    ]
    for text in texts:
        assert key not in text
    # A chained httpx exception would keep the request, and so the X-Api-Key header, reachable.
    assert error.__cause__ is None
    assert not isinstance(error.__context__, httpx.HTTPError)


# ------------------------------------------------------------------------------------------------
# Module shape


def test_the_package_imports_no_django() -> None:
    package = Path(__file__).resolve().parents[1] / "mackerel"
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            assert not any(name.split(".")[0] == "django" for name in names), module.name


# ------------------------------------------------------------------------------------------------
# Parsing the documented bodies (examples from mackerel-api.md)

DOC_HOST = {
    "id": "4Xk2mQ9sTrB",
    "name": "batch01.example.internal",
    "displayName": "batch01",
    "customIdentifier": "batch01-prod",
    "size": "standard",
    "status": "working",
    "memo": "",
    "isRetired": False,
    "createdAt": 1718000000,
    "roles": {"Billing": ["cron", "worker"]},
    "meta": {"agent-version": "0.84.0", "kernel": {"name": "Linux", "release": "6.1.0"}},
    "interfaces": [
        {
            "name": "eth0",
            "ipAddress": "10.0.0.12",
            "ipv4Addresses": ["10.0.0.12"],
            "macAddress": "02:00:00:00:00:01",
        }
    ],
    "type": "unknown",
}


def test_host_is_parsed_with_aware_times_and_roles() -> None:
    host = Host.from_api(DOC_HOST)
    assert host.id == "4Xk2mQ9sTrB"
    assert host.display_name == "batch01"
    assert host.custom_identifier == "batch01-prod"
    assert host.roles == {"Billing": ["cron", "worker"]}
    assert host.role_fullnames == ["Billing:cron", "Billing:worker"]
    assert host.created_at == datetime(2024, 6, 10, 6, 13, 20, tzinfo=UTC)
    assert host.created_at.tzinfo is not None
    assert host.interfaces[0].ip_addresses == ["10.0.0.12"]
    assert host.ip_addresses == ["10.0.0.12"]
    assert host.meta["kernel"] == {"name": "Linux", "release": "6.1.0"}
    assert host.is_retired is False
    assert host.retired_at is None


def test_host_without_optional_fields_gets_none() -> None:
    minimal = {"id": "h1", "name": "vm", "status": "standby", "createdAt": 1}
    host = Host.from_api(minimal)
    assert host.display_name is None
    assert host.custom_identifier is None
    assert host.memo == ""
    assert host.roles == {}
    assert host.interfaces == []
    assert host.meta == {}


@pytest.mark.parametrize(
    "broken",
    [
        {"name": "vm", "status": "working", "createdAt": 1},
        {"id": "h1", "name": "vm", "status": "working", "createdAt": "yesterday"},
        {"id": "h1", "name": "vm", "status": "working", "createdAt": 1, "roles": ["web"]},
        {"id": "h1", "name": "vm", "status": "working", "createdAt": True},
    ],
)
def test_host_with_a_broken_required_field_is_refused(broken: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="field"):
        Host.from_api(broken)


def test_alert_status_is_lowercased_and_times_are_seconds() -> None:
    closed = Alert.from_api(
        {
            "id": "5n9XyZ1aBcD",
            "status": "OK",
            "monitorId": "2cSZzK3XfmG",
            "type": "connectivity",
            "hostId": "4Xk2mQ9sTrB",
            "reason": "auto closed",
            "openedAt": 1717990000,
            "closedAt": 1717990600,
            "somethingNew": {"ignored": True},
        }
    )
    assert closed.status == "ok"
    assert closed.opened_at == datetime.fromtimestamp(1717990000, tz=UTC)
    assert closed.closed_at == datetime.fromtimestamp(1717990600, tz=UTC)
    assert closed.reason == "auto closed"
    assert closed.value is None
    assert not closed.is_open

    open_ = Alert.from_api(
        {
            "id": "a",
            "status": "CRITICAL",
            "monitorId": "m",
            "type": "host",
            "hostId": "h",
            "value": 91,
            "openedAt": 1718003660,
        }
    )
    assert open_.status == "critical"
    assert open_.value == 91.0
    assert open_.closed_at is None
    assert open_.is_open


def test_monitor_keeps_its_whole_definition() -> None:
    doc = {
        "id": "5pQw3rT8yZa",
        "type": "host",
        "name": "disk usage",
        "memo": "page the DB team",
        "metric": "disk%",
        "operator": ">",
        "warning": 80.0,
        "critical": 90.0,
        "duration": 3,
        "maxCheckAttempts": 2,
        "notificationInterval": 60,
        "scopes": ["Billing"],
        "excludeScopes": ["Billing:cron"],
        "isMute": False,
    }
    monitor = Monitor.from_api(doc)
    assert (monitor.id, monitor.type, monitor.name, monitor.memo) == (
        "5pQw3rT8yZa",
        "host",
        "disk usage",
        "page the DB team",
    )
    assert monitor.notification_interval == 60
    assert monitor.definition == doc
    assert "id" not in monitor.as_request_body()


def test_downtime_duration_is_minutes() -> None:
    downtime = Downtime.from_api(
        {
            "id": "d1",
            "name": "patch night",
            "start": 1718000000,
            "duration": 90,
            "recurrence": {"type": "weekly", "interval": 1, "weekdays": ["Sunday"]},
            "roleScopes": ["Billing: cron"],
        }
    )
    assert downtime.duration == timedelta(minutes=90)
    assert downtime.end - downtime.start == timedelta(minutes=90)
    assert downtime.recurrence == DowntimeRecurrence(type="weekly", interval=1, weekdays=["Sunday"])
    assert downtime.as_spec().to_api()["duration"] == 90
    assert downtime.memo == ""


def test_organization_display_name_may_be_null() -> None:
    assert Organization.from_api({"name": "example-org", "displayName": None}) == Organization(
        name="example-org", display_name=None
    )


def test_inputs_serialise_to_epoch_seconds_and_refuse_naive_times() -> None:
    when = datetime(2024, 6, 10, 6, 14, 20, 500000, tzinfo=UTC)
    assert HostMetricValue("h", "custom.x", when, 1.5).to_api() == {
        "hostId": "h",
        "name": "custom.x",
        "time": 1718000060,
        "value": 1.5,
    }
    assert ServiceMetricValue("x", when, 2).to_api()["time"] == 1718000060
    with pytest.raises(ValueError, match="timezone-aware"):
        ServiceMetricValue("x", datetime(2024, 6, 10), 2).to_api()  # noqa: DTZ001
    with pytest.raises(ValueError, match="finite"):
        ServiceMetricValue("x", when, float("nan")).to_api()
    report = CheckReport("h", "backup", "critical", "exit 1", when, notification_interval=60)
    assert report.to_api() == {
        "source": {"type": "host", "hostId": "h"},
        "name": "backup",
        "status": "CRITICAL",
        "message": "exit 1",
        "occurredAt": 1718000060,
        "notificationInterval": 60,
    }
    with pytest.raises(ValueError, match="whole number of minutes"):
        DowntimeSpec(name="x", start=when, duration=timedelta(seconds=90)).to_api()


# ------------------------------------------------------------------------------------------------
# The retry rule


def test_transient_statuses_are_retried_and_client_errors_never() -> None:
    for status in (500, 502, 503, 504, 429):
        assert retryable_status(status, idempotent=True)
    for status in (400, 401, 403, 404, 409, 413, 501):
        assert not retryable_status(status, idempotent=True)
        assert not retryable_status(status, idempotent=False)


def test_a_post_is_retried_only_when_mackerel_cannot_have_acted_on_it() -> None:
    request = httpx.Request("POST", "https://api.mackerelio.com/api/v0/monitors")
    assert retryable_status(429, idempotent=False)
    assert retryable_status(503, idempotent=False)
    for status in (500, 502, 504):
        assert not retryable_status(status, idempotent=False)
    for never_sent in (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
        assert retryable_exception(never_sent("x", request=request), idempotent=False)
    for maybe_sent in (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError):
        assert not retryable_exception(maybe_sent("x", request=request), idempotent=False)
        assert retryable_exception(maybe_sent("x", request=request), idempotent=True)
    assert not retryable_exception(httpx.UnsupportedProtocol("x", request=request), idempotent=True)


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(n, backoff=0.5, max_backoff=4, rng=rng) for n in range(1, 8)]
    assert 0.25 <= delays[0] <= 0.5
    assert 0.5 <= delays[1] <= 1.0
    assert all(2.0 <= delay <= 4.0 for delay in delays[3:])


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2024, 6, 10, 6, 0, tzinfo=UTC)
    assert parse_retry_after("1") == 1.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("Mon, 10 Jun 2024 06:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("inf") is None
    assert parse_retry_after(None) is None


# ------------------------------------------------------------------------------------------------
# Errors, without a server


def test_error_message_names_organization_and_endpoint() -> None:
    error = AuthenticationError(
        organization="acme-prod",
        method="GET",
        path="/api/v0/hosts",
        status_code=401,
        detail="Authentication failed",
    )
    assert str(error) == (
        "Mackerel organization 'acme-prod': GET /api/v0/hosts answered 401: Authentication failed"
    )
    copy = pickled_and_back(error)
    assert type(copy) is AuthenticationError
    assert str(copy) == str(error)
    assert copy.status_code == 401
    limited = RateLimitedError(
        organization="a", method="GET", path="/p", status_code=429, detail="x", retry_after=2
    )
    copy_limited = pickled_and_back(limited)
    assert isinstance(copy_limited, RateLimitedError)
    assert copy_limited.retry_after == 2


def test_unreachable_mackerel_raises_without_the_key() -> None:
    base_url = f"http://127.0.0.1:{closed_port()}"
    with (
        MackerelClient(
            SECRET_KEY, organization="acme-prod", base_url=base_url, max_retries=2, backoff=0.01
        ) as client,
        pytest.raises(UnreachableError) as caught,
    ):
        client.list_hosts()
    error = caught.value
    assert error.organization == "acme-prod"
    assert (error.method, error.path, error.status_code) == ("GET", "/api/v0/hosts", None)
    assert str(error).startswith("Mackerel organization 'acme-prod': GET /api/v0/hosts failed")
    assert "after 3 attempts" in str(error)
    assert_no_key(error)


def test_the_key_is_scrubbed_from_httpx_text_that_quotes_a_url() -> None:
    # httpx quotes the URL when its scheme is wrong; a key pasted into the URL must not leak.
    with (
        MackerelClient(
            SECRET_KEY, organization="acme-prod", base_url=f"ftp://{SECRET_KEY}@example.invalid"
        ) as client,
        pytest.raises(UnreachableError) as caught,
    ):
        client.get_organization()
    assert "after 1 attempt:" in str(caught.value)
    assert_no_key(caught.value)


def test_a_proxy_password_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://user:{SECRET_KEY}@127.0.0.1:{closed_port()}")
    with (
        MackerelClient(
            "another-key", organization="o", base_url="http://example.invalid", max_retries=0
        ) as client,
        pytest.raises(UnreachableError) as caught,
    ):
        client.get_organization()
    assert_no_key(caught.value)


def test_client_repr_hides_the_key() -> None:
    with MackerelClient(SECRET_KEY, organization="acme-prod") as client:
        assert SECRET_KEY not in repr(client)
        assert "acme-prod" in repr(client)


def test_invalid_keys_are_refused_without_being_quoted() -> None:
    for bad in ("", f" {SECRET_KEY}", f"{SECRET_KEY}\n"):
        with pytest.raises(ValueError, match="api_key") as caught:
            MackerelClient(bad, organization="o")
        assert SECRET_KEY not in str(caught.value)


def test_documented_limits_are_checked_before_sending() -> None:
    # Port 9 (discard) is never reached: every call below is refused client-side.
    with MackerelClient(SECRET_KEY, organization="acme-prod", base_url="http://127.0.0.1:9") as c:
        with pytest.raises(ValidationError, match="at most 30 host IDs per request, got 31"):
            c.bulk_retire_hosts([f"h{i}" for i in range(31)])
        with pytest.raises(ValidationError, match="at most 30"):
            c.bulk_update_host_statuses([f"h{i}" for i in range(31)], "standby")
        with pytest.raises(ValidationError, match="limit must be between 1 and 100"):
            c.list_alerts(limit=101)
        with pytest.raises(ValidationError, match="host status"):
            c.update_host_status("h1", "asleep")
        with pytest.raises(ValidationError, match="together with a service"):
            c.list_hosts(roles=["app"])
        with pytest.raises(ValidationError, match="at most 100 reports"):
            now = datetime.now(tz=UTC)
            c.post_check_reports([CheckReport("h", f"c{i}", "ok", "", now) for i in range(101)])
        with pytest.raises(ValueError, match="must not be empty"):
            c.get_host("")
    error = ValidationError(
        organization="acme-prod", method="POST", path="/p", status_code=None, detail="not sent: x"
    )
    assert isinstance(error, MackerelError)
    assert isinstance(error, ValueError)
    assert str(error) == "Mackerel organization 'acme-prod': POST /p not sent: x"


def test_timeouts_are_distinguished() -> None:
    # A listener that accepts (via the backlog) but never answers: the read times out.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        with (
            MackerelClient(
                SECRET_KEY,
                organization="acme-prod",
                base_url=f"http://127.0.0.1:{port}",
                timeout=0.2,
                max_retries=1,
                backoff=0.01,
            ) as client,
            pytest.raises(RequestTimeoutError) as caught,
        ):
            client.get_organization()
    assert "ReadTimeout" in str(caught.value)
    assert "after 2 attempts" in str(caught.value)
    assert_no_key(caught.value)


# ================================================================================================
# Contract tests: the client over real HTTP against the Mackerel simulator


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator(seed=1)
    yield simulator
    simulator.close()


@pytest.fixture(scope="module")
def server(sim: Simulator) -> Iterator[ServerHandle]:
    with sim.serve(host="127.0.0.1", port=0) as handle:
        yield handle


_org_numbers = itertools.count(1)


@pytest.fixture
def org(sim: Simulator) -> OrgKeys:
    """A fresh organization per test, so tests never see each other's hosts or alerts."""
    number = next(_org_numbers)
    return sim.add_organization(f"acme-prod-{number}", rw_key=f"{SECRET_KEY}-rw-{number}")


ClientFactory = Callable[..., MackerelClient]


@pytest.fixture
def make_client(server: ServerHandle, org: OrgKeys) -> Iterator[ClientFactory]:
    """Clients for the test's organization with fast retries; all closed afterwards."""
    made: list[MackerelClient] = []

    def make(key: str | None = None, **options: Any) -> MackerelClient:
        settings: dict[str, Any] = {"timeout": 5.0, "backoff": 0.01, "max_backoff": 0.05}
        settings.update(options)
        client = MackerelClient(
            org.rw_key if key is None else key,
            organization=org.name,
            base_url=server.url,
            **settings,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: ClientFactory) -> MackerelClient:
    return make_client()


def api_requests(sim: Simulator, org: OrgKeys, method: str, path: str) -> list[dict[str, Any]]:
    """The requests the simulator answered for this organization on one endpoint.

    The simulator logs a request just after writing its answer, so the client can return first;
    wait until the log has been still for a moment before reading it.
    """

    def matching() -> list[dict[str, Any]]:
        return [r for r in sim.requests(org.name) if r["method"] == method and r["path"] == path]

    found, deadline = matching(), time.monotonic() + 2
    while time.monotonic() < deadline:
        time.sleep(0.05)
        again = matching()
        if len(again) == len(found):
            break
        found = again
    return found


def sim_now(sim: Simulator) -> datetime:
    return datetime.fromtimestamp(int(sim.now()), tz=UTC)


@pytest.fixture
def inventory(sim: Simulator, org: OrgKeys) -> dict[str, str]:
    """Two services, three roles and four hosts in every status the list filter knows."""
    sim.add_service(org.name, "web")
    sim.add_service(org.name, "db")
    sim.add_role(org.name, "web", "app")
    sim.add_role(org.name, "web", "lb")
    sim.add_role(org.name, "db", "primary")
    return {
        "vm1": sim.add_host(
            org.name,
            name="vm1",
            roles={"web": ["app"]},
            memo="first",
            custom_identifier="vm1-ci",
            interfaces=[{"name": "eth0", "ipAddress": "192.0.2.10"}],
            status="working",
        ),
        "vm2": sim.add_host(org.name, name="vm2", roles={"web": ["lb"]}, status="standby"),
        "vm3": sim.add_host(org.name, name="vm3", roles={"db": ["primary"]}, status="maintenance"),
        "vm4": sim.add_host(org.name, name="vm4", roles={"web": ["app"]}, status="poweroff"),
    }


def test_organization(client: MackerelClient, org: OrgKeys) -> None:
    assert client.get_organization() == Organization(name=org.name, display_name=None)


def test_list_hosts_with_every_filter(client: MackerelClient, inventory: dict[str, str]) -> None:
    def names(**filters: Any) -> list[str]:
        return sorted(host.name for host in client.list_hosts(**filters))

    assert names() == ["vm1", "vm2"]  # Mackerel's default: working and standby only
    assert names(statuses=HOST_STATUSES) == ["vm1", "vm2", "vm3", "vm4"]
    assert names(statuses="maintenance") == ["vm3"]
    assert names(statuses=["working", "poweroff"]) == ["vm1", "vm4"]
    assert names(service="web") == ["vm1", "vm2"]
    assert names(service="web", roles="app") == ["vm1"]
    assert names(service="web", roles=["app", "lb"], statuses=HOST_STATUSES) == [
        "vm1",
        "vm2",
        "vm4",
    ]
    assert names(service="db", statuses=HOST_STATUSES) == ["vm3"]
    assert names(name="vm2") == ["vm2"]
    assert names(custom_identifier="vm1-ci") == ["vm1"]
    assert names(service="nope") == []


def test_host_is_typed(client: MackerelClient, inventory: dict[str, str]) -> None:
    host = client.get_host(inventory["vm1"])
    assert isinstance(host, Host)
    assert host.id == inventory["vm1"]
    assert (host.name, host.status, host.memo, host.custom_identifier) == (
        "vm1",
        "working",
        "first",
        "vm1-ci",
    )
    assert host.roles == {"web": ["app"]}
    assert host.role_fullnames == ["web:app"]
    assert host.ip_addresses == ["192.0.2.10"]
    assert host.created_at.tzinfo is not None
    assert abs(host.created_at.timestamp() - time.time()) < 3600
    assert host.is_retired is False
    assert client.get_host_by_custom_identifier("vm1-ci").id == inventory["vm1"]
    assert client.get_host_by_custom_identifier("VM1-CI", case_insensitive=True).name == "vm1"


def test_create_and_update_host(client: MackerelClient, sim: Simulator, org: OrgKeys) -> None:
    sim.add_service(org.name, "web")
    host_id = client.create_host(
        name="batch01.example.internal",
        display_name="batch01",
        custom_identifier="batch01-prod",
        memo="nightly jobs",
        meta={"agent-version": "0.84.0"},
        interfaces=[
            {"name": "eth0", "ipv4Addresses": ["10.0.0.12"], "macAddress": "02:00:00:00:00:01"}
        ],
        role_fullnames=["web:worker", "Billing:cron"],  # unknown ones are auto-created
    )
    created = client.get_host(host_id)
    assert created.display_name == "batch01"
    assert created.custom_identifier == "batch01-prod"
    assert created.memo == "nightly jobs"
    assert created.meta == {"agent-version": "0.84.0"}
    assert created.interfaces[0].ip_addresses == ["10.0.0.12"]
    assert created.interfaces[0].mac_address == "02:00:00:00:00:01"
    assert sorted(created.role_fullnames) == ["Billing:cron", "web:worker"]
    assert "Billing" in {service.name for service in client.list_services()}

    assert client.update_host(host_id, name="batch01.example.internal", memo="moved") == host_id
    updated = client.get_host(host_id)
    assert updated.memo == "moved"
    assert sorted(updated.role_fullnames) == ["Billing:cron", "web:worker"]  # PUT keeps roles


def test_host_status_and_roles(client: MackerelClient, inventory: dict[str, str]) -> None:
    client.update_host_status(inventory["vm1"], "maintenance")
    assert client.get_host(inventory["vm1"]).status == "maintenance"

    client.bulk_update_host_statuses([inventory["vm1"], inventory["vm2"]], "poweroff")
    assert {client.get_host(inventory[n]).status for n in ("vm1", "vm2")} == {"poweroff"}

    client.update_host_role_fullnames(inventory["vm1"], ["db:primary", "web: lb"])
    assert client.get_host(inventory["vm1"]).roles == {"db": ["primary"], "web": ["lb"]}
    client.update_host_role_fullnames(inventory["vm1"], [])
    assert client.get_host(inventory["vm1"]).roles == {}


def test_retire_and_bulk_retire(client: MackerelClient, inventory: dict[str, str]) -> None:
    client.retire_host(inventory["vm1"])
    retired = client.get_host(inventory["vm1"])
    assert retired.is_retired
    assert retired.retired_at is not None
    assert retired.retired_at.tzinfo is not None

    client.bulk_retire_hosts([inventory["vm2"], inventory["vm3"]])
    assert client.get_host(inventory["vm3"]).is_retired
    assert [h.name for h in client.list_hosts(statuses=HOST_STATUSES)] == ["vm4"]

    with pytest.raises(NotFoundError):
        client.bulk_retire_hosts([inventory["vm4"], "noSuchHost1"])
    client.bulk_retire_hosts([])  # nothing to do, nothing sent


def test_bulk_operations_refuse_more_than_30_ids_client_side(
    client: MackerelClient, sim: Simulator, org: OrgKeys
) -> None:
    ids = [sim.add_host(org.name, name=f"vm{i:02}") for i in range(31)]
    with pytest.raises(ValidationError, match="at most 30"):
        client.bulk_retire_hosts(ids)
    assert api_requests(sim, org, "POST", "/api/v0/hosts/bulk-retire") == []
    client.bulk_retire_hosts(ids[:30])
    assert [h.name for h in client.list_hosts()] == ["vm30"]


def test_services_and_roles(client: MackerelClient) -> None:
    created = client.create_service("Billing", memo="invoices")
    assert created == Service(name="Billing", memo="invoices", roles=[])
    assert client.create_role("Billing", "cron", memo="batch") == Role(
        service="Billing", name="cron", memo="batch"
    )
    client.create_role("Billing", "api")
    assert [s.roles for s in client.list_services() if s.name == "Billing"] == [["api", "cron"]]
    assert [r.fullname for r in client.list_roles("Billing")] == ["Billing:api", "Billing:cron"]

    assert client.delete_role("Billing", "api").name == "api"
    assert [r.name for r in client.list_roles("Billing")] == ["cron"]
    assert client.delete_service("Billing").name == "Billing"
    assert "Billing" not in {s.name for s in client.list_services()}
    with pytest.raises(NotFoundError):
        client.list_roles("Billing")


def test_invalid_names_are_rejected_with_mackerels_message(
    client: MackerelClient, sim: Simulator, org: OrgKeys
) -> None:
    with pytest.raises(ValidationError) as caught:
        client.create_service("-bad name")
    error = caught.value
    assert error.status_code == 400
    assert (error.method, error.path) == ("POST", "/api/v0/services")
    assert error.detail  # Mackerel's own message, not a generic one
    assert str(error).startswith(
        f"Mackerel organization {org.name!r}: POST /api/v0/services answered 400: "
    )
    # A 400 is never retried.
    assert len(api_requests(sim, org, "POST", "/api/v0/services")) == 1
    assert_no_key(error, org.rw_key)


def test_host_and_service_metrics(
    client: MackerelClient, sim: Simulator, org: OrgKeys, inventory: dict[str, str]
) -> None:
    now = sim_now(sim)
    vm1, vm2 = inventory["vm1"], inventory["vm2"]
    client.post_host_metrics(
        [
            HostMetricValue(vm1, "custom.backup.duration", now - timedelta(minutes=2), 40.0),
            HostMetricValue(vm1, "custom.backup.duration", now - timedelta(minutes=1), 42.5),
            HostMetricValue(vm2, "custom.backup.duration", now - timedelta(minutes=1), 7),
        ]
    )
    points = client.get_host_metrics(
        vm1, "custom.backup.duration", start=now - timedelta(minutes=5), end=now
    )
    assert points == [
        MetricPoint(time=now - timedelta(minutes=2), value=40.0),
        MetricPoint(time=now - timedelta(minutes=1), value=42.5),
    ]
    assert "custom.backup.duration" in client.list_host_metric_names(vm1)
    latest = client.get_latest_host_metrics([vm1, vm2], ["custom.backup.duration"])
    assert latest[vm1]["custom.backup.duration"].value == 42.5
    assert latest[vm2]["custom.backup.duration"] == MetricPoint(now - timedelta(minutes=1), 7.0)

    client.post_service_metrics(
        "web", [ServiceMetricValue("cron.backup.last_success", now - timedelta(seconds=30), 1)]
    )
    service_points = client.get_service_metrics(
        "web", "cron.backup.last_success", start=now - timedelta(minutes=5), end=now
    )
    assert service_points == [MetricPoint(now - timedelta(seconds=30), 1.0)]
    assert client.list_service_metric_names("web") == ["cron.backup.last_success"]
    client.post_host_metrics([])  # nothing to do, nothing sent
    assert len(api_requests(sim, org, "POST", "/api/v0/tsdb")) == 1


DISK_MONITOR: dict[str, Any] = {
    "type": "host",
    "name": "disk usage",
    "memo": "page the DB team",
    "metric": "disk%",
    "operator": ">",
    "warning": 80,
    "critical": 90,
    "duration": 3,
    "maxCheckAttempts": 2,
    "notificationInterval": 60,
    "scopes": ["web"],
    "excludeScopes": ["web:lb"],
    "isMute": False,
}


def test_monitors(client: MackerelClient, inventory: dict[str, str]) -> None:
    assert [m.type for m in client.list_monitors()] == ["connectivity"]  # a new org's default

    created = client.create_monitor(DISK_MONITOR)
    assert isinstance(created, Monitor)
    assert (created.type, created.name, created.memo) == ("host", "disk usage", "page the DB team")
    assert created.notification_interval == 60
    assert created.definition["metric"] == "disk%"
    assert created.definition["warning"] == 80
    assert client.get_monitor(created.id) == created
    assert created.id in {m.id for m in client.list_monitors()}

    changed = {**created.as_request_body(), "name": "disk usage (web)", "critical": 95}
    updated = client.update_monitor(created.id, changed)
    assert (updated.id, updated.name, updated.definition["critical"]) == (
        created.id,
        "disk usage (web)",
        95,
    )
    assert client.get_monitor(created.id).name == "disk usage (web)"

    assert client.delete_monitor(created.id).name == "disk usage (web)"
    with pytest.raises(NotFoundError):
        client.get_monitor(created.id)


def test_invalid_monitor_is_a_validation_error(client: MackerelClient) -> None:
    with pytest.raises(ValidationError) as caught:
        client.create_monitor({**DISK_MONITOR, "duration": 11})
    assert caught.value.status_code == 400
    assert caught.value.detail


def _connectivity_monitor(client: MackerelClient) -> str:
    return next(m.id for m in client.list_monitors() if m.type == "connectivity")


def test_alerts_get_close_memo_and_logs(
    client: MackerelClient, sim: Simulator, org: OrgKeys, inventory: dict[str, str]
) -> None:
    disk = client.create_monitor(DISK_MONITOR)
    alert_id = sim.open_alert(
        org.name, disk.id, host_id=inventory["vm1"], status="WARNING", value=85.5
    )

    page = client.list_alerts()
    assert isinstance(page, AlertPage)
    assert page.next_id is None
    alert = page.alerts[0]
    assert (alert.id, alert.status, alert.type, alert.monitor_id, alert.host_id) == (
        alert_id,
        "warning",
        "host",
        disk.id,
        inventory["vm1"],
    )
    assert alert.value == 85.5
    assert alert.closed_at is None
    assert alert.opened_at.tzinfo is not None
    assert abs(alert.opened_at.timestamp() - sim.now()) < 60
    assert alert.is_open
    assert client.get_alert(alert_id) == alert

    client.update_alert_memo(alert_id, "looking into it")
    assert client.get_alert(alert_id).memo == "looking into it"

    closed = client.close_alert(alert_id, "disk cleaned up")
    assert (closed.status, closed.reason) == ("ok", "disk cleaned up")
    assert closed.closed_at is not None
    assert not closed.is_open
    assert client.list_alerts().alerts == []
    assert [a.id for a in client.list_alerts(with_closed=True).alerts] == [alert_id]

    logs = list(client.iter_alert_logs(alert_id, limit=1))
    assert [log.status for log in logs][-1] == "warning"  # newest first; the opening is last
    assert logs[0].status == "ok"
    assert len({log.id for log in logs}) == len(logs) >= 2
    assert all(log.created_at.tzinfo is not None for log in logs)

    with pytest.raises(NotFoundError):
        client.get_alert("noSuchAlrt1")


def _many_closed_alerts(
    sim: Simulator, org: OrgKeys, host_id: str, monitor_id: str, n: int
) -> list[str]:
    """``n`` closed alerts, oldest first, by opening and closing the same check again and again."""
    ids = []
    for _ in range(n):
        alert_id = sim.open_alert(org.name, monitor_id, host_id=host_id)
        sim.close_alert(org.name, alert_id, reason="recovered", manual=False)
        ids.append(alert_id)
    return ids


def test_paging_alerts_follows_next_id_without_overlap(
    client: MackerelClient, sim: Simulator, org: OrgKeys, inventory: dict[str, str]
) -> None:
    monitor_id = _connectivity_monitor(client)
    oldest_first = _many_closed_alerts(sim, org, inventory["vm1"], monitor_id, 250)
    still_open = sim.open_alert(org.name, monitor_id, host_id=inventory["vm2"])

    first = client.list_alerts(with_closed=True, limit=100)
    assert len(first.alerts) == 100
    assert first.next_id is not None
    second = client.list_alerts(with_closed=True, limit=100, next_id=first.next_id)
    assert second.alerts[0].id == first.next_id  # the cursor is the next page's first alert
    assert not {a.id for a in first.alerts} & {a.id for a in second.alerts}

    everything = [alert.id for alert in client.iter_alerts(with_closed=True, limit=100)]
    assert everything == [still_open, *reversed(oldest_first)]  # newest first, each once
    assert len(api_requests(sim, org, "GET", "/api/v0/alerts")) == 2 + 3

    open_only = list(client.iter_alerts())
    assert [a.id for a in open_only] == [still_open]


def test_alert_iteration_stops_early_without_fetching_more_pages(
    client: MackerelClient, sim: Simulator, org: OrgKeys, inventory: dict[str, str]
) -> None:
    monitor_id = _connectivity_monitor(client)
    known = _many_closed_alerts(sim, org, inventory["vm1"], monitor_id, 150)
    new = _many_closed_alerts(sim, org, inventory["vm1"], monitor_id, 5)
    already_stored = set(known)

    # Tairyo's reconciliation: walk newest first and stop at the first closed alert it knows.
    seen = []
    for alert in client.iter_alerts(with_closed=True, limit=100):
        if alert.status == "ok" and alert.id in already_stored:
            break
        seen.append(alert.id)
    assert seen == list(reversed(new))
    assert len(api_requests(sim, org, "GET", "/api/v0/alerts")) == 1


def test_check_reports_open_and_close_a_check_alert(
    client: MackerelClient, sim: Simulator, inventory: dict[str, str]
) -> None:
    now = sim_now(sim)
    report = CheckReport(
        host_id=inventory["vm1"],
        name="nightly-backup",
        status="critical",
        message="command exited with code: 1",
        occurred_at=now,
        notification_interval=60,
    )
    client.post_check_reports([report])
    [alert] = client.list_alerts().alerts
    assert (alert.type, alert.status, alert.host_id, alert.message) == (
        "check",
        "critical",
        inventory["vm1"],
        "command exited with code: 1",
    )
    statuses = client.list_host_monitored_statuses(inventory["vm1"])
    assert [(s.monitor_id, s.status) for s in statuses if s.monitor_id == alert.monitor_id] == [
        (alert.monitor_id, "critical")
    ]

    recovered = CheckReport(
        inventory["vm1"], "nightly-backup", "OK", "ok", now + timedelta(seconds=1)
    )
    client.post_check_reports([recovered])
    assert client.list_alerts().alerts == []
    assert client.get_alert(alert.id).status == "ok"


def test_downtimes(client: MackerelClient, inventory: dict[str, str]) -> None:
    start = datetime.now(tz=UTC).replace(microsecond=0) + timedelta(days=1)
    spec = DowntimeSpec(
        name="patch night",
        memo="kernel updates",
        start=start,
        duration=timedelta(hours=2),
        recurrence=DowntimeRecurrence(type="weekly", interval=1, weekdays=["Sunday"]),
        service_scopes=["web"],
    )
    created = client.create_downtime(spec)
    assert isinstance(created, Downtime)
    assert (created.name, created.memo, created.start, created.duration) == (
        "patch night",
        "kernel updates",
        start,
        timedelta(hours=2),
    )
    assert created.recurrence == spec.recurrence
    assert created.service_scopes == ["web"]
    assert client.list_downtimes() == [created]

    moved = DowntimeSpec(
        name="patch night", start=start + timedelta(hours=1), duration=timedelta(minutes=30)
    )
    updated = client.update_downtime(created.id, moved)
    assert (updated.id, updated.start, updated.duration, updated.recurrence) == (
        created.id,
        start + timedelta(hours=1),
        timedelta(minutes=30),
        None,
    )
    assert client.delete_downtime(created.id).id == created.id
    assert client.list_downtimes() == []
    with pytest.raises(NotFoundError):
        client.delete_downtime(created.id)


# ------------------------------------------------------------------------------------------------
# Errors and retries against the simulator


def test_unknown_key_is_an_authentication_error(make_client: ClientFactory, org: OrgKeys) -> None:
    with pytest.raises(AuthenticationError) as caught:
        make_client(SECRET_KEY).list_hosts()
    assert str(caught.value) == (
        f"Mackerel organization {org.name!r}: GET /api/v0/hosts answered 401: "
        "Authentication failed. Please try with valid Api Key."
    )
    assert (caught.value.organization, caught.value.status_code) == (org.name, 401)
    assert_no_key(caught.value)


def test_read_only_key_cannot_write(
    make_client: ClientFactory, sim: Simulator, org: OrgKeys
) -> None:
    read_only = make_client(org.ro_key)
    assert read_only.list_hosts() == []
    with pytest.raises(PermissionDeniedError) as caught:
        read_only.create_service("web")
    assert caught.value.status_code == 403
    assert str(caught.value).startswith(
        f"Mackerel organization {org.name!r}: POST /api/v0/services answered 403: "
    )
    assert len(api_requests(sim, org, "POST", "/api/v0/services")) == 1
    assert_no_key(caught.value, org.ro_key)


def test_unknown_host_is_not_found(client: MackerelClient, org: OrgKeys) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.get_host("noSuchHost1")
    assert (caught.value.status_code, caught.value.path) == (404, "/api/v0/hosts/noSuchHost1")
    assert caught.value.detail
    assert_no_key(caught.value, org.rw_key)


def test_503_is_retried_then_succeeds(
    client: MackerelClient, sim: Simulator, org: OrgKeys, inventory: dict[str, str]
) -> None:
    sim.inject(org.name, status=503, count=2)
    assert len(client.list_hosts()) == 2
    statuses = [r["status"] for r in api_requests(sim, org, "GET", "/api/v0/hosts")]
    assert statuses == [503, 503, 200]


def test_persistent_5xx_gives_up_with_a_server_error(
    make_client: ClientFactory, sim: Simulator, org: OrgKeys
) -> None:
    sim.inject(org.name, status=502, count=10)
    with pytest.raises(ServerError) as caught:
        make_client(max_retries=2).list_services()
    assert caught.value.status_code == 502
    assert len(api_requests(sim, org, "GET", "/api/v0/services")) == 3
    assert_no_key(caught.value, org.rw_key)


def test_post_is_retried_on_503_but_not_on_500(
    client: MackerelClient, sim: Simulator, org: OrgKeys
) -> None:
    sim.inject(org.name, status=503, count=1)
    client.create_service("web")
    assert [r["status"] for r in api_requests(sim, org, "POST", "/api/v0/services")] == [503, 200]

    sim.inject(org.name, status=500, count=1)
    with pytest.raises(ServerError):
        client.create_service("db")
    assert [r["status"] for r in api_requests(sim, org, "POST", "/api/v0/services")][2:] == [500]


def test_429_waits_for_retry_after(client: MackerelClient, sim: Simulator, org: OrgKeys) -> None:
    sim.inject(org.name, status=429, count=1, rate_limit_retry_after=1)
    started = time.monotonic()
    assert client.get_organization().name == org.name
    assert time.monotonic() - started >= 1.0
    assert [r["status"] for r in api_requests(sim, org, "GET", "/api/v0/org")] == [429, 200]


def test_429_with_a_long_retry_after_is_raised_at_once(
    make_client: ClientFactory, sim: Simulator, org: OrgKeys
) -> None:
    sim.inject(org.name, status=429, count=1, rate_limit_retry_after=120)
    started = time.monotonic()
    with pytest.raises(RateLimitedError) as caught:
        make_client(max_retry_after=5).post_service_metrics(
            "web", [ServiceMetricValue("x", sim_now(sim), 1)]
        )
    assert time.monotonic() - started < 1.0
    assert caught.value.retry_after == 120
    assert caught.value.status_code == 429
    assert_no_key(caught.value, org.rw_key)


def test_rate_limit_is_ridden_out(client: MackerelClient, sim: Simulator, org: OrgKeys) -> None:
    sim.inject(org.name, rate_limit=2, rate_limit_window=1.0)
    for _ in range(4):
        client.get_organization()
    statuses = [r["status"] for r in api_requests(sim, org, "GET", "/api/v0/org")]
    assert statuses.count(200) == 4
    assert 429 in statuses


def test_slow_mackerel_times_out(make_client: ClientFactory, sim: Simulator, org: OrgKeys) -> None:
    sim.inject(org.name, latency=1.0)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError) as caught:
        make_client(timeout=0.2, max_retries=1).list_hosts()
    assert time.monotonic() - started < 1.0
    assert "after 2 attempts" in str(caught.value)
    assert caught.value.status_code is None
    assert_no_key(caught.value, org.rw_key)
    sim.clear_faults(org.name)


def test_post_is_not_resent_after_a_read_timeout(
    make_client: ClientFactory, sim: Simulator, org: OrgKeys, inventory: dict[str, str]
) -> None:
    # The request reaches Mackerel and is processed, only the answer is late: sending it again
    # would create a second monitor.
    sim.inject(org.name, latency=0.5, path_prefix="/api/v0/monitors")
    with pytest.raises(RequestTimeoutError, match="after 1 attempt"):
        make_client(timeout=0.2, max_retries=3).create_monitor(DISK_MONITOR)
    sim.clear_faults(org.name)
    time.sleep(0.5)  # the simulator finishes the request it was slow to answer
    disk_monitors = [m for m in sim.monitors(org.name) if m["name"] == DISK_MONITOR["name"]]
    assert len(disk_monitors) == 1


# ------------------------------------------------------------------------------------------------
# Proxy from the environment


class _ForwardingProxy(ThreadingHTTPServer):
    """A minimal HTTP forward proxy: absolute-URI requests are re-sent to their origin."""

    daemon_threads = True
    seen: list[str]


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ForwardingProxy

    def _forward(self) -> None:
        self.server.seen.append(f"{self.command} {self.path}")
        target = urlsplit(self.path)  # a proxy receives the absolute URI
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = http.client.HTTPConnection(target.hostname or "", target.port or 80, timeout=10)
        try:
            path = target.path + (f"?{target.query}" if target.query else "")
            upstream.request(self.command, path, body=body, headers=headers)
            answer = upstream.getresponse()
            payload = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _forward  # noqa: N815 - BaseHTTPRequestHandler's names

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


@pytest.fixture
def forwarding_proxy() -> Iterator[_ForwardingProxy]:
    proxy = _ForwardingProxy(("127.0.0.1", 0), _ProxyHandler)
    proxy.seen = []
    thread = threading.Thread(target=proxy.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield proxy
    proxy.shutdown()
    proxy.server_close()
    thread.join(timeout=5)


def test_proxy_from_the_environment_is_used(
    monkeypatch: pytest.MonkeyPatch,
    forwarding_proxy: _ForwardingProxy,
    server: ServerHandle,
    org: OrgKeys,
) -> None:
    proxy_host, proxy_port = forwarding_proxy.server_address[:2]
    monkeypatch.setenv("HTTP_PROXY", f"http://{proxy_host!s}:{proxy_port}")
    monkeypatch.setenv("NO_PROXY", "")  # loopback must not be exempted in this test
    with MackerelClient(org.rw_key, organization=org.name, base_url=server.url) as proxied:
        assert proxied.get_organization().name == org.name
        assert proxied.create_service("web").name == "web"
    assert forwarding_proxy.seen == [
        f"GET {server.url}/api/v0/org",
        f"POST {server.url}/api/v0/services",
    ]


def test_no_proxy_exempts_a_host(
    monkeypatch: pytest.MonkeyPatch,
    forwarding_proxy: _ForwardingProxy,
    server: ServerHandle,
    org: OrgKeys,
) -> None:
    proxy_host, proxy_port = forwarding_proxy.server_address[:2]
    monkeypatch.setenv("HTTP_PROXY", f"http://{proxy_host!s}:{proxy_port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with MackerelClient(org.rw_key, organization=org.name, base_url=server.url) as direct:
        assert direct.get_organization().name == org.name
    assert forwarding_proxy.seen == []


# ------------------------------------------------------------------------------------------------
# Answers outside the contract, from a scripted gateway standing where Mackerel should be

# path -> (status, headers, body)
GATEWAY_ANSWERS: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/api/v0/org": (200, {"Content-Type": "text/html"}, b"<html>maintenance</html>"),
    "/api/v0/hosts": (200, {}, b'{"hosts": [{"name": "vm1", "status": "working"}]}'),
    "/api/v0/services": (302, {"Location": "http://elsewhere.invalid/steal"}, b""),
    "/api/v0/monitors": (409, {}, b'{"error": "Already exists"}'),
    "/api/v0/downtimes": (502, {"Content-Type": "text/html"}, b"<h1>Bad gateway</h1>"),
}


class _GatewayHandler(BaseHTTPRequestHandler):
    """Answers from GATEWAY_ANSWERS; for other paths, a 401 quoting the key it was sent."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - BaseHTTPRequestHandler's name
        key = self.headers.get("X-Api-Key", "")
        echo = json.dumps({"error": {"message": f"key {key} is not valid here"}}).encode()
        status, headers, payload = GATEWAY_ANSWERS.get(self.path, (401, {}, echo))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def gateway_client() -> Iterator[MackerelClient]:
    gateway = ThreadingHTTPServer(("127.0.0.1", 0), _GatewayHandler)
    thread = threading.Thread(target=gateway.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    host, port = gateway.server_address[:2]
    with MackerelClient(
        SECRET_KEY,
        organization="acme-prod",
        base_url=f"http://{host!s}:{port}",
        backoff=0.01,
        max_backoff=0.02,
    ) as client:
        yield client
    gateway.shutdown()
    gateway.server_close()
    thread.join(timeout=5)


def test_an_error_body_that_quotes_the_key_is_scrubbed(gateway_client: MackerelClient) -> None:
    with pytest.raises(AuthenticationError) as caught:
        gateway_client.get_alert("a1")
    assert caught.value.detail == "key [api key] is not valid here"
    assert_no_key(caught.value)


def test_a_success_that_is_not_json_is_unexpected(gateway_client: MackerelClient) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        gateway_client.get_organization()
    assert caught.value.status_code == 200
    assert "not the documented shape" in str(caught.value)


def test_a_host_without_its_id_is_unexpected(gateway_client: MackerelClient) -> None:
    with pytest.raises(UnexpectedResponseError, match="field 'id' is missing"):
        gateway_client.list_hosts()


def test_redirects_are_not_followed(gateway_client: MackerelClient) -> None:
    # Following it would send X-Api-Key to another host.
    with pytest.raises(UnexpectedResponseError) as caught:
        gateway_client.list_services()
    assert caught.value.status_code == 302


def test_other_statuses_and_the_older_error_shape(gateway_client: MackerelClient) -> None:
    with pytest.raises(UnexpectedResponseError) as conflict:
        gateway_client.list_monitors()
    assert (conflict.value.status_code, conflict.value.detail) == (409, "Already exists")
    with pytest.raises(ServerError) as bad_gateway:
        gateway_client.list_downtimes()
    assert (bad_gateway.value.status_code, bad_gateway.value.detail) == (502, "Bad Gateway")
