"""Switchboard settings: every value comes from the environment (or an optional .env file)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
# Secrets have a placeholder only for local work; production must set them (see relay/checks.py).
SECRET_KEY = env("SECRET_KEY", default="insecure-local-only-key" if DEBUG else "")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS. Cookies are secure-only outside local work; turn on the redirect and HSTS once the
# site is served over TLS only (behind a proxy that terminates it, name the header it sets:
# SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https). `check --deploy` is then clean.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_PROXY_SSL_HEADER = tuple(env.list("SECURE_PROXY_SSL_HEADER", default=[])) or None
# Scripts and frames from our own static files only; styles also inline (the admin uses them).
CONTENT_SECURITY_POLICY = env(
    "CONTENT_SECURITY_POLICY",
    default="default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)

INSTALLED_APPS = [
    "config.apps.SwitchboardAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_q",
    "relay",
    "routing",
    "sla",
    "crm_sync",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "config.middleware.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Connections are kept and reused: opening one costs more than most requests (a
# `?conn_max_age=` in DATABASE_URL wins). Checking a kept one before each request would cost a
# round trip per request: a connection found broken is closed after that request instead.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=600))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_CONN_HEALTH_CHECKS", default=False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters travel apart from the statement, and a statement that repeats is prepared
    # (parsed once per connection).
    # Behind a pooler in transaction mode, set DATABASE_PREPARE_THRESHOLD=0 to prepare none.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options.setdefault("server_side_binding", True)
    prepare_threshold = env.int("DATABASE_PREPARE_THRESHOLD", default=5)
    options.setdefault("prepare_threshold", prepare_threshold or None)
    if prepare_threshold:
        # Still planned for each run's values: a plan made once for all values misjudges the
        # claims, whose best plan depends on how much is waiting.
        options.setdefault("options", "-c plan_cache_mode=force_custom_plan")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker share one file: wait for locks instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Counters of the API's rate limit live here: a shared cache (e.g. redis://127.0.0.1:6379/1 or
# dbcache://switchboard_cache) when several processes serve the API.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox:list"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["relay.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "relay.api.schema.SwitchboardAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "relay.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    # JSON in, JSON out, and nothing else.
    "DEFAULT_PARSER_CLASSES": ["relay.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "EXCEPTION_HANDLER": "relay.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["relay.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env("API_RATE_LIMIT", default="1200/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": "Open masked WhatsApp relay sessions for bookings, read transcripts, "
    "send messages to a participant.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Served from our own static files: the machines that run us may be offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Enums that several serializers share get one stable name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "NumberKindEnum": "relay.choices.NumberKind",
        "PartnerKindEnum": "routing.choices.PartnerKind",
        "RoleEnum": "relay.choices.Role",
    },
}

# django-q2 runs background work on the database by default; point it at Redis when one
# database broker is no longer enough.
Q_CLUSTER = {
    "name": "switchboard",
    "orm": "default",
    "workers": env.int("Q_WORKERS", default=1),
    "timeout": 120,
    "retry": 300,
    "catch_up": False,
    "ack_failures": True,
    "max_attempts": 1,
    # The cluster runs only the schedules (the relay's own loops do the hot path): looking
    # for due tasks every second is soon enough.
    "poll": 1.0,
}
if env("Q_REDIS_URL", default=""):
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = env("Q_REDIS_URL")

# The relay.
RELAY_PROVIDER = env("RELAY_PROVIDER", default="console")
WHATSAPP_API_BASE = env("WHATSAPP_API_BASE", default="https://graph.facebook.com/v25.0")
WHATSAPP_ACCESS_TOKEN = env("WHATSAPP_ACCESS_TOKEN", default="")
WHATSAPP_APP_SECRET = env("WHATSAPP_APP_SECRET", default="local-app-secret" if DEBUG else "")
WHATSAPP_VERIFY_TOKEN = env("WHATSAPP_VERIFY_TOKEN", default="local-verify" if DEBUG else "")
WHATSAPP_TIMEOUT_SECONDS = env.float("WHATSAPP_TIMEOUT_SECONDS", default=15.0)
# The WhatsApp Business Account whose templates are synced (a pool may name another).
WHATSAPP_BUSINESS_ACCOUNT_ID = env("WHATSAPP_BUSINESS_ACCOUNT_ID", default="")
# A Fernet key (url-safe base64 of 32 bytes); real numbers are encrypted with it.
FIELD_ENCRYPTION_KEY = env(
    "FIELD_ENCRYPTION_KEY",
    default="bG9jYWwtb25seS1rZXktbmV2ZXItaW4tcHJvZHVjdGk=" if DEBUG else "",
)
# The aggregator's name, as opening templates give it to the people they reach.
AGGREGATOR_NAME = env("AGGREGATOR_NAME", default="Switchboard")
# Routing: the time zone of time-of-day conditions when a rule names none.
ROUTING_TIME_ZONE = env("ROUTING_TIME_ZONE", default="UTC")

# SLA warnings and breaches are e-mailed to supervisors: EMAIL_URL in django-environ's form,
# e.g. smtp://user:password@mail.example.com:587 or smtp://127.0.0.1:2525; the console when unset.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="switchboard@localhost")
RELAY_SESSION_TTL_HOURS = env.int("RELAY_SESSION_TTL_HOURS", default=24 * 14)
RELAY_STALE_INBOUND_HOURS = env.int("RELAY_STALE_INBOUND_HOURS", default=24)
RELAY_MAX_SEND_ATTEMPTS = env.int("RELAY_MAX_SEND_ATTEMPTS", default=8)
RELAY_UNCERTAIN_AFTER_MINUTES = env.int("RELAY_UNCERTAIN_AFTER_MINUTES", default=5)
RELAY_UNCERTAIN_GIVE_UP_MINUTES = env.int("RELAY_UNCERTAIN_GIVE_UP_MINUTES", default=60)
RELAY_PAIR_BURST = env.int("RELAY_PAIR_BURST", default=10)
# WhatsApp allows about one message every 6 s from one number to one person.
RELAY_PAIR_INTERVAL_SECONDS = env.float("RELAY_PAIR_INTERVAL_SECONDS", default=6.0)
# The hot path's workers (manage.py worker): how many loops, how many rows a loop claims at
# once, how long it rests when nothing was due, how long it works on one large webhook
# before letting others go first.
RELAY_WORKERS = env.int("RELAY_WORKERS", default=2)
RELAY_WORKER_BATCH = env.int("RELAY_WORKER_BATCH", default=100)
# Sends a loop has in flight at once: a send waits on WhatsApp for a tenth of a second or more.
RELAY_SEND_CONCURRENCY = env.int("RELAY_SEND_CONCURRENCY", default=16)
RELAY_WORKER_IDLE_SECONDS = env.float("RELAY_WORKER_IDLE_SECONDS", default=0.05)
RELAY_WEBHOOK_SLICE_SECONDS = env.float("RELAY_WEBHOOK_SLICE_SECONDS", default=20.0)
# CRM deliveries (crm_sync): each attempt's timeout, the senders of the deliveries process,
# how many of them one endpoint may hold at once (a slow one cannot stall the others), how
# long they rest when nothing is due; URLs on loopback or private addresses only when allowed.
CRM_TIMEOUT_SECONDS = env.float("CRM_TIMEOUT_SECONDS", default=15.0)
CRM_SENDERS = env.int("CRM_SENDERS", default=8)
CRM_IN_FLIGHT_PER_ENDPOINT = env.int("CRM_IN_FLIGHT_PER_ENDPOINT", default=2)
CRM_IDLE_SECONDS = env.float("CRM_IDLE_SECONDS", default=0.2)
CRM_ALLOW_PRIVATE_URLS = env.bool("CRM_ALLOW_PRIVATE_URLS", default=DEBUG)
# Tests and the benchmark: the work a transaction makes runs after it commits, in-process.
RELAY_INLINE_WORK = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# Meta sends webhook batches of up to 3 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
