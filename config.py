"""CareTrack configuration: every setting comes from the environment the app is built with.

A configuration class holds the constants of one kind of install; :meth:`Config.load` reads the
environment it is given (``os.environ`` unless a test passes another) when the app is built, so
nothing is frozen at import time.
"""

import os
from collections.abc import Mapping
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
WEAK_SECRET_KEYS = {"", "dev", "change-me", "secret", "dev-not-secret"}


def database_url(url: str) -> str:
    """Return ``url`` with the psycopg driver named (Heroku-style URLs say "postgres://")."""
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


class Config:
    """Settings every install shares."""

    #: Where the data lives when DATABASE_URL is not set.
    default_database = f"sqlite:///{BASE_DIR / 'instance' / 'caretrack.db'}"
    #: How mail goes out when CARETRACK_MAIL_BACKEND is not set: console | smtp | memory.
    default_mail_backend = "console"

    DEBUG = False
    TESTING = False
    SQLALCHEMY_ENGINE_OPTIONS: Mapping = {"pool_pre_ping": True}
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "caretrack" / "translations")
    LANGUAGES = ("zh_CN", "en")
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    STUDENTS_PER_PAGE = 50

    @classmethod
    def load(cls, env: Mapping[str, str]) -> dict:
        """Return this install's settings: the class's constants, then what ``env`` says."""
        constants = {name: getattr(cls, name) for name in dir(cls) if name.isupper()}
        return constants | cls.from_environment(env)

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> dict:
        """Return the settings read from ``env``."""
        timezone = env.get("CARETRACK_TIMEZONE", "Asia/Shanghai")
        locale = env.get("CARETRACK_LOCALE", "zh_CN")
        return {
            "SECRET_KEY": env.get("SECRET_KEY", "dev-not-secret"),
            "SQLALCHEMY_DATABASE_URI": database_url(env.get("DATABASE_URL", cls.default_database)),
            "CARETRACK_TIMEZONE": timezone,
            "CARETRACK_LOCALE": locale,
            #: Daily report deadline, local time of the college ("HH:MM").
            "DAILY_REPORT_DEADLINE": env.get("CARETRACK_REPORT_DEADLINE", "11:00"),
            #: Students' check-in cut-off, college time; later check-ins count, marked late.
            "CHECKIN_DEADLINE": env.get("CARETRACK_CHECKIN_DEADLINE", "10:00"),
            "BABEL_DEFAULT_LOCALE": locale,
            "BABEL_DEFAULT_TIMEZONE": timezone,
            "MAX_CONTENT_LENGTH": int(env.get("CARETRACK_MAX_UPLOAD_BYTES", 16 * 1024 * 1024)),
            "MAIL_BACKEND": env.get("CARETRACK_MAIL_BACKEND", cls.default_mail_backend),
            "MAIL_SERVER": env.get("MAIL_SERVER", "localhost"),
            "MAIL_PORT": int(env.get("MAIL_PORT", 25)),
            "MAIL_USERNAME": env.get("MAIL_USERNAME"),
            "MAIL_PASSWORD": env.get("MAIL_PASSWORD"),
            "MAIL_USE_TLS": env.get("MAIL_USE_TLS", "0") == "1",
            "MAIL_SENDER": env.get("MAIL_SENDER", "caretrack@localhost"),
            # Address of the site as users reach it, for links in emails.
            "CARETRACK_BASE_URL": env.get("CARETRACK_BASE_URL", "http://127.0.0.1:5000"),
            # Comma-separated addresses that receive the college's daily report.
            "REPORT_RECIPIENTS": [
                a.strip() for a in env.get("CARETRACK_REPORT_RECIPIENTS", "").split(",")
                if a.strip()
            ],
        }


class DevelopmentConfig(Config):
    DEBUG = True


class TestingConfig(Config):
    default_database = "sqlite://"

    TESTING = True
    WTF_CSRF_ENABLED = False
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105 - fast hashing in tests only

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> dict:
        return super().from_environment(env) | {
            "SECRET_KEY": "testing-secret-key-not-for-production",
            "MAIL_BACKEND": "memory",
        }


class ProductionConfig(Config):
    default_mail_backend = "smtp"

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> dict:
        """Read the settings, refusing a missing or weak secret key.

        :raise RuntimeError: when SECRET_KEY is weak or shorter than 32 characters.
        """
        key = env.get("SECRET_KEY", "")
        if key in WEAK_SECRET_KEYS or len(key) < 32:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production"
            )
        secure = env.get("CARETRACK_INSECURE_COOKIES", "0") != "1"
        return super().from_environment(env) | {
            "SECRET_KEY": key,
            "SESSION_COOKIE_SECURE": secure,
            "REMEMBER_COOKIE_SECURE": secure,
        }


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(name: str, env: Mapping[str, str] | None = None) -> dict:
    """Return the settings of the install ``name`` read from ``env`` (default: os.environ)."""
    return CONFIGS[name].load(os.environ if env is None else env)
