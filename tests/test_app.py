"""Configuration, health check, error pages."""

import pytest
from sqlalchemy import text

from caretrack import create_app
from caretrack.extensions import db
from tests.helpers import text_of


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_without_a_database():
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"


@pytest.mark.parametrize("key", ["", "dev", "short-key"])
def test_production_refuses_a_weak_secret_key(monkeypatch, key):
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_production_runs_without_debug(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    app = create_app("production")
    assert app.debug is False
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SECRET_KEY"] == "x" * 48


def test_connections_are_set_up_for_their_engine(app):
    """SQLite: foreign keys, WAL, a busy timeout, secure deletes and write transactions that
    begin IMMEDIATE on every connection; PostgreSQL: no JIT,
    for the session and not only its first transaction (each suite runs on one of them)."""
    db.engine.dispose()  # a fresh connection, set up by the connect hook
    with db.engine.connect() as connection:
        if db.engine.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10000
            assert connection.execute(text("PRAGMA secure_delete")).scalar() == 1
            # a read opens no transaction; a write begins IMMEDIATE (the write lock at once)
            sent = []
            driver = connection.connection.driver_connection
            driver.set_trace_callback(sent.append)
            connection.execute(text("SELECT count(*) FROM students")).scalar()
            assert driver.in_transaction is False
            connection.execute(text("UPDATE students SET notes = notes WHERE id = 0"))
            assert driver.in_transaction is True
            connection.rollback()
            driver.set_trace_callback(None)
            assert "BEGIN IMMEDIATE" in sent and sent.index("BEGIN IMMEDIATE") > 0
        else:
            assert connection.execute(text("SHOW jit")).scalar() == "off"
            connection.rollback()
            assert connection.execute(text("SHOW jit")).scalar() == "off"


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "未找到" in response.get_data(as_text=True)


def test_naive_datetimes_are_refused(app, college):
    from datetime import datetime

    college.counsellor.created_at = datetime(2020, 2, 1, 8, 0)  # noqa: DTZ001
    with pytest.raises(Exception, match="naive datetime"):
        db.session.flush()
    db.session.rollback()


def test_settings_are_read_from_the_environment_the_app_is_given():
    app = create_app("testing", env={
        "DATABASE_URL": "postgres://carer@db.example/caretrack",
        "CARETRACK_TIMEZONE": "Europe/Paris",
        "CARETRACK_REPORT_RECIPIENTS": "dean@example.edu, office@example.edu",
        "CARETRACK_MAX_UPLOAD_BYTES": "1024",
    })
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://carer@db.example/caretrack")
    assert app.config["BABEL_DEFAULT_TIMEZONE"] == "Europe/Paris"
    assert app.config["REPORT_RECIPIENTS"] == ["dean@example.edu", "office@example.edu"]
    assert app.config["MAX_CONTENT_LENGTH"] == 1024
    assert app.config["MAIL_BACKEND"] == "memory"
    # Every PostgreSQL connection of this app starts without JIT; other engines are untouched.
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"] == {"options": "-c jit=off"}
    assert options["pool_pre_ping"] is True
    assert "connect_args" not in create_app("testing", env={}).config["SQLALCHEMY_ENGINE_OPTIONS"]


def test_production_reads_its_key_and_cookie_settings_when_built():
    app = create_app("production",
                     env={"SECRET_KEY": "k" * 40, "CARETRACK_INSECURE_COOKIES": "1"})
    assert app.config["SECRET_KEY"] == "k" * 40
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["MAIL_BACKEND"] == "smtp"


@pytest.mark.parametrize(("url", "method", "code", "says"), [
    ("/no/such/page", "get", 404, "404 · 未找到"),
    ("/logout", "get", 405, "405 · "),
])
def test_error_pages_name_the_code_and_what_happened(client, url, method, code, says):
    response = getattr(client, method)(url)
    assert response.status_code == code
    assert says in text_of(response)
    assert "返回首页" in text_of(response)


def test_every_page_names_its_icon_and_the_icon_is_served(client):
    body = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in body
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
        assert icon.get_data(as_text=True).startswith("<svg")
