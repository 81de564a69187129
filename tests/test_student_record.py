"""Who looked at a student, and the export of the student's whole record (PIPL art. 45): the
deputy secretary's alone, each audited."""

import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from caretrack.access import exports_student_record, sees_access_log
from caretrack.extensions import db
from caretrack.models import AuditEvent
from caretrack.services import entries


def _event_ids(page: str) -> set[int]:
    return {int(n) for n in re.findall(r'data-event="(\d+)"', page)}


def test_the_access_log_shows_exactly_that_students_events(client, auth, college):
    for user in (college.counsellor, college.deputy):
        auth.login(user)
        client.get(f"/students/{college.own_student.id}")
        auth.logout()
    entries.record_note(college.own_student, college.counsellor, body="谈话记录")
    entries.record_note(college.other_student, college.other_counsellor, body="另一位学生")
    db.session.commit()
    auth.login(college.counsellor)
    client.get(f"/students/{college.own_student.id}/export.xlsx")
    auth.logout()

    auth.login(college.deputy)
    response = client.get(f"/students/{college.own_student.id}/access-log")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    own = set(db.session.scalars(select(AuditEvent.id).where(
        AuditEvent.student_id == college.own_student.id)))
    assert _event_ids(page) == own
    assert "李老师" in page and "王副书记" in page
    actions = set(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.id.in_(own))))
    assert {"student.view", "note.create", "student.access_log"} <= actions
    others = set(db.session.scalars(select(AuditEvent.id).where(
        AuditEvent.student_id != college.own_student.id)))
    assert not _event_ids(page) & others


def test_reading_the_log_is_audited(client, auth, college):
    auth.login(college.deputy)
    client.get(f"/students/{college.own_student.id}/access-log")
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "student.access_log")).one()
    assert (event.user_id, event.student_id) == (college.deputy.id, college.own_student.id)


def test_only_the_deputy_sees_who_looked(college):
    assert sees_access_log(college.deputy) and exports_student_record(college.deputy)
    for user in (college.counsellor, college.supervisor, college.admin):
        assert not sees_access_log(user)
        assert not exports_student_record(user)


def test_the_counsellor_gets_no_link_and_a_404(client, auth, college):
    auth.login(college.counsellor)
    page = client.get(f"/students/{college.own_student.id}").get_data(as_text=True)
    assert "access-log" not in page
    assert client.get(f"/students/{college.own_student.id}/access-log").status_code == 404
    auth.logout()
    auth.login(college.deputy)
    page = client.get(f"/students/{college.own_student.id}").get_data(as_text=True)
    assert f"/students/{college.own_student.id}/access-log" in page


def test_the_whole_record_exports_and_is_audited(client, auth, college):
    entries.record_note(college.own_student, college.counsellor, body="谈话记录一")
    db.session.commit()
    auth.login(college.deputy)
    response = client.get(f"/students/{college.own_student.id}/record.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames[:4] == ["基本信息", "关怀类别", "关注程度历史", "时间线"]
    cells = {str(v) for sheet in book for row in sheet.iter_rows(values_only=True)
             for v in row if v is not None}
    assert {college.own_student.student_number, college.own_student.name, "谈话记录一"} <= cells
    assert college.other_student.name not in cells
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "student.record_export")).one()
    assert event.student_id == college.own_student.id and event.user_id == college.deputy.id
