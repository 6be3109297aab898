"""Django settings for Kizuna.

One settings module for every shape: the embedded default (SQLite in WAL mode under ./data)
and production (DATABASE_URL, KIZUNA_SECRET_KEY, KIZUNA_ALLOWED_HOSTS from the environment).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
REPO_DIR = BASE_DIR.parent
DATA_DIR = Path(os.environ.get("KIZUNA_DATA_DIR", REPO_DIR / "data"))


def _secret_key() -> str:
    """Return the configured key, or one generated once and kept in the data folder."""
    key = os.environ.get("KIZUNA_SECRET_KEY")
    if key:
        return key
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        import secrets

        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("KIZUNA_DEBUG", "") == "1"
ALLOWED_HOSTS = os.environ.get("KIZUNA_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("KIZUNA_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "kizuna.accounts",
    "kizuna.brands",
    "kizuna.sources",
    "kizuna.pipeline",
    "kizuna.inbox",
    "kizuna.replies",
    "kizuna.triage",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kizuna.accounts.middleware.JapaneseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "kizuna.urls"
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
                "django.template.context_processors.i18n",
            ],
        },
    },
]
ASGI_APPLICATION = "kizuna.asgi.application"
WSGI_APPLICATION = "kizuna.wsgi.application"


def _database() -> dict[str, object]:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        db: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        db = {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "kizuna.sqlite3"}
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web server read while the pipeline writes; IMMEDIATE transactions take
        # the write lock up front so two writers wait on busy_timeout instead of failing.
        db["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        db["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")} if os.environ.get("KIZUNA_TEST_FILE_DB") else {}
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("KIZUNA_TIME_ZONE", "Asia/Tokyo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = REPO_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Key for encrypting source credentials at rest (Fernet). Derived from SECRET_KEY unless set.
KIZUNA_CREDENTIALS_KEY = os.environ.get("KIZUNA_CREDENTIALS_KEY", "")
# How often the live inbox stream looks for new events, in seconds.
KIZUNA_LIVE_POLL_SECONDS = float(os.environ.get("KIZUNA_LIVE_POLL_SECONDS", "1.0"))

# Crisis alerts and other mail. The embedded default writes mail to files under data/mail;
# production points KIZUNA_SMTP_HOST at its mail relay.
if os.environ.get("KIZUNA_SMTP_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["KIZUNA_SMTP_HOST"],
                "port": int(os.environ.get("KIZUNA_SMTP_PORT", "587")),
                "username": os.environ.get("KIZUNA_SMTP_USER", ""),
                "password": os.environ.get("KIZUNA_SMTP_PASSWORD", ""),
                "use_tls": True,
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(DATA_DIR / "mail")},
        }
    }
DEFAULT_FROM_EMAIL = os.environ.get("KIZUNA_FROM_EMAIL", "kizuna@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"kizuna": {"handlers": ["console"], "level": os.environ.get("KIZUNA_LOG_LEVEL", "INFO")}},
}
