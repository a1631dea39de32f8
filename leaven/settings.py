"""Leaven's one settings file. Everything that differs between machines comes from the
environment (or from a `.env` file beside the project, for the embedded default).

Secrets may be given directly (`SECRET_KEY=...`) or as a file (`SECRET_KEY_FILE=/run/secrets/...`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def _load_env_file(path: Path) -> None:
    """Read KEY=VALUE lines into the environment without overriding what is already set."""
    if not path.is_file():
        return
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        os.environ.setdefault(key.strip(), value.strip().strip("'\""))


_load_env_file(Path(os.environ.get("LEAVEN_ENV_FILE", BASE_DIR / ".env")))


def env(name: str, default: str = "") -> str:
    """A setting from the environment, or from the file named by NAME_FILE."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = env(name, "1" if default else "0").strip().lower()
    return value in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(env(name, str(default)))


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Under pytest, tests get development keys and run tasks in-process.
TESTING = env_bool("LEAVEN_TESTING", "pytest" in sys.modules)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "insecure-development-key-never-use-in-production-0123456789"  # noqa: S105
    else:
        raise ImproperlyConfigured("Set SECRET_KEY (or SECRET_KEY_FILE) in the environment.")

# Field encryption. LEAVEN_ENCRYPTION_KEYS is "kid:base64key,kid:base64key"; the first is the
# one new values are written with, the others still decrypt old values until `leaven
# rotate-keys` has re-encrypted them. LEAVEN_BLIND_INDEX_KEY keys the HMAC used for exact
# lookups of encrypted values. Without them, development and tests derive keys from SECRET_KEY.
LEAVEN_ENCRYPTION_KEYS = env("LEAVEN_ENCRYPTION_KEYS")
LEAVEN_BLIND_INDEX_KEY = env("LEAVEN_BLIND_INDEX_KEY")
LEAVEN_DERIVE_DEV_KEYS = DEBUG or TESTING or env_bool("LEAVEN_DERIVE_DEV_KEYS", False)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "leaven.geo.apps.LeafletAssetsConfig",
    "django_tasks",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "leaven.core",
    "leaven.people",
    "leaven.geo",
    "leaven.imports",
    "leaven.membership",
    "leaven.messaging",
    "leaven.events",
    "leaven.canvass",
    "leaven.rapid_response",
    "leaven.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "leaven.core.middleware.AuditSourceMiddleware",
    "leaven.core.middleware.RequireMFAMiddleware",
]

ROOT_URLCONF = "leaven.urls"
WSGI_APPLICATION = "leaven.wsgi.application"
AUTH_USER_MODEL = "core.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "leaven" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "leaven.core.context_processors.navigation",
            ],
        },
    },
]

# Databases: SQLite (WAL) by default, PostgreSQL through DATABASE_URL.
DATABASE_URL = env("DATABASE_URL")
if not DATABASE_URL:
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASE_URL = f"sqlite:///{BASE_DIR / 'var' / 'leaven.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA temp_store=MEMORY;"
            "PRAGMA mmap_size=268435456;"
            "PRAGMA cache_size=-65536;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": env("LEAVEN_TEST_SQLITE", "") or None}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background work: Django's Tasks API, stored in the same database.
TASKS = {
    "default": {
        "BACKEND": env(
            "LEAVEN_TASKS_BACKEND",
            "django_tasks.backends.immediate.ImmediateBackend"
            if TESTING
            else "django_tasks_db.DatabaseBackend",
        ),
        "QUEUES": ["default"],
    }
}

# Email through a provider (LEAVEN_EMAIL_TRANSPORT=anymail): its credentials, and the secret
# its tracking webhooks must present; without that secret they answer 404.
ANYMAIL = {
    name: value
    for name, value in {
        "WEBHOOK_SECRET": env("LEAVEN_ANYMAIL_WEBHOOK_SECRET"),
        "POSTMARK_SERVER_TOKEN": env("POSTMARK_SERVER_TOKEN"),
        "MAILGUN_API_KEY": env("MAILGUN_API_KEY"),
        "MAILGUN_SENDER_DOMAIN": env("MAILGUN_SENDER_DOMAIN"),
        "MAILGUN_WEBHOOK_SIGNING_KEY": env("MAILGUN_WEBHOOK_SIGNING_KEY"),
        "SENDGRID_API_KEY": env("SENDGRID_API_KEY"),
        "BREVO_API_KEY": env("BREVO_API_KEY"),
        "MAILJET_API_KEY": env("MAILJET_API_KEY"),
        "MAILJET_SECRET_KEY": env("MAILJET_SECRET_KEY"),
        "SPARKPOST_API_KEY": env("SPARKPOST_API_KEY"),
    }.items()
    if value
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-allauth: email sign-in, no public sign-up, MFA, rate limits, re-authentication.
ACCOUNT_ADAPTER = "leaven.core.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
}
if TESTING:
    ACCOUNT_RATE_LIMITS = {
        **ACCOUNT_RATE_LIMITS,
        "login": "1000/m/ip",
        "login_failed": "1000/m/ip,5/5m/key",
    }
MFA_ADAPTER = "leaven.core.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env("LEAVEN_MFA_ISSUER", "Leaven")
MFA_RECOVERY_CODE_COUNT = 10
# Accept the code of the 30-second window before or after, for a code typed at the edge.
MFA_TOTP_TOLERANCE = 1
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

# Sessions end after LEAVEN_SESSION_IDLE_MINUTES without a request, and with the browser.
SESSION_COOKIE_AGE = env_int("LEAVEN_SESSION_IDLE_MINUTES", 60) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# HTTPS and headers. LEAVEN_HTTPS defaults on unless DEBUG; the local demo turns it off.
LEAVEN_HTTPS = env_bool("LEAVEN_HTTPS", not DEBUG and not TESTING)
SECURE_SSL_REDIRECT = LEAVEN_HTTPS
SESSION_COOKIE_SECURE = LEAVEN_HTTPS
CSRF_COOKIE_SECURE = LEAVEN_HTTPS
SECURE_HSTS_SECONDS = env_int("LEAVEN_HSTS_SECONDS", 31536000) if LEAVEN_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = LEAVEN_HTTPS
SECURE_HSTS_PRELOAD = LEAVEN_HTTPS
# Behind a reverse proxy: trust its X-Forwarded-Proto, and take the client's address from the
# last X-Forwarded-For hop (the one the proxy appended) for rate limits.
LEAVEN_BEHIND_PROXY = env_bool("LEAVEN_BEHIND_PROXY", False)
if LEAVEN_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Languages: English and Spanish are first-class.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "leaven" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env("LEAVEN_TIME_ZONE", "America/Chicago")
LANGUAGE_COOKIE_SECURE = LEAVEN_HTTPS
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "leaven" / "static"]
# In development and tests, serve straight from the source folders.
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
STATIC_ROOT = Path(env("LEAVEN_STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Leaven <noreply@localhost>")

# Maps: the tile URL template (https://tile.example.org/{z}/{x}/{y}.png); empty draws the
# shapes on a plain background, with no request leaving the site.
LEAVEN_MAP_TILES = env("LEAVEN_MAP_TILES")

# Card and bank dues through Stripe: the signing secret of the webhook endpoint, and an
# optional payment link the join page offers. Leaven never calls Stripe itself.
LEAVEN_STRIPE_WEBHOOK_SECRET = env("LEAVEN_STRIPE_WEBHOOK_SECRET")
LEAVEN_STRIPE_PAYMENT_LINK = env("LEAVEN_STRIPE_PAYMENT_LINK")

# Pages: how many people a list page shows.
LEAVEN_PAGE_SIZE = env_int("LEAVEN_PAGE_SIZE", 50)

# API: how many person records one key may read per day (UTC); beyond it the API answers 429.
LEAVEN_API_DAILY_PEOPLE_READS = env_int("LEAVEN_API_DAILY_PEOPLE_READS", 50_000)

# Imports: where uploaded files are kept, and the limits checked before parsing.
LEAVEN_IMPORT_DIR = Path(env("LEAVEN_IMPORT_DIR", str(BASE_DIR / "var" / "imports")))
LEAVEN_IMPORT_MAX_BYTES = env_int("LEAVEN_IMPORT_MAX_BYTES", 2 * 1024**3)
LEAVEN_IMPORT_MAX_ROWS = env_int("LEAVEN_IMPORT_MAX_ROWS", 10_000_000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LEAVEN_LOG_LEVEL", "INFO")},
    # Request logs carry URLs only; no personal data is ever put in a URL.
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
