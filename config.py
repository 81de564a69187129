"""CareTrack configuration: every setting comes from the environment the app is built with.

A configuration class holds the constants of one kind of install; :meth:`Config.load` reads the
environment it is given (``os.environ`` unless a test passes another) when the app is built, so
nothing is frozen at import time.
"""

import os
import re
import sys
from collections.abc import Mapping
from datetime import timedelta
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


def _hour_before(at: str) -> str:
    """The time of day an hour before ``at`` ("HH:MM")."""
    hours, minutes = at.split(":")
    return f"{(int(hours) - 1) % 24:02d}:{minutes}"


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
    #: Sign-in throttling (Flask-Limiter): a sliding window, so "5 per 15 minutes" is exact.
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_HEADERS_ENABLED = False
    #: Whether the roles that see more than one caseload must sign in with a second factor.
    REQUIRE_TWO_FACTOR = False
    #: Strict-Transport-Security (production, behind TLS).
    HSTS = False

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
        idle = int(env.get("CARETRACK_SESSION_IDLE_MINUTES", 30))
        longest = int(env.get("CARETRACK_SESSION_MAX_HOURS", 12))
        redis_url = env.get("REDIS_URL", "")
        optional = {"REQUIRE_TWO_FACTOR": env["CARETRACK_REQUIRE_2FA"] == "1"} if (
            "CARETRACK_REQUIRE_2FA" in env) else {}
        return optional | {
            "REDIS_URL": redis_url,
            "RATELIMIT_STORAGE_URI": redis_url or "memory://",
            #: The RQ queue of the jobs (with REDIS_URL; without it jobs run in-process).
            "JOBS_QUEUE": env.get("CARETRACK_JOBS_QUEUE", "caretrack"),
            #: How much lower than the web's the job workers' CPU priority is (os.nice), so
            #: that the pages win a core a job also wants; 0 leaves it as it is.
            "JOBS_NICE": int(env.get("CARETRACK_JOBS_NICE", 10)),
            #: The address each group robot's webhook starts with (only these are stored).
            "GROUP_WEBHOOK_PREFIXES": {
                "wecom": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=",
                "dingtalk": "https://oapi.dingtalk.com/robot/send?access_token=",
            },
            #: Modules of more tasks for the workers to know, comma-separated.
            "JOBS_TASK_MODULES": tuple(
                m.strip() for m in env.get("CARETRACK_JOBS_TASK_MODULES", "").split(",")
                if m.strip()),
            #: Failed sign-ins (and second-factor codes) allowed per account and per address.
            "LOGIN_FAILURE_LIMIT": env.get("CARETRACK_LOGIN_FAILURE_LIMIT", "5 per 15 minutes"),
            #: Wrong identities on the students' check-in allowed per address (the database
            #: also counts them per student and per link).
            "CHECKIN_FAILURE_LIMIT": env.get("CARETRACK_CHECKIN_FAILURE_LIMIT",
                                             "60 per 15 minutes"),
            #: Calendar feed requests per address, and unknown feed tokens per address.
            "CALENDAR_LIMIT": env.get("CARETRACK_CALENDAR_LIMIT", "120 per hour"),
            "CALENDAR_MISS_LIMIT": env.get("CARETRACK_CALENDAR_MISS_LIMIT", "10 per 15 minutes"),
            #: For the API to come: requests per account.
            "API_LIMIT": env.get("CARETRACK_API_LIMIT", "600 per minute"),
            "SESSION_IDLE": timedelta(minutes=idle),
            "SESSION_MAX_AGE": timedelta(hours=longest),
            "PERMANENT_SESSION_LIFETIME": timedelta(hours=longest),
            #: Proxies in front of the app whose X-Forwarded-For/-Proto are trusted.
            "PROXY_HOPS": int(env.get("CARETRACK_PROXY_HOPS", 0)),
            #: Upload limits, checked before a spreadsheet is parsed (sized for 50,000 students).
            "UPLOAD_MAX_UNPACKED_BYTES": int(env.get("CARETRACK_UPLOAD_MAX_UNPACKED_BYTES",
                                                     200 * 1024 * 1024)),
            "UPLOAD_MAX_RATIO": int(env.get("CARETRACK_UPLOAD_MAX_RATIO", 100)),
            "UPLOAD_MAX_ROWS": int(env.get("CARETRACK_UPLOAD_MAX_ROWS", 60_000)),
            "SECRET_KEY": env.get("SECRET_KEY", "dev-not-secret"),
            "SQLALCHEMY_DATABASE_URI": database_url(env.get("DATABASE_URL", cls.default_database)),
            "CARETRACK_TIMEZONE": timezone,
            "CARETRACK_LOCALE": locale,
            #: Daily report deadline, local time of the college ("HH:MM").
            "DAILY_REPORT_DEADLINE": env.get("CARETRACK_REPORT_DEADLINE", "11:00"),
            #: Students' check-in cut-off, college time; later check-ins count, marked late.
            "CHECKIN_DEADLINE": env.get("CARETRACK_CHECKIN_DEADLINE", "10:00"),
            #: When each entry of the schedule runs, college time ("HH:MM"; flask jobs tick).
            "SCHEDULE_TIMES": {
                "daily.tallies": env.get("CARETRACK_TALLIES_AT", "00:05"),
                "rechecks.digest": env.get("CARETRACK_DIGEST_AT", "07:30"),
                "checkin.reminders": env.get("CARETRACK_CHECKIN_REMINDER_AT", "09:00"),
                "reports.deadline": env.get(
                    "CARETRACK_REPORT_REMINDER_AT",
                    _hour_before(env.get("CARETRACK_REPORT_DEADLINE", "11:00"))),
                "reports.send": env.get("CARETRACK_REPORT_SEND_AT", "13:00"),
                "retention.purge": env.get("CARETRACK_RETENTION_PURGE_AT", "03:00"),
            },
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
            # Comma-separated addresses of the university office: each college's report once
            # its last sign-off stage approved.
            "UNIVERSITY_OFFICE_RECIPIENTS": [
                a.strip() for a in env.get("CARETRACK_OFFICE_RECIPIENTS", "").split(",")
                if a.strip()
            ],
            # The university office's deadline for every college's report (college time).
            "UNIVERSITY_DEADLINE": env.get("CARETRACK_UNIVERSITY_DEADLINE", "14:00"),
            # Comma-separated addresses that receive the university report.
            "UNIVERSITY_REPORT_RECIPIENTS": [
                a.strip() for a in env.get("CARETRACK_UNIVERSITY_REPORT_RECIPIENTS", "")
                .split(",") if a.strip()
            ],
            # Comma-separated addresses that receive the college's daily report.
            "REPORT_RECIPIENTS": [
                a.strip() for a in env.get("CARETRACK_REPORT_RECIPIENTS", "").split(",")
                if a.strip()
            ],
        }


class DevelopmentConfig(Config):
    DEBUG = True


def worker_count(env: Mapping[str, str]) -> int:
    """How many worker processes gunicorn is told to run (WEB_CONCURRENCY, or -w/--workers in
    GUNICORN_CMD_ARGS); 1 when neither says."""
    counts = [int(env["WEB_CONCURRENCY"])] if env.get("WEB_CONCURRENCY", "").isdigit() else []
    found = re.search(r"(?:-w|--workers)[= ]?\s*(\d+)", env.get("GUNICORN_CMD_ARGS", ""))
    if found:
        counts.append(int(found.group(1)))
    return max(counts, default=1)


def production_problems(env: Mapping[str, str]) -> list[str]:
    """What keeps this environment from running in production, one sentence each."""
    problems = []
    key = env.get("SECRET_KEY", "")
    if key in WEAK_SECRET_KEYS or len(key) < 32:
        problems.append("SECRET_KEY must be set to a random value of at least 32 characters "
                        "in production")
    if env.get("FLASK_DEBUG", "0").lower() not in ("", "0", "false", "no"):
        problems.append("FLASK_DEBUG is on: debug never runs in production")
    if worker_count(env) > 1 and not env.get("REDIS_URL"):
        problems.append(f"REDIS_URL is missing: {worker_count(env)} workers must share the "
                        "sign-in throttling (set REDIS_URL=redis://host:6379/0)")
    return problems


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
    REQUIRE_TWO_FACTOR = True

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> dict:
        """Read the settings, refusing what production must not run with (printed, each).

        :raise RuntimeError: when SECRET_KEY is weak or shorter than 32 characters, debug is
            on, or several workers are configured without REDIS_URL.
        """
        problems = production_problems(env)
        if problems:
            for problem in problems:
                print(f"caretrack: {problem}", file=sys.stderr)
            raise RuntimeError("; ".join(problems))
        secure = env.get("CARETRACK_INSECURE_COOKIES", "0") != "1"
        return super().from_environment(env) | {
            "SECRET_KEY": env["SECRET_KEY"],
            "SESSION_COOKIE_SECURE": secure,
            "REMEMBER_COOKIE_SECURE": secure,
            # A __Host- cookie is sent only over HTTPS, for this host and every path.
            "SESSION_COOKIE_NAME": "__Host-caretrack" if secure else "caretrack",
            "HSTS": secure,
        }


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(name: str, env: Mapping[str, str] | None = None) -> dict:
    """Return the settings of the install ``name`` read from ``env`` (default: os.environ)."""
    return CONFIGS[name].load(os.environ if env is None else env)
