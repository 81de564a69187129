"""The secretary sees what the deputy sees (every student of their college, the dashboard,
the review queue, the board, the exports) and takes none of the deputy's decisions: they
approve the college's report at their stage of the sign-off."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from caretrack import access
from caretrack.extensions import db
from caretrack.models import ConcernLevel, EntryKind, Student, TimelineEntry
from caretrack.services import dashboard
from caretrack.services.errors import RuleError
from caretrack.services.review import review_student
from tests import factories
from tests.helpers import text_of

NOW = datetime(2020, 3, 3, 3, 0, tzinfo=UTC)


def test_the_secretary_reads_every_student_of_their_college_only(colleges):
    c = colleges
    seen = set(db.session.scalars(select(Student.id).where(access.student_filter(c.secretary))))
    assert seen == set(db.session.scalars(select(Student.id).where(
        access.student_filter(c.deputy)))) == {c.own_student.id, c.other_student.id,
                                               c.graduate.id}
    assert dashboard.build(c.secretary, NOW).total == 3


def test_the_secretary_takes_none_of_the_deputys_decisions(colleges):
    c = colleges
    s = c.secretary
    assert access.can_read_cases(s) and access.reads_review_queue(s) and access.has_dashboard(s)
    assert access.reads_college_board(s) and access.exports_student_record(s)
    for decides in (access.can_review, access.can_decide_return, access.can_transfer_students,
                    access.records_absences, access.writes_notices, access.manages_retention,
                    access.can_assign_supervisors, access.handles_return_requests):
        assert not decides(s), decides.__name__
    assert not access.can_record_for(s, c.own_student)
    referral = factories.ReferralFactory(student=c.graduate, supervisor=c.supervisor,
                                         referred_by=c.counsellor)
    assert not access.is_referral_revoker(s, referral)
    with pytest.raises(RuleError) as refused:
        review_student(c.other_student, s, note="看过了", decision="keep", now=NOW)
    assert refused.value.code == "not-allowed"
    assert db.session.scalar(select(func.count(TimelineEntry.id)).where(
        TimelineEntry.kind == EntryKind.REVIEW)) == 0


def test_the_secretarys_pages_show_the_college_and_no_decision(client, auth, colleges):
    c = colleges
    c.other_student.concern_level = ConcernLevel.HIGH
    db.session.commit()
    auth.login(c.secretary)
    landing = text_of(client.get("/"))
    assert "学院数据看板" in landing
    students = text_of(client.get("/students/"))
    assert c.own_student.name in students and c.foreign_student.name not in students
    queue = client.get("/review/").get_data(as_text=True)
    assert c.other_student.name in queue and f"/review/{c.other_student.id}" not in queue
    assert client.get(f"/review/{c.other_student.id}").status_code == 404
    assert client.get(f"/students/{c.foreign_student.id}").status_code == 404
    board = client.get("/reports/board/").get_data(as_text=True)
    assert c.counsellor.display_name in board and c.foreign_counsellor.display_name not in board
    assert "/approve" not in board
