"""CareTrack: student care case management for a college's student-affairs office."""

import os
from collections.abc import Mapping
from functools import cached_property, lru_cache

from babel import support
from flask import Flask, Request, current_app, has_request_context, jsonify, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import event, text
from wtforms.i18n import messages_path

from caretrack.extensions import babel, csrf, db, login_manager, migrate
from config import load_config


def create_app(
    config_name: str | None = None, *, env: Mapping[str, str] | None = None, **overrides
) -> Flask:
    """Build the CareTrack application for ``config_name`` (default: $CARETRACK_CONFIG).

    The settings are read from ``env`` (default: the process environment, read now), then
    ``overrides`` replace single settings.
    """
    env = os.environ if env is None else env
    config_name = config_name or env.get("CARETRACK_CONFIG", "development")
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    app.request_class = CareTrackRequest
    app.config.update(load_config(config_name, env))
    app.config.update(overrides)
    app.config["CARETRACK_CONFIG_NAME"] = config_name
    if config_name == "production":
        app.debug = False
    app.json.ensure_ascii = False
    os.makedirs(app.instance_path, exist_ok=True)

    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_cli(app)
    return app


@lru_cache(maxsize=8)
def _wtforms_catalog(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class CareTrackRequest(Request):
    """The request, with WTForms' own messages (e.g. "Not a valid choice") in the request's
    language read from a per-process cache: Flask-WTF looks for ``wtforms_translations`` on
    the request and would otherwise read the catalog from disk for every form."""

    @cached_property
    def wtforms_translations(self) -> support.Translations:
        return _wtforms_catalog(str(get_locale()))


def engine_options(config: Mapping) -> dict:
    """Return the engine options for the configured database: on PostgreSQL every connection
    starts without JIT compilation (the college-wide counts cost more than jit_above_cost at
    tens of thousands of students, and compiling them took longer - 0.3-0.7 s a query - than
    running them)."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        options["connect_args"] = {**options.get("connect_args", {}), "options": "-c jit=off"}
    return options


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Foreign keys, WAL, a busy timeout and secure deletes on every SQLite connection (a
    deleted or overwritten row's bytes are zeroed in the file, so a purge leaves no copy); its
    write transactions begin IMMEDIATE.

    The driver opens a transaction only before the first INSERT, UPDATE or DELETE (a read
    takes no lock: in WAL it reads a snapshot), and begins it IMMEDIATE: the write lock is
    taken at once, waiting up to the busy timeout for another writer, never upgraded from a
    read lock halfway (which fails at once with "database is locked")."""
    dbapi_connection.isolation_level = "IMMEDIATE"
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def register_extensions(app: Flask) -> None:
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "warning"
    login_manager.login_message = _l("Please sign in to see this page.")
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)

    from caretrack import security

    security.init_app(app)

    from caretrack import models  # noqa: F401  (register the models with the metadata)
    from caretrack.auth.services import load_user_from_cookie_id

    login_manager.user_loader(load_user_from_cookie_id)


def select_locale() -> str:
    """Pick the interface language: ?lang=, then the user's preference, then the default."""
    if not has_request_context():  # flask commands: the college's default language
        return current_app.config["CARETRACK_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    requested = request.args.get("lang")
    if requested in languages:
        session["lang"] = requested
        return requested
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        if "lang" not in session:
            return current_user.locale
    if session.get("lang") in languages:
        return session["lang"]
    return current_app.config["CARETRACK_LOCALE"]


def select_timezone() -> str:
    return current_app.config["CARETRACK_TIMEZONE"]


def register_blueprints(app: Flask) -> None:
    """Register every blueprint (each package's ``__init__`` imports its own routes)."""
    from caretrack.absences import bp as absences
    from caretrack.admin import bp as admin
    from caretrack.api import register as register_api
    from caretrack.auth import bp as auth
    from caretrack.bulk import bp as bulk
    from caretrack.calendar import bp as calendar
    from caretrack.checkin import bp as checkin
    from caretrack.colleges import bp as colleges
    from caretrack.groups import bp as groups
    from caretrack.main import bp as main
    from caretrack.notices import bp as notices
    from caretrack.office import bp as office
    from caretrack.rechecks import bp as rechecks
    from caretrack.referrals import bp as referrals
    from caretrack.reports import bp as reports
    from caretrack.retention import bp as retention
    from caretrack.returns import bp as returns
    from caretrack.review import bp as review
    from caretrack.students import bp as students
    from caretrack.work import bp as jobs

    app.register_blueprint(main)
    app.register_blueprint(auth)
    app.register_blueprint(students, url_prefix="/students")
    app.register_blueprint(rechecks, url_prefix="/rechecks")
    app.register_blueprint(calendar, url_prefix="/calendar")
    app.register_blueprint(referrals, url_prefix="/referrals")
    app.register_blueprint(review, url_prefix="/review")
    app.register_blueprint(reports, url_prefix="/reports")
    app.register_blueprint(admin, url_prefix="/admin")
    app.register_blueprint(colleges, url_prefix="/colleges")
    app.register_blueprint(office, url_prefix="/office")
    app.register_blueprint(checkin, url_prefix="/checkin")
    app.register_blueprint(notices, url_prefix="/notices")
    app.register_blueprint(returns, url_prefix="/returns")
    app.register_blueprint(absences, url_prefix="/absences")
    app.register_blueprint(retention, url_prefix="/retention")
    app.register_blueprint(bulk, url_prefix="/bulk")
    app.register_blueprint(jobs, url_prefix="/jobs")
    app.register_blueprint(groups, url_prefix="/groups")
    register_api(app)  # the JSON API under /api/v1 (its own CSRF rule: caretrack/api/auth.py)

    @app.get("/healthz")
    def healthz():
        """Answer whether the app and its database are up."""
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means the database is unreachable
            db.session.rollback()
            return jsonify(status="error", database="unreachable"), 503
        return jsonify(status="ok", database="ok")


def register_error_handlers(app: Flask) -> None:
    from caretrack.errors import register_error_handlers as register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from caretrack import templating

    templating.init_app(app)

    @app.context_processor
    def inject_globals():
        return {"current_locale": str(get_locale())}


def register_cli(app: Flask) -> None:
    from caretrack.cli import register

    register(app)
