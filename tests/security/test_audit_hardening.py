"""Findings 9 and 10: the audit log is append-only in the database itself; a refused look at a
student is audited; free text in the audit is one clean line; a failed sign-in keeps only a
real account's username."""

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from caretrack import create_app
from caretrack.extensions import db
from caretrack.models import AuditEvent
from tests import factories
from tests.test_migrations import MIGRATIONS, empty_database_url  # noqa: F401  (a fixture)


@pytest.fixture
def migrated_app(empty_database_url):  # noqa: F811
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        yield app
        db.session.remove()
        db.engine.dispose()


def test_update_and_delete_of_audit_events_fail_in_the_database(migrated_app):
    student = factories.StudentFactory()
    db.session.commit()
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO audit_events (occurred_at, action, ip, detail) "
            "VALUES (CURRENT_TIMESTAMP, 'login', '10.0.0.1', 'kept')"
        ))
        connection.execute(text(
            "INSERT INTO audit_event_students (event_id, student_id) "
            "SELECT id, :student FROM audit_events"), {"student": student.id})
    for statement in ("UPDATE audit_events SET detail = 'rewritten'", "DELETE FROM audit_events",
                      "UPDATE audit_event_students SET student_id = 0",
                      "DELETE FROM audit_event_students"):
        with pytest.raises(DatabaseError, match="append-only"):
            with db.engine.begin() as connection:
                connection.execute(text(statement))
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT detail FROM audit_events")).scalars().all() == [
            "kept"
        ]
        assert connection.execute(text("SELECT count(*) FROM audit_event_students")).scalar() == 1
    if db.engine.dialect.name == "postgresql":
        for statement in ("TRUNCATE audit_events CASCADE", "TRUNCATE audit_event_students"):
            with pytest.raises(DatabaseError, match="append-only"):
                with db.engine.begin() as connection:
                    connection.execute(text(statement))


def refusals():
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "student.refused")
    ).all()


def test_a_refused_look_at_another_counsellors_student_is_audited(client, auth, college):
    auth.login(college.counsellor)
    assert client.get(f"/students/{college.other_student.id}").status_code == 404
    assert client.get("/students/999999").status_code == 404
    events = refusals()
    assert [(e.user_id, e.student_id, e.detail) for e in events] == [
        (college.counsellor.id, college.other_student.id, f"student:{college.other_student.id}"),
        (college.counsellor.id, None, "student:999999"),
    ]
    assert events[0].ip == "127.0.0.1"


def test_a_refused_write_is_audited_and_writes_nothing_else(client, auth, college):
    auth.login(college.supervisor)
    before = db.session.scalar(select(db.func.count()).select_from(AuditEvent))
    response = client.post(f"/students/{college.other_student.id}/notes/new",
                           data={"body": "not mine"})
    assert response.status_code == 404
    after = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert len(after) == before + 1 and after[-1].action == "student.refused"


def test_free_text_in_the_audit_loses_its_control_characters(client, college):
    client.post("/login", data={"username": college.counsellor.username + "\r\nadmin login ok",
                                "password": "nope"})
    client.post("/login", data={"username": college.counsellor.username, "password": "nope"})
    details = [e.detail for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "login.failed").order_by(AuditEvent.id))]
    assert details == ["unknown", college.counsellor.username]


def test_clean_text_strips_every_control_and_format_character():
    from caretrack.services.audit import clean_text

    assert clean_text("a\r\nb\x00c\x1b[31md\u202ee\tf") == "abc[31mdef"


def test_a_password_typed_as_a_username_is_not_kept(client, college):
    client.post("/login", data={"username": "correct horse battery", "password": "x"})
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed")).one()
    assert event.detail == "unknown" and event.user_id is None
