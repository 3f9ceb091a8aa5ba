"""Tests of Tairyo's Mackerel client.

The first part checks the pure pieces (parsing of the bodies documented in shared/mackerel-api.md,
the retry rule, error messages). The contract part runs the client over real HTTP against the
Mackerel simulator, method by method, with no mocks.
"""

from __future__ import annotations

import ast
import pickle
import random
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from orgs.mackerel import (
    Alert,
    AuthenticationError,
    CheckReport,
    Downtime,
    DowntimeRecurrence,
    DowntimeSpec,
    Host,
    HostMetricValue,
    MackerelClient,
    MackerelError,
    Monitor,
    Organization,
    RateLimitedError,
    RequestTimeoutError,
    ServiceMetricValue,
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
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pickled_and_back(error: BaseException) -> BaseException:
    """What a Celery result backend does to an exception."""
    return pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes, never untrusted input


def assert_no_key(error: BaseException) -> None:
    """The key appears nowhere a log, a traceback, Celery or Sentry could take it from."""
    texts = [
        str(error),
        repr(error),
        repr(error.args),
        "".join(traceback.format_exception(error)),
        repr(pickled_and_back(error).__dict__),
    ]
    for text in texts:
        assert SECRET_KEY not in text
    # A chained httpx exception would keep the request, and so the X-Api-Key header, reachable.
    assert error.__cause__ is None
    assert error.__suppress_context__


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


def test_timeouts_are_distinguished(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

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
