"""Settings, read from the environment (see DESIGN.md, Environment).

DATABASE_URL  the app's database; default an SQLite file under var/
REDIS_URL     Celery broker and result backend; unset -> tasks run eagerly in-process
SECRET_KEY    required unless DEBUG is on
DEBUG, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS, SECURE_SSL_REDIRECT, EMAIL_URL-free email settings
"""

import os
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
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "simple_history",
    "workbench",
    "contracts",
    "catalog",
    "mappings",
    "signoff",
    "exports",
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
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
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
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "engagement-list"
LOGOUT_REDIRECT_URL = "login"

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

# --- email: console in development ----------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "workbench@localhost")

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
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
