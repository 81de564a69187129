"""Fixtures: an app on a fresh database per test, a client, and signing in as each role.

A test that asks for ``demo`` runs instead on its own copy of the demo college, which
``flask seed-demo`` builds once per session into a template database.
"""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from filelock import FileLock
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from caretrack import create_app
from caretrack.extensions import db
from caretrack.services.status_rules import seed_default_rules
from tests import factories

POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")
ROOT = Path(__file__).resolve().parents[1]


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
        if not POSTGRES:
            SNAPSHOTS.save("empty")
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


class Snapshots:
    """Saved states of the SQLite test database, kept in memory: each test starts from a
    copy of one (the empty tables, the small college, the two colleges...), written back into
    the open database with SQLite's backup API. Much faster than emptying every table and
    building the college again."""

    def __init__(self):
        self.saved: dict[str, sqlite3.Connection] = {}
        #: Per snapshot, the rows a fixture hands out: attribute -> (model, id).
        self.rows: dict[str, dict[str, tuple[type, int]]] = {}

    def save(self, name: str, holder=None) -> None:
        """Save the database as ``name``, and the model rows among ``holder``'s attributes."""
        if holder is not None:
            self.rows[name] = {attribute: (type(value), value.id)
                               for attribute, value in vars(holder).items()
                               if isinstance(value, db.Model)}
        db.session.remove()
        snapshot = sqlite3.connect(":memory:", check_same_thread=False)
        with db.engine.connect() as connection:
            connection.connection.driver_connection.backup(snapshot)
        self.saved[name] = snapshot

    def restore(self, name: str) -> None:
        db.session.remove()
        with db.engine.connect() as connection:
            self.saved[name].backup(connection.connection.driver_connection)

    def load(self, name: str, holder):
        """Set ``holder``'s attributes to the rows saved with ``name``, read with one query
        a model."""
        by_model: dict[type, dict[int, object]] = {}
        for model, key in self.rows[name].values():
            by_model.setdefault(model, {})[key] = None
        for model, rows in by_model.items():
            for row in db.session.scalars(select(model).where(model.id.in_(rows))):
                rows[row.id] = row
        for attribute, (model, key) in self.rows[name].items():
            setattr(holder, attribute, by_model[model][key])
        return holder

    def built_once(self, name: str, holder, build):
        """``build(holder)``, on SQLite only once a process: the database it leaves is saved
        as ``name`` and later calls restore it, and ``holder``'s rows, instead. Only for a
        fixture that builds right on a saved state (the small college): restoring replaces
        the whole database."""
        if POSTGRES:
            build(holder)
            db.session.commit()
            return holder
        if name not in self.saved:
            build(holder)
            db.session.commit()
            self.save(name, holder)
        else:
            self.restore(name)
        return self.load(name, holder)


SNAPSHOTS = Snapshots()


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
        if POSTGRES:
            _empty_tables()
        elif "college" in request.fixturenames and "college" in SNAPSHOTS.saved:
            SNAPSHOTS.restore("college")
        else:
            SNAPSHOTS.restore("empty")
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
        # PostgreSQL copies a template only while no other session is connected to it.
        with FileLock(_shared_dir() / "demo-copy.lock"), engine.connect() as connection:
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
        url = self.copy_url(f"{stem}_{purpose}_{WORKER}")
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
    """The template database of the demo college, seeded by its own process (started when
    the tests were collected, see ``pytest_collection_modifyitems``); this waits for it."""
    result_path = _start_demo_seed()
    deadline = time.monotonic() + DEMO_SEED_TIMEOUT
    while not result_path.exists():
        if not _seeder_alive() and not result_path.exists():
            log = (_shared_dir() / "demo-seed.log").read_text(encoding="utf-8", errors="replace")
            pytest.fail(f"seeding the demo college failed:\n{log}")
        if time.monotonic() > deadline:
            pytest.fail(f"seeding the demo college took more than {DEMO_SEED_TIMEOUT} s")
        time.sleep(0.2)
    outcome = json.loads(result_path.read_text(encoding="utf-8"))
    print(f"demo college seeded in {outcome.get('cpu_seconds')} s of CPU", file=sys.stderr)
    template = DemoTemplate(
        _demo_template_url(), outcome["output"], outcome["exit_code"],
        datetime.fromisoformat(outcome["now"]), tmp_path_factory.mktemp("demo"),
    )
    assert template.exit_code == 0, template.output
    return template


# -- the demo seed in a process of its own, shared by the workers of a parallel run ----------

#: How long a test waits for the demo college before it fails.
DEMO_SEED_TIMEOUT = 900
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def _shared_dir() -> Path:
    return Path(os.environ["CARETRACK_TEST_SHARED"])


def _base_database_url() -> str:
    return os.environ.get("CARETRACK_TEST_BASE_URL") or os.environ.get("DATABASE_URL", "")


def _demo_template_url() -> str:
    if POSTGRES:
        base = make_url(_base_database_url())
        return base.set(database=f"{base.database}_demo").render_as_string(hide_password=False)
    return f"sqlite:///{_shared_dir() / 'demo.db'}"


def _seeder_alive() -> bool:
    pid_file = _shared_dir() / "demo-seed.pid"
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text()), 0)
    except (ProcessLookupError, ValueError):
        return False
    return True


def _start_demo_seed() -> Path:
    """Start the demo seed once for the whole run (whichever worker asks first); return the
    path of the result file it writes when done."""
    shared = _shared_dir()
    result_path = shared / "demo-seed.json"
    with FileLock(shared / "demo-seed.lock"):
        if not (shared / "demo-seed.pid").exists():
            launched = subprocess.run(  # noqa: S603 - our own module, our own arguments
                [sys.executable, "-m", "tests.demo_seed", _demo_template_url(),
                 str(result_path), str(shared / "demo-seed.log")],
                cwd=ROOT, check=True, capture_output=True, text=True,
            )
            (shared / "demo-seed.pid").write_text(launched.stdout.strip())
    return result_path


def _needs_demo(item) -> bool:
    return "demo_template" in getattr(item, "fixturenames", ())


def pytest_configure(config):
    """The first process of a run makes the folder its workers share; on PostgreSQL each
    worker of a parallel run gets a database of its own."""
    if "CARETRACK_TEST_SHARED" not in os.environ:
        os.environ["CARETRACK_TEST_SHARED"] = tempfile.mkdtemp(prefix="caretrack-tests-")
        os.environ["CARETRACK_TEST_BASE_URL"] = os.environ.get("DATABASE_URL", "")
        config.caretrack_owns_shared = True
    if POSTGRES and WORKER != "main":
        base = make_url(_base_database_url())
        url = base.set(database=f"{base.database}_{WORKER}")
        _recreate_database(url)
        os.environ["DATABASE_URL"] = url.render_as_string(hide_password=False)


def _recreate_database(url, *, drop_only: bool = False) -> None:
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        if not drop_only:
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Run the tests that need the demo college last, and start seeding it now, so that it is
    ready by the time they run. A browser journey's tests stay on one worker (unless its
    module says ``XDIST_GROUP_PER_TEST = True``)."""
    items.sort(key=_needs_demo)
    for item in items:
        if "/e2e/" in str(item.fspath):
            per_test = getattr(item.module, "XDIST_GROUP_PER_TEST", False)
            item.add_marker(pytest.mark.xdist_group(
                item.nodeid if per_test else item.module.__name__))
    if any(_needs_demo(item) for item in items):
        _start_demo_seed()


def pytest_unconfigure(config):
    if POSTGRES and WORKER != "main":
        _recreate_database(make_url(os.environ["DATABASE_URL"]), drop_only=True)
    if not getattr(config, "caretrack_owns_shared", False):
        return
    shared = _shared_dir()
    if _seeder_alive():
        os.kill(int((shared / "demo-seed.pid").read_text()), signal.SIGTERM)
    if POSTGRES and (shared / "demo-seed.pid").exists():
        _recreate_database(make_url(_demo_template_url()), drop_only=True)
    shutil.rmtree(shared, ignore_errors=True)


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
    """A small college: two counsellors with students, a supervisor, the deputy, the admin.

    On SQLite it is built once per process and each test starts from a copy of it."""

    class College:
        pass

    c = College()
    if not POSTGRES and "college" in SNAPSHOTS.saved:
        return SNAPSHOTS.load("college", c)
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
    if not POSTGRES:
        SNAPSHOTS.save("college", c)
        return SNAPSHOTS.load("college", c)
    return c


@pytest.fixture
def colleges(college):
    """The small college (``home``) and a second college (``elsewhere``) with its counsellor,
    supervisor, deputy, admin and two students (``foreign_*``), and the university admin.

    On SQLite they are built once per process and each test starts from a copy of them."""
    return SNAPSHOTS.built_once("colleges", college, _second_college)


def _second_college(c) -> None:
    c.home = c.counsellor.college
    c.elsewhere = factories.CollegeFactory(code="other", name_zh="外语学院",
                                           name_en="School of Languages")
    c.foreign_counsellor = factories.CounsellorFactory(display_name="周老师", college=c.elsewhere)
    c.foreign_supervisor = factories.SupervisorFactory(display_name="吴教授", college=c.elsewhere)
    c.foreign_deputy = factories.DeputyFactory(display_name="郑副书记", college=c.elsewhere)
    c.foreign_admin = factories.AdminFactory(display_name="外院管理员", college=c.elsewhere)
    c.foreign_student = factories.StudentFactory(counsellor=c.foreign_counsellor, name="孙外院")
    c.foreign_graduate = factories.StudentFactory(
        counsellor=c.foreign_counsellor, name="钱外研", programme="master",
        supervisor=c.foreign_supervisor)
    c.university_admin = factories.UniversityAdminFactory(display_name="校管理员")
    c.league = factories.LeagueSecretaryFactory(display_name="团委书记")
    c.secretary = factories.SecretaryFactory(display_name="党委书记")
    c.office = factories.OfficeFactory(display_name="防控办")


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
