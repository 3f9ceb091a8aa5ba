"""The shared test world: two customers, the second one an outsider.

``acme`` has ``alice`` (admin) and ``bob`` (viewer) and the organization ``acme_org``;
``globex`` has ``charlie`` (admin) and ``globex_org``. Every tenancy test asks whether alice or
bob can reach globex's objects (they must not) and whether charlie can reach acme's.
Staff: ``sales_user``, ``support_user`` and ``superuser``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from accounts import roles
from accounts.models import Customer, Membership, User
from orgs.models import Organization

pytest_plugins = ["alerts.tests.fixtures"]

PASSWORD = "correct horse battery staple"


def make_user(email: str, **fields: object) -> User:
    return User.objects.create_user(
        email, PASSWORD, full_name=email.split("@", maxsplit=1)[0], **fields
    )


@pytest.fixture
def acme(db: None) -> Customer:
    return Customer.objects.create(name="Acme")


@pytest.fixture
def globex(db: None) -> Customer:
    return Customer.objects.create(name="Globex")


@pytest.fixture
def alice(acme: Customer) -> User:
    user = make_user("alice@acme.example")
    Membership.objects.create(user=user, customer=acme, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def bob(acme: Customer) -> User:
    user = make_user("bob@acme.example", language="en")
    Membership.objects.create(user=user, customer=acme, role=Membership.Role.VIEWER)
    return user


@pytest.fixture
def charlie(globex: Customer) -> User:
    user = make_user("charlie@globex.example")
    Membership.objects.create(user=user, customer=globex, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def acme_org(acme: Customer) -> Organization:
    return Organization.objects.create(customer=acme, name="acme-prod", memo="Acme production")


@pytest.fixture
def globex_org(globex: Customer) -> Organization:
    return Organization.objects.create(customer=globex, name="globex-prod", memo="Globex secret")


def _staff(email: str, group: str | None) -> User:
    roles.sync_staff_groups()
    user = make_user(email, is_staff=True, is_superuser=group is None)
    if group:
        user.groups.add(roles.group(group))
    return user


@pytest.fixture
def sales_user(db: None) -> User:
    return _staff("sales@tairyo.example", roles.SALES)


@pytest.fixture
def support_user(db: None) -> User:
    return _staff("support@tairyo.example", roles.SUPPORT)


@pytest.fixture
def superuser(db: None) -> User:
    return _staff("root@tairyo.example", None)


def verify_second_factor(client: Client, user: User) -> None:
    """Mark the client's session as past the TOTP step, as staff must be (accounts/two_factor)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture
def login(db: None) -> Callable[[User], Client]:
    """``login(alice)`` gives a test client with alice's session."""

    def _login(user: User) -> Client:
        client = Client()
        client.force_login(user)
        if user.is_staff:
            verify_second_factor(client, user)
        return client

    return _login


# --- The mail provider: the real anymail Mailgun backend against the mail simulator ------------
MAILGUN_KEY = "key-test-tairyo"
MAILGUN_DOMAIN = "mg.tairyo.test"


@pytest.fixture(scope="session")
def mail_server() -> Iterator[tuple[object, object]]:
    from mail_sim import MailSimulator

    simulator = MailSimulator(mailgun_api_key=MAILGUN_KEY)
    server = simulator.serve()
    yield simulator, server
    server.stop()


@pytest.fixture
def mail_provider(mail_server: tuple[Any, Any], settings: Any) -> Iterator[Any]:
    """The mail simulator, emptied, with anymail's Mailgun backend pointed at it."""
    simulator, server = mail_server
    simulator.clear()
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    settings.ANYMAIL = {
        "MAILGUN_API_KEY": MAILGUN_KEY,
        "MAILGUN_SENDER_DOMAIN": MAILGUN_DOMAIN,
        "MAILGUN_API_URL": f"{server.url}/v3",
        "REQUESTS_TIMEOUT": (2, 3),
    }
    yield simulator
    simulator.clear()


# --- Browser tests: Debian's chromium driven by Playwright -------------------------------------
ARTIFACTS = Path(__file__).resolve().parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """One headless Chromium for the session (the system's, never a downloaded one)."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    # Playwright's sync API runs an event loop in this thread; Django's test database access
    # from the same thread is still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser page; its last screenshot is kept in test-artifacts/ for a person to see."""
    context = chromium.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


# --- Real Celery workers against real Redis and the test database ----------------------------
ROOT = Path(__file__).resolve().parent


@pytest.fixture
def start_worker(transactional_db: None, settings: Any) -> Iterator[Callable[..., Any]]:
    """``start_worker(**env)`` starts a real worker process on the test database; all are
    stopped at the end. Extra keyword arguments become environment variables of the worker."""
    import subprocess
    import sys

    from django.db import connection

    processes: list[subprocess.Popen[bytes]] = []
    db = connection.settings_dict

    def _start(**extra: str) -> subprocess.Popen[bytes]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
        env.update(
            DJANGO_SETTINGS_MODULE="portal.settings",
            TAIRYO_ENV_FILE="/dev/null",
            DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            REDIS_URL=settings.REDIS_URL,
            TAIRYO_EMAIL_PROVIDER="console",
        )
        env.update(extra)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--pool=solo",
                "--queues=default,intake,notify,deliver,sync",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=WARNING",
            ],  # fmt: skip
            cwd=ROOT,
            env=env,
        )
        processes.append(process)
        return process

    yield _start
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


@pytest.fixture
def redis_client(settings: Any) -> Iterator[Any]:
    """The test process's own Redis database, emptied before and after."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


def terminate_database_connection() -> None:
    """Have PostgreSQL end this process's connection, as a restart or an operator would; the
    connection object does not know until its next query."""
    import psycopg
    from django.db import connection

    backend = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    with psycopg.connect(
        host=params.get("host"), port=params.get("port"), user=params.get("user"),
        dbname="postgres", autocommit=True,
    ) as admin:  # fmt: skip
        # With a timeout, pg_terminate_backend waits until the backend is gone.
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", [backend])
