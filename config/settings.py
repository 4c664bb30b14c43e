"""frontdoor settings: one file, every value from the environment.

Each value has a safe development default. A value that cannot be read stops start-up
with a message naming the variable (see the env_* helpers below).
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_env = environ.Env()
# A .env file is optional and only for local convenience; real deployments set variables.
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")


def _read(name: str, reader, default):
    try:
        return reader(name, default=default)
    except (ValueError, TypeError, environ.ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(f"Environment variable {name} has a bad value: {exc}") from exc


def env_str(name: str, default: str) -> str:
    return _read(name, _env.str, default)


def env_bool(name: str, default: bool) -> bool:
    raw = _env.str(name, default="")
    if raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"Environment variable {name} must be true or false, not {raw!r}")


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    raw = _env.str(name, default="")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"Environment variable {name} must be a whole number, not {raw!r}"
        ) from exc
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ImproperlyConfigured(
            f"Environment variable {name} must be between {minimum} and {maximum}, not {value}"
        )
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = _env.str(name, default="")
    if raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# --- core -------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", True)
_DEV_SECRET = "dev-only-insecure-key-for-the-embedded-demo-never-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("Environment variable SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Absolute address of this site, used in links sent to partners (webhooks, email).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

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
    "directory",
    "referrals",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",  # pages: see "content security policy" below
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
                "config.navigation.navigation",  # pages: header links by role
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------------

try:
    DATABASES = {
        "default": _env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    }
except (environ.ImproperlyConfigured, ValueError, KeyError) as exc:
    raise ImproperlyConfigured(f"Environment variable DATABASE_URL has a bad value: {exc}") from exc
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
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
# therefore not loaded (the design system falls back to Arial). The Swagger UI page loads
# its scripts from a CDN and is left out of the policy.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs/"],
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
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
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
}

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

# --- deliveries -------------------------------------------------------------------------

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# Loopback and private addresses are refused as webhook targets unless this is on.
OUTBOUND_ALLOW_PRIVATE = env_bool("OUTBOUND_ALLOW_PRIVATE", DEBUG)
OUTBOUND_TIMEOUT_SECONDS = env_int("OUTBOUND_TIMEOUT_SECONDS", 15, minimum=1, maximum=60)
DELIVERY_SWEEP_SECONDS = env_int("DELIVERY_SWEEP_SECONDS", 5, minimum=1, maximum=300)
# run_deliveries (embedded mode): how often it looks for due deliveries, and how many it
# sends at once so one slow partner does not hold up the others.
DELIVERY_POLL_MS = env_int("DELIVERY_POLL_MS", 500, minimum=50, maximum=10000)
DELIVERY_LOOP_THREADS = env_int("DELIVERY_LOOP_THREADS", 4, minimum=1, maximum=64)
# Celery: delivery tasks go to their own queue, so delivery workers scale on their own.
CELERY_TASK_ROUTES = {"integrations.*": {"queue": "deliveries"}}
CELERY_BEAT_SCHEDULE = {
    "deliveries-sweep": {"task": "integrations.sweep", "schedule": float(DELIVERY_SWEEP_SECONDS)},
}

# --- email ------------------------------------------------------------------------------

try:
    _email = _env.email_url("EMAIL_URL", default="consolemail://")
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
# (directory/search_rank.py). 0 turns bands off: capacity first across the whole radius.
SEARCH_DISTANCE_BAND_M = env_int("SEARCH_DISTANCE_BAND_M", 3000, minimum=0, maximum=100_000)
# How long a partner has to acknowledge a referral of each urgency before the sweep
# escalates it (tells the partner's endpoints and escalation email and the crew).
ESCALATE_WITHIN_1H_MINUTES = env_int("ESCALATE_WITHIN_1H_MINUTES", 10, minimum=1, maximum=1440)
ESCALATE_WITHIN_4H_MINUTES = env_int("ESCALATE_WITHIN_4H_MINUTES", 30, minimum=1, maximum=1440)
ESCALATE_WITHIN_24H_MINUTES = env_int("ESCALATE_WITHIN_24H_MINUTES", 120, minimum=1, maximum=2880)
