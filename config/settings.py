"""frontdoor settings: one file, every value from the environment.

Each value has a safe development default. A value that cannot be read stops start-up
with a message naming the variable (the env_* readers of config/env.py).
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.env import env, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# --- core -------------------------------------------------------------------------------

# Production is the default: development mode (debug pages, the public development key,
# outbound calls to private addresses, no HSTS) only when DEBUG=true is set, as `make run`,
# `make serve` and the test settings (config/settings_test.py) do.
DEBUG = env_bool("DEBUG", False)
_DEV_SECRET = "dev-only-insecure-key-for-the-embedded-demo-never-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "Environment variable SECRET_KEY must be set when DEBUG is off "
        "(for development set DEBUG=true, as `make run` does)"
    )
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured(
        "Environment variable SECRET_KEY is the public development key; set a secret one"
    )
# Encrypts endpoints' webhook signing secrets at rest (integrations/fields.py): a Fernet key
# (`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`).
# Empty: a key derived from SECRET_KEY, so changing SECRET_KEY then needs this set to the old
# derived key, or the endpoints' secrets rotated.
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY", "")
if FIELD_ENCRYPTION_KEY:
    try:
        from cryptography.fernet import Fernet

        Fernet(FIELD_ENCRYPTION_KEY)
    except ValueError as exc:
        raise ImproperlyConfigured(
            "Environment variable FIELD_ENCRYPTION_KEY must be a Fernet key "
            "(32 bytes, URL-safe base64)"
        ) from exc
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The port `make run` and `make serve` serve on (and hand to the delivery loop): without
# SITE_URL, links sent to partners point at the demo where it really runs.
PORT = env_int("PORT", 8000, minimum=1, maximum=65535)
# Absolute address of this site, used in links sent to partners (webhooks, email).
SITE_URL = env_str("SITE_URL", f"http://127.0.0.1:{PORT}").rstrip("/")
# The demo's local webhook receiver (manage.py demo_receiver, started by `make run` beside the
# server); seed_demo points the demo partner's webhook at it.
DEMO_RECEIVER_PORT = env_int(
    "DEMO_RECEIVER_PORT", PORT + 1 if PORT < 65535 else PORT - 1, minimum=1, maximum=65535
)

INSTALLED_APPS = [
    "directory.apps.FrontdoorAdminConfig",  # django.contrib.admin with our site (H2)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files (no CDN)
    "axes",  # login throttling and lockout: see "logins" below
    "directory",
    "referrals",
    "integrations",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.RefuseNulCharacters",  # PostgreSQL text cannot hold NUL
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",  # pages: see "content security policy" below
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: answers locked-out logins
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "directory.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"  # pages: the root sends each role to its own home
LOGOUT_REDIRECT_URL = "/login/"

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
                "directory.navigation.navigation",  # pages: header links by role
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------------

try:
    DATABASES = {
        "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    }
except (environ.ImproperlyConfigured, ValueError, KeyError) as exc:
    raise ImproperlyConfigured(f"Environment variable DATABASE_URL has a bad value: {exc}") from exc
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
# A kept connection is checked before each request reuses it, so a database restart (or a
# connection dropped by a proxy) costs a reconnect, not a 500 on the next request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side prepared statements: psycopg prepares a statement the connection has run
    # this many times, and the search, token and referral statements then skip parsing and
    # planning (planning was 1-3 ms of the search's 4 ms of SQL at 50,000 services). Needs
    # server-side binding (Django's default inlines values). -1 turns it off, as a pooler
    # that cannot carry prepared statements (PgBouncer before 1.21 in transaction mode)
    # needs. Not 0: a migration's multi-command statement cannot be prepared.
    _prepare = env_int("DB_PREPARE_THRESHOLD", 5, minimum=-1, maximum=1000)
    if _prepare == 0:
        raise ImproperlyConfigured(
            "Environment variable DB_PREPARE_THRESHOLD must be -1 (off) or 1 or more, not 0"
        )
    if _prepare > 0:
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "prepare_threshold": _prepare}
        )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the delivery loop read while the web server writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["OPTIONS"]["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- locale -----------------------------------------------------------------------------

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- static files -----------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# static/ holds our own JS/CSS and, under static/vendor/ (git-ignored), nhsuk-frontend's
# compiled CSS, JS and images copied from node_modules by `make install`.
STATICFILES_DIRS = [p for p in [BASE_DIR / "static"] if p.exists()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- security (production values unless DEBUG) ------------------------------------------

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = False
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=300)
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = ["security.W021"]  # HSTS preload is a registry decision, not a setting

# --- content security policy (pages) ----------------------------------------------------

# Self only: no inline scripts or styles, no third-party hosts. The NHS web fonts are
# therefore not loaded (the design system falls back to Arial). The Swagger UI page is
# under the same policy: its scripts come from drf-spectacular-sidecar's static files and
# its start-up script is a separate file (SpectacularSwaggerSplitView).
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- API --------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "directory.permissions.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # orjson when installed (the bytes of DRF's renderer, ~15x faster), else DRF's renderer.
    "DEFAULT_RENDERER_CLASSES": ["config.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
TOKEN_TTL_HOURS = env_int("TOKEN_TTL_HOURS", 12, minimum=1, maximum=24 * 90)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=TOKEN_TTL_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "frontdoor API",
    "DESCRIPTION": "London's directory of urgent-care services and broker of electronic referrals.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.document_errors",
    ],
}
# At most this many live tokens per user (devices); a new login past it revokes the oldest.
TOKEN_LIMIT_PER_USER = env_int("TOKEN_LIMIT_PER_USER", 10, minimum=1, maximum=1000)

# --- logins -----------------------------------------------------------------------------

# django-axes counts failed logins on /login/, /admin/login/ and /api/v1/auth/token/ (all
# go through django.contrib.auth.authenticate) per username and address. After
# LOGIN_FAILURE_LIMIT failures that pair is locked out for LOGIN_LOCKOUT_MINUTES; operators
# unlock early in the admin (Axes > Access attempts: delete the row) or with
# `manage.py axes_reset_username USERNAME`. A successful login clears the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.errors.login_locked_out"
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "config.client.client_ip"
AXES_ENABLE_ADMIN = False  # directory/admin/accounts.py registers the attempts for operators only

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a check: its password_changed hook revokes the user's API tokens on any change.
    {"NAME": "directory.passwords.RevokeTokensOnPasswordChange"},
]

# --- directory --------------------------------------------------------------------------

# How long a capacity status stays live when the partner does not say (minutes).
CAPACITY_DEFAULT_TTL_MINUTES = env_int(
    "CAPACITY_DEFAULT_TTL_MINUTES", 240, minimum=15, maximum=7200
)
# Optional network geocoder for postcodes missing from the postcode table (geopy name, e.g.
# "nominatim"). Off by default: nothing leaves the machine unless this is set.
GEOCODER = env_str("GEOCODER", "")
GEOCODER_USER_AGENT = env_str("GEOCODER_USER_AGENT", "frontdoor")
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "frontdoor-demo")

# --- reports ----------------------------------------------------------------------------

# Counts from 1 to this less one leave the system (reports page, API, CSV, XLSX) as "<5":
# a handful of referrals in one place and week can point at a person.
REPORT_SMALL_CELL_THRESHOLD = env_int("REPORT_SMALL_CELL_THRESHOLD", 5, minimum=1, maximum=100)

# --- deliveries -------------------------------------------------------------------------

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# A worker outlives its broker: it reconnects for as long as it takes (never gives up and
# exits), at start-up as after a loss. Deliveries wait in the outbox meanwhile.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Loopback and private addresses are refused as webhook targets unless this is on.
OUTBOUND_ALLOW_PRIVATE = env_bool("OUTBOUND_ALLOW_PRIVATE", DEBUG)
OUTBOUND_TIMEOUT_SECONDS = env_int("OUTBOUND_TIMEOUT_SECONDS", 15, minimum=1, maximum=60)
DELIVERY_SWEEP_SECONDS = env_int("DELIVERY_SWEEP_SECONDS", 5, minimum=1, maximum=300)
# run_deliveries (embedded mode): how often it looks for due deliveries, and how many it
# sends at once so one slow partner does not hold up the others.
DELIVERY_POLL_MS = env_int("DELIVERY_POLL_MS", 500, minimum=50, maximum=10000)
DELIVERY_LOOP_THREADS = env_int("DELIVERY_LOOP_THREADS", 4, minimum=1, maximum=64)
# At most this many sends to one endpoint at once, whoever sends: a partner that hangs holds
# this many worker slots, never all of them, so other partners' deliveries still go out.
DELIVERY_ENDPOINT_CONCURRENCY = env_int("DELIVERY_ENDPOINT_CONCURRENCY", 2, minimum=1, maximum=64)
# How long a web request may spend handing a delivery to the broker after commit. One try,
# no retries; when it fails, the broker is left alone for a sweep interval and the sweep
# sends what is in the outbox, so a broker outage never slows a create down.
DELIVERY_ENQUEUE_TIMEOUT_MS = env_int("DELIVERY_ENQUEUE_TIMEOUT_MS", 200, minimum=10, maximum=5000)
# delivery_status (and the admin) report a stall when a due delivery has waited this long
# without any sender trying it: nothing is consuming the queue, or the loop is not running.
DELIVERY_STALL_SECONDS = env_int("DELIVERY_STALL_SECONDS", 60, minimum=10, maximum=3600)
# Tests only: divides the retry schedule and its 24 h window, so that days of back-off pass in
# about a minute (1440: the 24 h window in one minute). A Retry-After a partner sends is still
# honoured as sent. Production keeps 1: anything else is refused when DEBUG is off.
DELIVERY_TIME_SCALE = env_int("DELIVERY_TIME_SCALE", 1, minimum=1, maximum=100000)
if DELIVERY_TIME_SCALE != 1 and not DEBUG:
    raise ImproperlyConfigured(
        "Environment variable DELIVERY_TIME_SCALE compresses the retry schedule for tests; "
        "it must be 1 when DEBUG is off"
    )
# Celery: one queue for deliveries and one for the sweep, both declared here, so a worker
# started without -Q (as the README, Procfile and systemd unit start it) consumes both.
# A sweep that waited in the queue longer than _SWEEP_EXPIRES is discarded unrun, so sweeps
# queued while no worker ran do not each re-queue every due delivery when one starts. Some
# intervals long rather than one, so a worker whose clock runs a little ahead still runs them.
from kombu import Queue  # noqa: E402

CELERY_TASK_DEFAULT_QUEUE = "deliveries"
CELERY_TASK_QUEUES = (
    Queue("deliveries", routing_key="deliveries"),
    Queue("sweep", routing_key="sweep"),
)
CELERY_TASK_ROUTES = {
    "integrations.sweep": {"queue": "sweep"},
    "referrals.sweep": {"queue": "sweep"},
}
_SWEEP_EXPIRES = float(max(6 * DELIVERY_SWEEP_SECONDS, 30))
CELERY_BEAT_SCHEDULE = {
    "deliveries-sweep": {
        "task": "integrations.sweep",
        "schedule": float(DELIVERY_SWEEP_SECONDS),
        "options": {"queue": "sweep", "expires": _SWEEP_EXPIRES},
    },
    # Expiry and escalation of unanswered referrals: the referrals app's own sweep.
    "referrals-sweep": {
        "task": "referrals.sweep",
        "schedule": float(DELIVERY_SWEEP_SECONDS),
        "options": {"queue": "sweep", "expires": _SWEEP_EXPIRES},
    },
}

# --- retention (patient details) ---------------------------------------------------------

# Closed referrals keep their patient identifiers and free text this many days, then the
# scheduled purge blanks them (reports keep the de-identified facts; the audit is kept).
PATIENT_DETAILS_RETENTION_DAYS = env_int("PATIENT_DETAILS_RETENTION_DAYS", 90, minimum=1)
# How often the purge runs: beat with a broker, run_deliveries without one.
PATIENT_DETAILS_PURGE_SECONDS = env_int("PATIENT_DETAILS_PURGE_SECONDS", 3600, minimum=60)
# The purge also blanks the incident (CAD) reference, which leads back to the patient.
PURGE_INCIDENT_REFERENCE = env_bool("PURGE_INCIDENT_REFERENCE", True)
CELERY_BEAT_SCHEDULE["referrals-purge-patient-details"] = {
    "task": "referrals.purge_patient_details",
    "schedule": float(PATIENT_DETAILS_PURGE_SECONDS),
}

# --- email ------------------------------------------------------------------------------

try:
    _email = env.email_url("EMAIL_URL", default="consolemail://")
except (environ.ImproperlyConfigured, ValueError, KeyError) as exc:
    raise ImproperlyConfigured(f"Environment variable EMAIL_URL has a bad value: {exc}") from exc
vars().update(_email)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "frontdoor <noreply@frontdoor.invalid>")
OPERATOR_EMAILS = env_list("OPERATOR_EMAILS", [])

# --- logging ----------------------------------------------------------------------------

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"Environment variable LOG_LEVEL must be a log level, not {LOG_LEVEL!r}"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- search and escalation ----------------------------------------------------------------

# Within this distance band capacity decides the order; a nearer band always comes first
# (directory/search/rank.py). 0 turns bands off: capacity first across the whole radius.
SEARCH_DISTANCE_BAND_M = env_int("SEARCH_DISTANCE_BAND_M", 3000, minimum=0, maximum=100_000)
# How long a partner has to acknowledge a referral of each urgency before the sweep
# escalates it (tells the partner's endpoints and escalation email and the crew).
ESCALATE_WITHIN_1H_MINUTES = env_int("ESCALATE_WITHIN_1H_MINUTES", 10, minimum=1, maximum=1440)
ESCALATE_WITHIN_4H_MINUTES = env_int("ESCALATE_WITHIN_4H_MINUTES", 30, minimum=1, maximum=1440)
ESCALATE_WITHIN_24H_MINUTES = env_int("ESCALATE_WITHIN_24H_MINUTES", 120, minimum=1, maximum=2880)
