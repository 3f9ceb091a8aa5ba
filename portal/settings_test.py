"""Settings for the test suite: the real ones, on PostgreSQL and a Redis database of its own."""

from __future__ import annotations

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tairyo")
# A Redis database per parallel test process, so one process's workers never take another's
# tasks; TAIRYO_TEST_REDIS_DB moves the block (two test runs side by side on one machine).
_xdist = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_redis_db = int(os.environ.get("TAIRYO_TEST_REDIS_DB", "15")) - _xdist % 4
os.environ["REDIS_URL"] = f"redis://127.0.0.1:6379/{_redis_db}"
os.environ.setdefault("TAIRYO_EMAIL_PROVIDER", "console")

from portal.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
