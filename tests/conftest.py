"""Fixtures: an app on a fresh database per test, a client, and signing in as each role.

A test that asks for ``demo`` runs instead on its own copy of the demo college, which
``flask seed-demo`` builds once per session into a template database.
"""

import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from caretrack import create_app
from caretrack.extensions import db
from caretrack.services.status_rules import seed_default_rules
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
def app(request, _app):
    """The app, inside an app context, on empty tables (or on a copy of the demo college).
    The rate limiter starts each test with no try counted."""
    from caretrack.extensions import limiter

    limiter.reset()
    if "demo" in request.fixturenames:
        template = request.getfixturevalue("demo_template")
        with template.copy_app() as demo_app, demo_app.app_context():
            yield demo_app
            db.session.remove()
        return
    with _app.app_context():
        _empty_tables()
        yield _app
        db.session.remove()


@dataclass
class DemoTemplate:
    """The demo college seeded once by ``flask seed-demo``; each demo test gets a copy."""

    url: str
    #: What ``flask seed-demo`` printed, and its exit code.
    output: str
    exit_code: int
    #: When the seed ran: its "today" is the college's today at that instant.
    now: datetime
    folder: Path

    def _admin_engine(self):
        return create_engine(
            make_url(self.url).set(database="postgres"), isolation_level="AUTOCOMMIT"
        )

    def copy_url(self, name: str) -> str:
        """A new database with the demo's data, named after ``name``."""
        url = make_url(self.url)
        if url.get_backend_name() == "sqlite":
            copy = self.folder / f"{name}.db"
            shutil.copyfile(url.database, copy)
            return f"sqlite:///{copy}"
        engine = self._admin_engine()
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"'))
        engine.dispose()
        return url.set(database=name).render_as_string(hide_password=False)

    def drop(self, copy_url: str) -> None:
        url = make_url(copy_url)
        if url.get_backend_name() == "sqlite":
            Path(url.database).unlink(missing_ok=True)
            return
        engine = self._admin_engine()
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        engine.dispose()

    @contextmanager
    def copy_app(self, purpose: str = "copy", **overrides):
        """An app of its own on a fresh copy of the demo; the copy is dropped after."""
        stem = Path(make_url(self.url).database).stem
        url = self.copy_url(f"{stem}_{purpose}")
        made = create_app("testing", SQLALCHEMY_DATABASE_URI=url, **overrides)
        made.test_client_class = IsolatedClient
        try:
            yield made
        finally:
            with made.app_context():
                db.session.remove()
                db.engine.dispose()
            self.drop(url)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """Migrate a template database from empty and run ``flask seed-demo`` on it, once."""
    from flask_migrate import upgrade

    folder = tmp_path_factory.mktemp("demo")
    if POSTGRES:
        base = make_url(os.environ["DATABASE_URL"])
        url = base.set(database=f"{base.database}_demo").render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{folder / 'demo.db'}"
    template = DemoTemplate(url, "", 1, datetime.now(UTC), folder)
    if POSTGRES:
        template.drop(url)
        engine = template._admin_engine()
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{make_url(url).database}"'))
        engine.dispose()
    seeder = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with seeder.app_context():
        upgrade(directory=str(Path(__file__).resolve().parents[1] / "migrations"))
        template.now = datetime.now(UTC)
        result = seeder.test_cli_runner().invoke(args=["seed-demo"])
        template.output, template.exit_code = result.output, result.exit_code
        db.session.remove()
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    yield template
    if POSTGRES:
        template.drop(url)


@pytest.fixture
def demo(app, demo_template):
    """The demo college of the account, on a database of this test's own."""
    return demo_template


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
    seed_default_rules()
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
