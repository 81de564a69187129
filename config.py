"""CareTrack configuration: every setting comes from the environment."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
WEAK_SECRET_KEYS = {"", "dev", "change-me", "secret", "dev-not-secret"}


def _database_url(default: str) -> str:
    url = os.environ.get("DATABASE_URL", default)
    # Heroku-style URLs name the driver "postgres://"; SQLAlchemy wants the psycopg dialect.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-not-secret")
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{BASE_DIR / 'instance' / 'caretrack.db'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    CARETRACK_TIMEZONE = os.environ.get("CARETRACK_TIMEZONE", "Asia/Shanghai")
    CARETRACK_LOCALE = os.environ.get("CARETRACK_LOCALE", "zh_CN")
    #: Daily report deadline, local time of the college ("HH:MM").
    DAILY_REPORT_DEADLINE = os.environ.get("CARETRACK_REPORT_DEADLINE", "11:00")
    #: Students' check-in cut-off, local time ("HH:MM"); later check-ins count, marked late.
    CHECKIN_DEADLINE = os.environ.get("CARETRACK_CHECKIN_DEADLINE", "10:00")
    BABEL_DEFAULT_LOCALE = CARETRACK_LOCALE
    BABEL_DEFAULT_TIMEZONE = CARETRACK_TIMEZONE
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "caretrack" / "translations")
    LANGUAGES = ("zh_CN", "en")
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    MAX_CONTENT_LENGTH = int(os.environ.get("CARETRACK_MAX_UPLOAD_BYTES", 16 * 1024 * 1024))
    STUDENTS_PER_PAGE = 50
    MAIL_BACKEND = os.environ.get("CARETRACK_MAIL_BACKEND", "console")  # console | smtp | memory
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 25))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "0") == "1"
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "caretrack@localhost")
    #: Address of the site as users reach it, for links in emails ("https://caretrack.example").
    CARETRACK_BASE_URL = os.environ.get("CARETRACK_BASE_URL", "http://127.0.0.1:5000")
    #: Comma-separated addresses that receive the college's daily report.
    REPORT_RECIPIENTS = [
        a.strip() for a in os.environ.get("CARETRACK_REPORT_RECIPIENTS", "").split(",") if a.strip()
    ]


class DevelopmentConfig(Config):
    DEBUG = True


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = _database_url("sqlite://")
    WTF_CSRF_ENABLED = False
    MAIL_BACKEND = "memory"
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105 - fast hashing in tests only


class ProductionConfig(Config):
    DEBUG = False
    TESTING = False
    SESSION_COOKIE_SECURE = os.environ.get("CARETRACK_INSECURE_COOKIES", "0") != "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    MAIL_BACKEND = os.environ.get("CARETRACK_MAIL_BACKEND", "smtp")

    @classmethod
    def validate(cls) -> None:
        """Refuse to start with a missing or weak secret key."""
        key = os.environ.get("SECRET_KEY", "")
        if key in WEAK_SECRET_KEYS or len(key) < 32:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production"
            )
        cls.SECRET_KEY = key


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
