"""CareTrack: student care case management for a college's student-affairs office."""

import os

from flask import Flask, has_request_context, jsonify, render_template, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from caretrack.extensions import babel, csrf, db, login_manager, migrate
from config import CONFIGS, ProductionConfig


def create_app(config_name: str | None = None, **overrides) -> Flask:
    """Build the CareTrack application for ``config_name`` (default: $CARETRACK_CONFIG)."""
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    config_name = config_name or os.environ.get("CARETRACK_CONFIG", "development")
    config_class = CONFIGS[config_name]
    if config_class is ProductionConfig:
        ProductionConfig.validate()
    app.config.from_object(config_class)
    app.config.update(overrides)
    if config_class is ProductionConfig:
        app.debug = False
    app.config["CARETRACK_CONFIG_NAME"] = config_name
    app.json.ensure_ascii = False
    os.makedirs(app.instance_path, exist_ok=True)

    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_cli(app)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "warning"
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)

    from caretrack import models  # noqa: F401  (register the models with the metadata)
    from caretrack.auth.services import load_user_from_cookie_id

    login_manager.user_loader(load_user_from_cookie_id)

    login_manager.login_message = _l("Please sign in to see this page.")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Foreign keys, WAL and a busy timeout on every SQLite connection."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "connect")
def _postgresql_settings(dbapi_connection, connection_record) -> None:
    """No JIT compilation on PostgreSQL connections: the college-wide counts cost more than
    jit_above_cost at tens of thousands of students, and compiling them took longer (0.3-0.7 s
    a query) than running them."""
    module = type(dbapi_connection).__module__
    if not module.startswith("psycopg"):
        return
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True  # a SET inside a transaction ends with its rollback
    cursor = dbapi_connection.cursor()
    cursor.execute("SET jit = off")
    cursor.close()
    dbapi_connection.autocommit = autocommit


def select_locale() -> str:
    """Pick the interface language: ?lang=, then the user's preference, then the default."""
    from flask import current_app

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
    from flask import current_app

    return current_app.config["CARETRACK_TIMEZONE"]


#: (module, url prefix) of every blueprint. Modules that only add routes to another package's
#: blueprint are in ROUTE_MODULES and must be imported before that blueprint is registered.
BLUEPRINTS = [
    ("caretrack.main.views", None),
    ("caretrack.auth.views", None),
    ("caretrack.students.views", "/students"),
    ("caretrack.rechecks.views", "/rechecks"),
    ("caretrack.calendar.views", "/calendar"),
    ("caretrack.referrals.views", "/referrals"),
    ("caretrack.review.views", "/review"),
    ("caretrack.reports.views", "/reports"),
    ("caretrack.admin.views", "/admin"),
    ("caretrack.checkin", "/checkin"),
]
ROUTE_MODULES = [
    "caretrack.main.dashboard",
    "caretrack.students.exports",
    "caretrack.admin.audit",
    "caretrack.admin.categories",
    "caretrack.admin.roster_import",
    "caretrack.admin.audit_export",
]


def register_blueprints(app: Flask) -> None:
    import importlib

    for module in ROUTE_MODULES:
        importlib.import_module(module)
    for module, prefix in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(module).bp, url_prefix=prefix)

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
    def render_error(code: int, template: str):
        def handler(error):
            db.session.rollback()
            return render_template(template, error=error), code

        return handler

    for code in (400, 403, 404, 405, 409, 413, 500):
        app.register_error_handler(code, render_error(code, f"errors/{code}.html"))

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        db.session.rollback()
        return render_template("errors/400.html", error=error, csrf=True), 400


def register_template_helpers(app: Flask) -> None:
    from caretrack import templating

    templating.init_app(app)

    @app.context_processor
    def inject_globals():
        return {"current_locale": str(get_locale())}


def register_cli(app: Flask) -> None:
    from caretrack.cli import register

    register(app)
