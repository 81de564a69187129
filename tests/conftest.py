"""Fixtures: an app on a fresh database per test, a client, and signing in as each role."""

import os

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from caretrack import create_app
from caretrack.extensions import db
from tests import factories

POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")


@pytest.fixture(scope="session")
def _app(tmp_path_factory):
    overrides = {}
    if not POSTGRES:
        path = tmp_path_factory.mktemp("db") / "test.db"
        overrides["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    app = create_app("testing", **overrides)
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _empty_tables() -> None:
    db.session.remove()
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def app(_app):
    """The app, inside an app context, on empty tables."""
    with _app.app_context():
        _empty_tables()
        yield _app
        db.session.remove()


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    Without this, requests would reuse the test's app context and share ``g`` (the signed-in
    user, the locale) and the database session across requests. The test's own session is
    committed before the request, so the request sees the test's data, and after it, so the
    test reads what the request stored.
    """

    def open(self, *args, **kwargs):
        db.session.commit()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.commit()
        return response


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, user_or_name, password: str = factories.PASSWORD, next_url: str = ""):
        username = getattr(user_or_name, "username", user_or_name)
        url = "/login" + (f"?next={next_url}" if next_url else "")
        return self._client.post(
            url, data={"username": username, "password": password, "next": next_url}
        )

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def college(app):
    """A small college: two counsellors with students, a supervisor, the deputy, the admin."""

    class College:
        pass

    c = College()
    c.counsellor = factories.CounsellorFactory(display_name="李老师")
    c.other_counsellor = factories.CounsellorFactory(display_name="张老师")
    c.supervisor = factories.SupervisorFactory(display_name="王教授")
    c.deputy = factories.DeputyFactory(display_name="王副书记")
    c.admin = factories.AdminFactory(display_name="管理员")
    c.own_student = factories.StudentFactory(counsellor=c.counsellor, name="陈小明")
    c.other_student = factories.StudentFactory(counsellor=c.other_counsellor, name="刘小红")
    c.graduate = factories.StudentFactory(
        counsellor=c.counsellor, name="赵研究", programme="master", supervisor=c.supervisor
    )
    db.session.commit()
    return c


@pytest.fixture
def make_app():
    """Build extra apps (e.g. with CSRF on) on the test database; their engines are closed after."""
    made = []

    def factory(**overrides):
        overrides.setdefault(
            "SQLALCHEMY_DATABASE_URI", db.engine.url.render_as_string(hide_password=False)
        )
        extra = create_app("testing", **overrides)
        extra.test_client_class = IsolatedClient
        made.append(extra)
        return extra

    yield factory
    for extra in made:
        with extra.app_context():
            db.session.remove()
            db.engine.dispose()
