"""Tairyo's one settings module, driven by the environment (see .env.example and README.md).

Without any variable set, Tairyo runs in development mode on an SQLite file with safe defaults.
``DJANGO_DEBUG=false`` switches to production mode, which requires the secrets and hosts below and
passes ``manage.py check --deploy``.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from portal.environment import StrictEnv, read_env_file

# Lets admin and form classes be subscripted (ModelAdmin[Customer]) for strict typing.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
read_env_file(Path(StrictEnv().string("TAIRYO_ENV_FILE", str(BASE_DIR / ".env"))))
env = StrictEnv()

DEBUG = env.boolean("DJANGO_DEBUG", default=True)
PRODUCTION = not DEBUG

# --- Secrets: required in production, harmless throw-away values in development -------------
_DEV_SECRET = "dev-only-insecure-secret-key-never-use-in-production-0123456789"  # noqa: S105
SECRET_KEY = env.secret("DJANGO_SECRET_KEY", None if PRODUCTION else _DEV_SECRET)
if PRODUCTION and (SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be a random string of at least 50 characters"
    )
SECRET_KEY_FALLBACKS = env.csv_list("DJANGO_SECRET_KEY_FALLBACKS", default=[])


def _dev_fernet_key() -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(_DEV_SECRET.encode()).digest()).decode()


# Keys that encrypt Mackerel API keys at rest: the first encrypts, all of them decrypt, so a new
# key is rotated in by putting it first and running `manage.py rotate_encryption_keys`.
FIELD_ENCRYPTION_KEYS = env.csv_list(
    "TAIRYO_FIELD_ENCRYPTION_KEYS", default=None if PRODUCTION else [_dev_fernet_key()]
)

for _key in FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(_key.encode())
    except ValueError:
        raise ImproperlyConfigured(
            "TAIRYO_FIELD_ENCRYPTION_KEYS: every key must be 32 url-safe base64-encoded bytes; "
            "make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from None

ALLOWED_HOSTS = env.csv_list(
    "DJANGO_ALLOWED_HOSTS", default=None if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env.csv_list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# The public address of the portal, used in mails ("see the case at ...") and webhook URLs.
PORTAL_BASE_URL = env.url(
    "TAIRYO_BASE_URL", None if PRODUCTION else "http://127.0.0.1:8000", schemes=("http", "https")
)

# --- Applications -----------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Registers OpClass for index expressions (the search's pg_trgm indexes); harmless on SQLite.
    "django.contrib.postgres",
    "anymail",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "auditlog",
    "audit",  # after auditlog: its admin replaces auditlog's
    "accounts",
    "orgs",
    "alerts",
    "notifications",
    "webhooks",
    "health",
    "pages",
    "support",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.two_factor.TwoFactorMiddleware",
    # After authentication: names the logged-in user as the actor of every audited change.
    "audit.records.AuditMiddleware",
    "accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a lockout raised during login into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DATABASES = {
    "default": env.database(
        "DATABASE_URL", None if PRODUCTION else f"sqlite:///{BASE_DIR / 'var' / 'tairyo.sqlite3'}"
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env.integer("DATABASE_CONN_MAX_AGE", 60, minimum=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's web server, simulators and in-process tasks write from several threads: wait
    # for the lock instead of failing, and take it at the start of each transaction.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
else:
    # Parameters travel apart from the SQL instead of being spliced into it in Python (Django's
    # default client-side binding), and a statement run five times on a connection is prepared:
    # PostgreSQL parses it once. Off behind a pooler in transaction mode (PgBouncer < 1.21).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["server_side_binding"] = True
    if env.boolean("DATABASE_PREPARED_STATEMENTS", True):
        options["prepare_threshold"] = 5
        if not env.boolean("DATABASE_GENERIC_PLANS", False):
            # A prepared statement is still planned for its parameters each time. After five
            # runs PostgreSQL may otherwise keep one generic plan, and for the support search's
            # patterns that plan was fifty times slower. The workers (docker-compose.yml) turn
            # generic plans on: their queries are lookups by key, and planning the sender's
            # read was three quarters of its database time.
            options["options"] = "-c plan_cache_mode=force_custom_plan"
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "pages:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
SESSION_COOKIE_AGE = env.integer("TAIRYO_SESSION_SECONDS", 8 * 3600, minimum=300)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Login throttling with django-axes (reliability.md 4.4): after 5 wrong passwords for one user
# name from one address, that pair waits 15 minutes. Keyed by the pair, so a guesser cannot lock
# a customer out from everywhere, and colleagues behind one NAT do not lock each other out.
# The database handler counts across every web process and keeps an audit trail in the admin.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.client_ip"
AXES_USERNAME_CALLABLE = "accounts.throttling.username"
AXES_LOCKOUT_CALLABLE = "accounts.throttling.lockout_response"
# Two-factor authentication (TOTP, django-otp): required for staff, optional for customers.
OTP_TOTP_ISSUER = "Tairyo"

# The audit log (audit/records.py): foreign keys logged by name rather than by number.
AUDITLOG_USE_FK_STRING_REPRESENTATION = True
AUDIT_CLIENT_IP_CALLABLE = "accounts.throttling.client_ip"
# Paths that never change an audited row: the Mackerel webhook intake, mail tracking, probes.
AUDIT_SKIP_PATHS = ("/hooks/", "/anymail/", "/healthz", "/livez")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time: Japanese and Asia/Tokyo by default, English on request --------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Redis and Celery -------------------------------------------------------------------------
# PostgreSQL is the source of truth; Redis only wakes workers, and a sweep re-enqueues whatever a
# lost message left behind (design.md invariant 1).
REDIS_URL = env.url("REDIS_URL", "redis://127.0.0.1:6379/0", schemes=("redis", "rediss"))
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = env.boolean("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Acknowledge after the task ran, and give the message back if the worker process died, so a
# SIGKILLed worker loses nothing; every task is idempotent for that reason.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 15.0
CELERY_TASK_SOFT_TIME_LIMIT = env.integer("CELERY_TASK_SOFT_TIME_LIMIT", 120, minimum=1)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 30
# A message not acknowledged within this time is handed to another worker. It must exceed the
# longest task, and countdowns stay far below it (long waits live in the database, not in Redis).
CELERY_VISIBILITY_TIMEOUT = env.integer("CELERY_VISIBILITY_TIMEOUT", 900, minimum=60)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 3, "interval_start": 0, "interval_step": 0.2}
# Celery's Django fix-up closes the database connection around every task unless this is set;
# reusing connections more than doubles task throughput (reliability.md 6.2).
CELERY_DB_REUSE_MAX = env.integer("CELERY_DB_REUSE_MAX", 1000, minimum=0)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue(name) for name in ("default", "intake", "notify", "deliver", "sync")]
# One place says which queue each task runs on; a worker per queue keeps a slow mail provider
# from delaying case creation.
CELERY_TASK_ROUTES = {
    # Syncs talk to Mackerel and may be slow: they never hold up the webhook intake.
    "alerts.tasks.schedule_syncs": {"queue": "sync"},
    "alerts.tasks.sync_organization": {"queue": "sync"},
    "alerts.*": {"queue": "intake"},
    # Handing mail to the provider and webhooks to customers' servers waits on the network, and
    # those servers are slow or down at times: a queue of its own, served by a thread pool
    # (docker-compose.yml), so a slow provider never holds up planning, and planning never
    # queues in front of mail.
    "notifications.tasks.send_notification": {"queue": "deliver"},
    "webhooks.tasks.send_webhook": {"queue": "deliver"},
    "notifications.*": {"queue": "notify"},
    "webhooks.*": {"queue": "notify"},
    "orgs.*": {"queue": "sync"},
    "health.*": {"queue": "default"},
}

# --- Mail through anymail ---------------------------------------------------------------------
EMAIL_PROVIDER = env.choice(
    "TAIRYO_EMAIL_PROVIDER", ("mailgun", "sendgrid", "console"), "console" if DEBUG else "mailgun"
)
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "Tairyo <noreply@tairyo.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ANYMAIL: dict[str, object] = {
    # Delivery events from the provider arrive at /anymail/<provider>/tracking/ with these
    # basic-auth credentials in the URL.
    "WEBHOOK_SECRET": env.secret("ANYMAIL_WEBHOOK_SECRET", "" if DEBUG else None) or None,
}
if EMAIL_PROVIDER == "mailgun":
    EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    ANYMAIL |= {
        "MAILGUN_API_KEY": env.secret("MAILGUN_API_KEY"),
        "MAILGUN_SENDER_DOMAIN": env.string("MAILGUN_SENDER_DOMAIN"),
        "MAILGUN_API_URL": env.url(
            "MAILGUN_API_URL", "https://api.mailgun.net/v3", schemes=("http", "https")
        ),
        "MAILGUN_WEBHOOK_SIGNING_KEY": env.secret("MAILGUN_WEBHOOK_SIGNING_KEY", ""),
    }
elif EMAIL_PROVIDER == "sendgrid":
    EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
    # anymail still ships SendGrid but no longer tests it (anymail#432), and says so in W003;
    # choosing SendGrid here is deliberate, and our mail simulator tests its wire format.
    SILENCED_SYSTEM_CHECKS = ["anymail.W003"]
    ANYMAIL |= {
        "SENDGRID_API_KEY": env.secret("SENDGRID_API_KEY"),
        "SENDGRID_API_URL": env.url(
            "SENDGRID_API_URL", "https://api.sendgrid.com/v3", schemes=("http", "https")
        ),
    }
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
ANYMAIL = {key: value for key, value in ANYMAIL.items() if value not in (None, "")}
EMAIL_TIMEOUT = env.integer("EMAIL_TIMEOUT", 15, minimum=1)
ANYMAIL["REQUESTS_TIMEOUT"] = (3.05, EMAIL_TIMEOUT)

# --- Notifications ----------------------------------------------------------------------------
# A storm: DIGEST_THRESHOLD mails to one contact about one organization within DIGEST_WINDOW
# seconds; further cases are collected for DIGEST_DELAY seconds and go out as one digest.
# Two settings, not one: a storm is recognised over minutes, but nobody may wait minutes to
# hear of their case (design.md: time to provider p95 <= 30 s during the outage).
TAIRYO_DIGEST_THRESHOLD = env.integer("TAIRYO_DIGEST_THRESHOLD", 5, minimum=1)
TAIRYO_DIGEST_WINDOW = timedelta(
    seconds=env.integer("TAIRYO_DIGEST_WINDOW_SECONDS", 120, minimum=5)
)
TAIRYO_DIGEST_DELAY = timedelta(seconds=env.integer("TAIRYO_DIGEST_DELAY_SECONDS", 20, minimum=1))
# Flapping: the same monitor on the same host opening FLAP_THRESHOLD cases within FLAP_WINDOW
# seconds; its mails are left out and listed in the contact's next mail.
TAIRYO_FLAP_THRESHOLD = env.integer("TAIRYO_FLAP_THRESHOLD", 3, minimum=2)
TAIRYO_FLAP_WINDOW = timedelta(seconds=env.integer("TAIRYO_FLAP_WINDOW_SECONDS", 1800, minimum=60))
# Attempts at handing one mail to the provider before it is marked failed, and the first wait
# between attempts (doubling each time, capped at ten minutes).
TAIRYO_MAIL_MAX_ATTEMPTS = env.integer("TAIRYO_MAIL_MAX_ATTEMPTS", 8, minimum=1)
TAIRYO_MAIL_RETRY_SECONDS = env.integer("TAIRYO_MAIL_RETRY_SECONDS", 30, minimum=1)

# --- REST API (docs/api.md) ------------------------------------------------------------------
# Requests per API token; beyond it a 429 with Retry-After. Counted in Redis, shared by every
# web process; if Redis is unreachable requests are let through rather than refused.
TAIRYO_API_RATE = env.string("TAIRYO_API_RATE", "600/min")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "tairyo:api",
        "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
    },
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.api.permissions.TokenPermission"],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.api.throttling.TokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "accounts.api.pagination.ApiCursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "accounts.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "accounts.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tairyo API",
    "DESCRIPTION": "Cases, hosts and contacts of a Tairyo customer. See docs/api.md.",
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the drf-spectacular-sidecar package's static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Outbound webhooks (docs/api.md): hosts that may be private addresses all the same (an internal
# ticketing server), and how long a subscription may fail every delivery before it is disabled.
TAIRYO_WEBHOOK_ALLOWED_HOSTS = env.csv_list("TAIRYO_WEBHOOK_ALLOWED_HOSTS", default=[])
TAIRYO_WEBHOOK_DISABLE_AFTER_HOURS = env.integer(
    "TAIRYO_WEBHOOK_DISABLE_AFTER_HOURS", 72, minimum=1
)

# --- Mackerel ---------------------------------------------------------------------------------
# Seconds each process remembers which organization a webhook token belongs to (0: never).
TAIRYO_WEBHOOK_TOKEN_CACHE_SECONDS = env.integer("TAIRYO_WEBHOOK_TOKEN_CACHE_SECONDS", 5, minimum=0)
# During a storm the intake wakes the workers at most once per this many milliseconds (each
# wake-up drains every pending receipt); 0 publishes one task per webhook.
TAIRYO_INTAKE_WAKE_MS = env.integer("TAIRYO_INTAKE_WAKE_MS", 250, minimum=0)
# A woken planner waits this long before it reads, so a storm's entries are planned a few hundred
# at a time rather than one pass (and one Celery task) each; a calm day pays it once per mail.
TAIRYO_PLANNER_SETTLE_MS = env.integer("TAIRYO_PLANNER_SETTLE_MS", 300, minimum=0)
# Webhook bodies above this size are refused (413) before they are read.
TAIRYO_WEBHOOK_MAX_BYTES = env.integer("TAIRYO_WEBHOOK_MAX_BYTES", 256 * 1024, minimum=1024)
# Proxies in front of Tairyo that append to X-Forwarded-For; 0 trusts only the peer address.
TAIRYO_PROXY_HOPS = env.integer("TAIRYO_PROXY_HOPS", 0, minimum=0)
MACKEREL_API_URL = env.url(
    "MACKEREL_API_URL", "https://api.mackerelio.com", schemes=("http", "https")
)
# Every organization is synced from Mackerel's API once per this many seconds (docs/sync.md).
TAIRYO_SYNC_INTERVAL_SECONDS = env.integer("TAIRYO_SYNC_INTERVAL_SECONDS", 300, minimum=30)

# --- Watching itself (docs/monitoring.md) ----------------------------------------------------
# The canary proves a worker takes tasks from Redis and writes to PostgreSQL; the heartbeat task
# audits the backlog and, only when both hold, tells the operator's Mackerel organization that
# Tairyo is alive. Empty key: nothing is posted (the audit still runs and shows on /healthz).
TAIRYO_CANARY_INTERVAL_SECONDS = env.integer("TAIRYO_CANARY_INTERVAL_SECONDS", 30, minimum=1)
# A canary runs on each of these queues: a process that serves no watched queue can die unseen
# until work for it is overdue. docker-compose.yml's worker serves "default" and the rest, the
# deliverer "deliver"; name each queue a process of its own serves.
TAIRYO_CANARY_QUEUES = env.csv_list("TAIRYO_CANARY_QUEUES", ["default", "deliver"])
# Mackerel asks for service metrics about once a minute (429 beyond that).
TAIRYO_HEARTBEAT_INTERVAL_SECONDS = env.integer("TAIRYO_HEARTBEAT_INTERVAL_SECONDS", 60, minimum=1)
TAIRYO_SELF_MACKEREL_API_KEY = env.secret("TAIRYO_SELF_MACKEREL_API_KEY", "")
TAIRYO_SELF_MACKEREL_SERVICE = env.string("TAIRYO_SELF_MACKEREL_SERVICE", "tairyo")
# Minutes without a heartbeat before the monitor made by `create_self_monitor` alerts (Mackerel
# takes multiples of 10, up to a week).
TAIRYO_SELF_MONITOR_MISSING_MINUTES = env.integer(
    "TAIRYO_SELF_MONITOR_MISSING_MINUTES", 10, minimum=10
)
if TAIRYO_SELF_MONITOR_MISSING_MINUTES % 10 or TAIRYO_SELF_MONITOR_MISSING_MINUTES > 7 * 24 * 60:
    raise ImproperlyConfigured(
        "TAIRYO_SELF_MONITOR_MISSING_MINUTES must be a multiple of 10, at most a week (10080)"
    )
# The auditor's deadlines, in seconds: a canary older than this, a webhook receipt or a mail
# still unfinished after this, an active organization not synced for this long, hold the
# heartbeat back.
TAIRYO_AUDIT_CANARY_SECONDS = env.integer("TAIRYO_AUDIT_CANARY_SECONDS", 120, minimum=1)
TAIRYO_AUDIT_RECEIPT_SECONDS = env.integer("TAIRYO_AUDIT_RECEIPT_SECONDS", 120, minimum=1)
TAIRYO_AUDIT_NOTIFICATION_SECONDS = env.integer("TAIRYO_AUDIT_NOTIFICATION_SECONDS", 300, minimum=1)
TAIRYO_AUDIT_SYNC_SECONDS = env.integer(
    "TAIRYO_AUDIT_SYNC_SECONDS", 3 * TAIRYO_SYNC_INTERVAL_SECONDS, minimum=1
)
# /metrics (Prometheus): allowed with this bearer token, or from these networks (CIDR,
# comma-separated). Neither set: /metrics answers 404.
TAIRYO_METRICS_TOKEN = env.secret("TAIRYO_METRICS_TOKEN", "")
TAIRYO_METRICS_NETWORKS = env.csv_list("TAIRYO_METRICS_NETWORKS", default=[])
for _network in TAIRYO_METRICS_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TAIRYO_METRICS_NETWORKS: {_network!r} is not a network"
        ) from None

# --- Security: every check of `manage.py check --deploy` answered in production -------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.boolean("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.integer("DJANGO_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Behind a TLS-terminating proxy (the usual deployment) the proxy says the scheme.
    if env.boolean("DJANGO_BEHIND_TLS_PROXY", default=True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # /healthz and /metrics are read over plain HTTP inside the deployment.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]

# --- Logging: one line per event on stdout, for the container's log collector ----------------
# json in production: one object per line with the case ID and organization being worked on
# (portal/logcontext.py); text in development: the same fields in brackets after the message.
TAIRYO_LOG_FORMAT = env.choice("TAIRYO_LOG_FORMAT", ("json", "text"), "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "portal.logcontext.ContextFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s%(context_text)s"},
        "json": {"()": "portal.logcontext.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": TAIRYO_LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env.string("TAIRYO_LOG_LEVEL", "INFO").upper()},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
# Workers log through the handler above too (JSON in production), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Session lifetimes etc. that other modules may want as timedeltas.
WEBHOOK_TOKEN_GRACE = timedelta(
    hours=env.integer("TAIRYO_WEBHOOK_TOKEN_GRACE_HOURS", 24, minimum=0)
)
