"""Production settings pass `check --deploy`; a bad setting stops start-up, named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k" * 20 + "Zx8#pQ2@vL5!mN7$rT1%wY4^bH6&cJ9*" + "s" * 10,
    "DJANGO_ALLOWED_HOSTS": "portal.example.com",
    "TAIRYO_BASE_URL": "https://portal.example.com",
    "TAIRYO_FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "DATABASE_URL": "postgres://tairyo@db.internal:5432/tairyo",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "MAILGUN_API_KEY": "key-test",
    "MAILGUN_SENDER_DOMAIN": "mg.example.com",
    "ANYMAIL_WEBHOOK_SECRET": "tracker:s3cret-Passw0rd",
}


def manage(*args: str, **overrides: str | None) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("DJANGO_", "TAIRYO_", "DATABASE_", "REDIS_", "MAILGUN_", "SENDGRID_")
        )
    }
    env.update(PRODUCTION)
    env["TAIRYO_ENV_FILE"] = "/nonexistent"  # a developer's .env must not leak into the test
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_production_settings_pass_check_deploy_without_warnings() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.slow
def test_sendgrid_is_selectable_in_production() -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        TAIRYO_EMAIL_PROVIDER="sendgrid",
        SENDGRID_API_KEY="SG.test",
        MAILGUN_API_KEY=None,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "too-short"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_ALLOWED_HOSTS": None}, "DJANGO_ALLOWED_HOSTS"),
        ({"TAIRYO_FIELD_ENCRYPTION_KEYS": None}, "TAIRYO_FIELD_ENCRYPTION_KEYS"),
        ({"TAIRYO_FIELD_ENCRYPTION_KEYS": "not-a-fernet-key"}, "TAIRYO_FIELD_ENCRYPTION_KEYS"),
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL"),
        ({"DJANGO_DEBUG": "flase"}, "DJANGO_DEBUG"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"MAILGUN_API_KEY": None}, "MAILGUN_API_KEY"),
        ({"TAIRYO_EMAIL_PROVIDER": "smtp"}, "TAIRYO_EMAIL_PROVIDER"),
        ({"CELERY_TASK_SOFT_TIME_LIMIT": "ten"}, "CELERY_TASK_SOFT_TIME_LIMIT"),
        ({"ANYMAIL_WEBHOOK_SECRET": None}, "ANYMAIL_WEBHOOK_SECRET"),
    ],
)
def test_missing_or_malformed_setting_stops_start_up_naming_it(
    overrides: dict[str, str | None], named: str
) -> None:
    result = manage("check", **overrides)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr.strip().splitlines()[-1]


@pytest.mark.slow
def test_development_defaults_need_no_environment() -> None:
    keys = [*PRODUCTION, "MAILGUN_SENDER_DOMAIN"]
    result = manage("check", **dict.fromkeys(keys))
    assert result.returncode == 0, result.stderr
