"""One Alembic head; upgrading an empty database gives exactly the models."""

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from caretrack import create_app
from caretrack.extensions import db

MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")


def test_one_head(app):
    config = app.extensions["migrate"].migrate.get_config(MIGRATIONS)
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


@pytest.fixture
def empty_database_url(tmp_path):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"caretrack_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_from_empty_matches_the_models(empty_database_url):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            diff = compare_metadata(context, db.metadata)
        db.session.remove()
        db.engine.dispose()
    assert diff == []


def _insert_as_at_that_revision(connection, obj) -> int:
    """Insert a model object (built, not added to a session) into its table as the table
    stands in the database now, at an older revision: only the columns it has then."""
    import sqlalchemy as sa

    table = sa.Table(obj.__table__.name, sa.MetaData(), autoload_with=connection)
    values = {}
    for column in obj.__table__.columns:
        if column.primary_key or column.name not in table.c:
            continue
        value = getattr(obj, column.key)
        if value is None and column.default is not None:
            value = column.default.arg(None) if column.default.is_callable else column.default.arg
        if value is not None:
            values[column.name] = value
    return connection.execute(table.insert().values(**values)).inserted_primary_key[0]


def test_0009_gives_stored_delivery_lines_a_text_quantity_and_a_unit(empty_database_url):
    from datetime import UTC, datetime

    from sqlalchemy import select

    from caretrack.models import TimelineEntry
    from tests import factories

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0008")
        at = datetime(2020, 2, 10, 2, 0, tzinfo=UTC)
        with db.engine.begin() as connection:
            counsellor = factories.CounsellorFactory.build(college=None)
            counsellor_id = _insert_as_at_that_revision(connection, counsellor)
            student = factories.StudentFactory.build(counsellor=counsellor, college=None)
            student.counsellor_id = counsellor_id
            student_id = _insert_as_at_that_revision(connection, student)
            old = TimelineEntry(
                student_id=student_id, author_id=counsellor_id, kind="delivery",
                occurred_at=at, created_at=at, body="", details={"items": [
                    {"name": "方便面（箱）", "quantity": 2}, {"name": "口罩（N95）", "quantity": 20},
                    {"name": "体温计", "quantity": 1}], "place": "dormitory", "received": True})
            entry_id = _insert_as_at_that_revision(connection, old)
        db.session.remove()
        upgrade(directory=MIGRATIONS)
        stored = db.session.scalars(select(TimelineEntry).where(TimelineEntry.id == entry_id)).one()
        details = stored.details
        db.session.remove()
        db.engine.dispose()
    assert details["items"] == [
        {"name": "方便面", "quantity": "2", "unit": "箱"},
        {"name": "口罩（N95）", "quantity": "20", "unit": ""},
        {"name": "体温计", "quantity": "1", "unit": ""},
    ]
    assert details["place"] == "dormitory" and details["received"] is True


def test_0020_puts_an_existing_install_into_one_college(empty_database_url, monkeypatch):
    from sqlalchemy import select

    from caretrack.models import College, Student, User
    from tests import factories

    monkeypatch.setenv("CARETRACK_COLLEGE_NAME", "经管学院")
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0019")
        with db.engine.begin() as connection:
            ids = {}
            for role in ("counsellor", "deputy_secretary", "admin"):
                account = factories.CounsellorFactory.build(college=None, role=role)
                ids[role] = _insert_as_at_that_revision(connection, account)
            student = factories.StudentFactory.build(counsellor=None, college=None)
            student.counsellor_id = ids["counsellor"]
            student_id = _insert_as_at_that_revision(connection, student)
        db.session.remove()
        upgrade(directory=MIGRATIONS)
        colleges = [(c.id, c.code, c.name_zh) for c in db.session.scalars(select(College))]
        accounts = {u.role: u.college_id for u in db.session.scalars(select(User))}
        student_college = db.session.get(Student, student_id).college_id
        # The install goes on: a new college gets the next id.
        db.session.add(College(code="law", name_zh="法学院"))
        db.session.commit()
        next_id = db.session.scalar(select(College.id).where(College.code == "law"))
        db.session.remove()
        db.engine.dispose()
    assert [(code, name) for _id, code, name in colleges] == [("default", "经管学院")]
    assert set(accounts.values()) == {colleges[0][0]} == {student_college}
    assert next_id == colleges[0][0] + 1


def test_0020_on_an_empty_database_makes_no_college(empty_database_url):
    from sqlalchemy import func, select

    from caretrack.models import College

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        count = db.session.scalar(select(func.count(College.id)))
        db.session.remove()
        db.engine.dispose()
    assert count == 0


def test_0021_gives_links_groups_and_the_policy_to_their_colleges(empty_database_url):
    from datetime import UTC, datetime

    from sqlalchemy import select

    from caretrack.models import (
        CheckinLink,
        ClassGroup,
        College,
        MessageLog,
        RetentionPolicy,
    )
    from tests import factories

    at = datetime(2020, 2, 10, 2, 0, tzinfo=UTC)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0020")
        with db.engine.begin() as connection:
            home = _insert_as_at_that_revision(connection, College(code="sem", name_zh="经管学院",
                                                                   name_en="", created_at=at))
            other = _insert_as_at_that_revision(connection, College(code="law", name_zh="法学院",
                                                                    name_en="", created_at=at))
            counsellors = {}
            for college in (home, other):
                account = factories.CounsellorFactory.build(college=None)
                account.college_id = college
                counsellors[college] = _insert_as_at_that_revision(connection, account)
            for college, class_name in ((home, "一班"), (home, "一班"), (other, "二班")):
                student = factories.StudentFactory.build(counsellor=None, college=None,
                                                         class_name=class_name)
                student.counsellor_id, student.college_id = counsellors[college], college
                _insert_as_at_that_revision(connection, student)
            link = _insert_as_at_that_revision(connection, CheckinLink(
                kind="class", class_name="一班", generation=3, digest="d" * 64, rotated_at=at))
            _insert_as_at_that_revision(connection, CheckinLink(
                kind="class", class_name="无人班", generation=1, digest="e" * 64, rotated_at=at))
            _insert_as_at_that_revision(connection, ClassGroup(
                class_name="二班", service="wecom", webhook_encrypted="x", hint="0001",
                set_by_id=counsellors[other], set_at=at))
            _insert_as_at_that_revision(connection, MessageLog(
                channel="wecom", kind="notice", recipient="二班", counsellor_id=counsellors[other],
                body="通知", student_ids=[], state="delivered", attempts=1, created_at=at))
            _insert_as_at_that_revision(connection, RetentionPolicy(
                emergency_ended_on=datetime(2020, 3, 31).date(), retention_days=45,
                class_days={"free_text": 10}, updated_at=at, version_id=4))
        db.session.remove()
        upgrade(directory=MIGRATIONS)
        links = [(x.id, x.college_id, x.class_name, x.unscoped, x.generation)
                 for x in db.session.scalars(select(CheckinLink))]
        groups = [(g.college_id, g.class_name) for g in db.session.scalars(select(ClassGroup))]
        messages = [m.college_id for m in db.session.scalars(select(MessageLog))]
        policies = sorted((p.college_id, p.retention_days, p.class_days, p.emergency_ended_on)
                          for p in db.session.scalars(select(RetentionPolicy)))
        db.session.remove()
        db.engine.dispose()
    # The class's link is its students' college's, and keeps its token; a link of a class
    # nobody is in any more goes (a new one is made on first use).
    assert links == [(link, home, "一班", True, 3)]
    assert groups == [(other, "二班")] and messages == [other]
    ended = datetime(2020, 3, 31).date()
    assert policies == [(home, 45, {"free_text": 10}, ended), (other, 45, {"free_text": 10}, ended)]
