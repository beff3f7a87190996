"""Settings, read from the environment (see DESIGN.md, Environment).

DATABASE_URL  the app's database; default an SQLite file under var/
REDIS_URL     Celery broker and result backend; unset -> tasks run eagerly in-process
SECRET_KEY    required unless DEBUG is on
DEBUG, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS, SECURE_SSL_REDIRECT, EMAIL_*, SITE_URL, AXES_*
The README section "Production" lists every variable.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WORKBENCH_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "simple_history",
    "axes",
    "workbench",
    "contracts",
    "catalog",
    "mappings",
    "signoff",
    "exports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "workbench.uploads.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "workbench.urls"
WSGI_APPLICATION = "workbench.wsgi.application"

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

# --- database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'workbench.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
# Test databases are named per test process, so two test runs on one machine never collide.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not in-memory) test database, so a real Celery worker process can share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_workbench_{os.getpid()}.sqlite3")}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- auth -----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "engagement-list"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): AXES_FAILURE_LIMIT wrong passwords lock that *username* (from
# any address, so spreading a guess over many IPs does not help) for AXES_COOLOFF_MINUTES;
# `manage.py axes_reset_username NAME` lifts a lock early. A successful login clears the count.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# axes.W006 asks for the client IP among the lockout parameters. We lock the username on purpose:
# rotating addresses or cookies does not reset it, and behind a reverse proxy every client shares
# one address, so an IP lock would lock everybody out at once.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# --- i18n / static --------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG  # in development, serve static/ without collectstatic
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

# --- security (production-like when DEBUG is off) ---------------------------------------------
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- secrets of external connections (Mart URLs): a Fernet key; unset -> derived from SECRET_KEY
WORKBENCH_ENCRYPTION_KEY = os.environ.get("WORKBENCH_ENCRYPTION_KEY", "")

# --- which Marts may be read (catalog/services/url_policy.py) -------------------------------
# SQLite/DuckDB Mart files only inside these directories (os.pathsep-separated; default var/,
# where the demo Mart lives); Mart servers only on these hosts (comma-separated; unset = any).
WORKBENCH_MART_SQLITE_DIRS = [
    Path(item.strip())
    for item in os.environ.get("WORKBENCH_MART_SQLITE_DIRS", "").split(os.pathsep)
    if item.strip()
] or [VAR_DIR]
WORKBENCH_MART_HOSTS = env_list("WORKBENCH_MART_HOSTS", "")

# --- how much one upload may be (workbench/uploads.py): sizes per kind, rows per sheet ---------
WORKBENCH_UPLOAD_LIMITS_MB = {
    "contract": float(os.environ.get("WORKBENCH_MAX_CONTRACT_MB", "20")),
    "workbook": float(os.environ.get("WORKBENCH_MAX_WORKBOOK_MB", "50")),
    "ddl": float(os.environ.get("WORKBENCH_MAX_DDL_MB", "20")),
}
WORKBENCH_MAX_SHEET_ROWS = int(os.environ.get("WORKBENCH_MAX_SHEET_ROWS", "250000"))

# --- email: console in development, SMTP from the environment in production -------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both.")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))  # seconds; a hung server is retried
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "workbench@localhost")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# The absolute address of the site (https://workbench.example.com): links in e-mails start with
# it. Required in production (the system check workbench.W001 says so when it is missing).
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")

# --- the demo countdown job: a development aid (up to 250 s of a worker), off in production ---
WORKBENCH_DEMO_JOB = env_bool("WORKBENCH_DEMO_JOB", DEBUG)

# --- Content-Security-Policy (django-csp) -----------------------------------------------------
# Scripts only from our own static files (no inline script, no handler attributes). Styles allow
# 'unsafe-inline' because Cytoscape (the diagrams) injects a <style> element and sizes its canvas
# with style attributes, and bars/columns take their computed widths from style attributes;
# inline styles cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # The token class first: DRF takes the WWW-Authenticate header of a 401 from the first class.
    # The session (with CSRF) serves the browser and Swagger.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "workbench.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "workbench.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "workbench.api.schema.WorkbenchAutoSchema",
    "EXCEPTION_HANDLER": "workbench.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mapping Workbench API",
    "DESCRIPTION": "Engagements, contracts, mappings, reviews and deliverables.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema is for signed-in users (401 otherwise); the docs page redirects to the login.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is served from our static files (a PyPI package), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set, so clients see e.g. "MappingStatusEnum", not "Status06eEnum".
    "ENUM_NAME_OVERRIDES": {
        "EngagementStatusEnum": "workbench.choices.EngagementStatus",
        "RoleEnum": "workbench.choices.Role",
        "PhaseEnum": "workbench.choices.Phase",
        "SignoffOwnerGateEnum": "workbench.choices.SignoffGate",
        "LinkKindEnum": "workbench.choices.LinkKind",
        "JobStateEnum": "workbench.choices.JobState",
        "LayerStatusEnum": "contracts.choices.LayerStatus",
        "LogicalTypeEnum": "contracts.choices.LogicalType",
        "ChangeLevelEnum": ["info", "warning", "error"],  # a contract change's grade
        "SourceFormatEnum": "contracts.choices.SourceFormat",
        "TableKindEnum": "catalog.choices.TableKind",
        "CatalogOriginEnum": "catalog.choices.CatalogOrigin",
        "MappingStatusEnum": "mappings.choices.MappingStatus",
        "EntityMappingStatusEnum": "mappings.choices.EntityStatus",
        "FeasibilityEnum": "mappings.choices.Feasibility",
        "SmeReviewEnum": "mappings.choices.SmeReview",
        "CommentKindEnum": "mappings.choices.CommentKind",
        "ReviewGateEnum": "signoff.choices.Gate",
        "ReviewStateEnum": "signoff.choices.ReviewState",
        "DecisionVerdictEnum": "signoff.choices.Verdict",
        "UatClassificationEnum": "signoff.choices.UatClassification",
        "UatStateEnum": "signoff.choices.UatState",
        "CutoverStepEnum": "signoff.choices.CutoverStep",
        "AuditKindEnum": "signoff.choices.AuditKind",
        "NotificationKindEnum": "signoff.choices.NotificationKind",
        "SpecImportStateEnum": "exports.choices.SpecImportState",
    },
}

# --- Celery ---------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TRACK_STARTED = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
