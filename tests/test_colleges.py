"""Colleges: one installation, several colleges. Each college's accounts see, count, export and
manage only their own college; the university admin manages the colleges and their admins."""

from datetime import UTC, datetime

from sqlalchemy import func, select

from caretrack.access import (
    counsellor_accounts,
    get_account_or_404,
    manageable_accounts,
    roster_students,
    student_filter,
    visible_audit_events,
)
from caretrack.extensions import db
from caretrack.models import AuditEvent, College, DailyReport, Student, User
from caretrack.services import roster_import
from caretrack.services.absences import cover_candidates
from caretrack.services.audit import record_event
from caretrack.services.daily import reports
from caretrack.services.errors import RuleError
from caretrack.services.users import change_account, open_account
from tests import factories
from tests.helpers import text_of

NOW = datetime(2020, 3, 3, 3, 0, tzinfo=UTC)


def _ids(query) -> set[int]:
    return set(db.session.scalars(query.with_only_columns(Student.id)))


# -- who sees which students -----------------------------------------------------------------


def test_each_college_account_sees_only_its_college(colleges):
    c = colleges
    deputy_sees = _ids(select(Student).where(student_filter(c.deputy)))
    assert deputy_sees == {c.own_student.id, c.other_student.id, c.graduate.id}
    assert _ids(select(Student).where(student_filter(c.foreign_deputy))) == {
        c.foreign_student.id, c.foreign_graduate.id}
    assert _ids(roster_students(c.admin)) == deputy_sees
    assert _ids(roster_students(c.foreign_admin)) == {c.foreign_student.id, c.foreign_graduate.id}
    # The university admin reads no case and manages no roster.
    assert not _ids(select(Student).where(student_filter(c.university_admin)))
    assert not _ids(roster_students(c.university_admin))


def test_a_counsellor_of_another_college_would_still_see_nothing_here(colleges):
    """The college is part of the caseload condition too: a student wrongly assigned to
    another college's counsellor stays out of that counsellor's lists."""
    c = colleges
    stray = factories.StudentFactory(counsellor=c.foreign_counsellor, college=c.home)
    db.session.commit()
    assert stray.id not in _ids(select(Student).where(student_filter(c.foreign_counsellor)))


def test_counsellor_lists_are_per_college(colleges):
    c = colleges
    home = set(db.session.scalars(select(User.id).where(counsellor_accounts(c.deputy))))
    assert home == {c.counsellor.id, c.other_counsellor.id}
    assert [u.id for u in cover_candidates(c.counsellor)] == [c.other_counsellor.id]
    assert cover_candidates(c.foreign_counsellor) == []


def test_a_student_of_another_college_is_404_on_the_deputys_pages(client, auth, colleges):
    auth.login(colleges.deputy)
    assert client.get(f"/students/{colleges.own_student.id}").status_code == 200
    assert client.get(f"/students/{colleges.foreign_student.id}").status_code == 404
    page = text_of(client.get("/students/"))
    assert colleges.own_student.name in page and colleges.foreign_student.name not in page


# -- the daily board --------------------------------------------------------------------------


def test_the_board_lists_the_colleges_counsellors_only(colleges):
    c = colleges
    for counsellor in (c.counsellor, c.foreign_counsellor):
        reports.submit_report(counsellor, NOW.date(), NOW, zero=False)
    db.session.commit()
    board = reports.board(NOW.date(), NOW, c.deputy)
    assert [r.counsellor.id for r in board.rows] == sorted(
        [c.counsellor.id, c.other_counsellor.id],
        key=lambda i: db.session.get(User, i).username)
    assert board.totals.students == 3
    foreign = reports.board(NOW.date(), NOW, c.foreign_deputy)
    assert [r.counsellor.id for r in foreign.rows] == [c.foreign_counsellor.id]
    assert foreign.totals.students == 2


def test_a_deputy_cannot_sign_off_another_colleges_report(colleges):
    c = colleges
    report = reports.submit_report(c.foreign_counsellor, NOW.date(), NOW)
    db.session.commit()
    try:
        reports.review_report(report, c.deputy, NOW, approve=True)
    except RuleError as error:
        assert error.code == "not-deputy"
    else:
        raise AssertionError("another college's deputy approved the report")
    listed = {report.id: report.version_id}
    try:
        reports.approve_listed(listed, NOW.date(), c.deputy, NOW)
    except RuleError as error:
        assert error.code == "approve-all-changed"
    assert db.session.get(DailyReport, report.id).state == "submitted"


# -- accounts ---------------------------------------------------------------------------------


def test_a_college_admin_manages_their_colleges_accounts_only(client, auth, colleges):
    c = colleges
    assert c.foreign_counsellor.id not in set(
        db.session.scalars(manageable_accounts(c.admin).with_only_columns(User.id)))
    auth.login(c.admin)
    page = text_of(client.get("/admin/users"))
    assert c.counsellor.username in page and c.foreign_counsellor.username not in page
    assert client.get(f"/admin/users/{c.foreign_counsellor.id}").status_code == 404
    made = open_account(c.admin, username="newcounsellor", display_name="新老师",
                        role="counsellor", password="long enough pass 1", email=None,
                        active=True, college_id=c.elsewhere.id)
    assert made.college_id == c.home.id  # a college admin opens accounts in their own
    for role in ("university_admin",):
        try:
            open_account(c.admin, username="u2", display_name="x", role=role,
                         password="long enough pass 1", email=None, active=True)
        except RuleError as error:
            assert error.code == "role-not-allowed"
        else:
            raise AssertionError("a college admin made a university account")


def test_the_university_admin_adds_a_college_and_its_admin(client, auth, colleges):
    auth.login(colleges.university_admin)
    assert client.get("/").headers["Location"].endswith("/colleges/")
    response = client.post("/colleges/new", data={
        "code": "law", "name_zh": "法学院", "name_en": "Law School"}, follow_redirects=True)
    assert "法学院" in text_of(response)
    law = db.session.scalars(select(College).where(College.code == "law")).one()
    taken = client.post("/colleges/new", data={"code": "law", "name_zh": "又一个"})
    assert taken.status_code == 200 and "已有学院使用此代码。" in text_of(taken)
    response = client.post("/admin/users/new", data={
        "username": "lawadmin", "display_name": "法学院管理员", "role": "admin",
        "college_id": law.id, "password": "a long password 7", "active": "y"})
    assert response.status_code == 302
    admin = db.session.scalars(select(User).where(User.username == "lawadmin")).one()
    assert admin.college_id == law.id and admin.role == "admin"
    # A college's admin needs a college; a counsellor is not the university admin's to open.
    refused = client.post("/admin/users/new", data={
        "username": "nocollege", "display_name": "无学院", "role": "admin", "college_id": 0,
        "password": "a long password 7", "active": "y"})
    assert refused.status_code == 200
    assert db.session.scalar(select(func.count(User.id)).where(User.username == "nocollege")) == 0
    assert get_account_or_404(colleges.foreign_admin.id, colleges.university_admin)
    page = text_of(client.get("/colleges/"))
    assert "lawadmin" in page and "外语学院" in page


def test_the_university_admin_moves_an_admin_to_another_college(colleges):
    c = colleges
    change_account(c.university_admin, c.foreign_admin, display_name="调任管理员", role="admin",
                   active=True, email=None, college_id=c.home.id)
    assert c.foreign_admin.college_id == c.home.id


# -- the audit log -----------------------------------------------------------------------------


def test_a_college_admin_reads_the_audit_log_of_their_college(colleges):
    c = colleges
    record_event("student.view", c.counsellor, c.own_student.id, now=NOW)
    record_event("student.view", c.foreign_counsellor, c.foreign_student.id, now=NOW)
    record_event("student.view", c.foreign_deputy, c.own_student.id, now=NOW)  # refused, say
    record_event("login.failed", None, detail="nobody", now=NOW)
    db.session.commit()
    mine = db.session.scalars(visible_audit_events(c.admin)).all()
    assert {e.user_id for e in mine} == {c.counsellor.id, c.foreign_deputy.id, None}
    theirs = db.session.scalars(visible_audit_events(c.foreign_admin)).all()
    assert {e.user_id for e in theirs} == {c.foreign_counsellor.id, c.foreign_deputy.id, None}
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 4


def test_an_admin_reads_no_failed_sign_in_or_purge_of_another_college(colleges):
    c = colleges
    record_event("login.failed", None, detail=c.counsellor.username, now=NOW)
    record_event("login.failed", None, detail=c.foreign_counsellor.username, now=NOW)
    record_event("login.throttled", None, detail=c.university_admin.username, now=NOW)
    record_event("login.failed", None, detail="unknown", now=NOW)
    record_event("retention.purge", None, detail=f"college:{c.home.id} statuses=2", now=NOW)
    record_event("retention.purge", None, detail=f"college:{c.elsewhere.id} statuses=5",
                 now=NOW)
    db.session.commit()

    def details(admin):
        return sorted(e.detail for e in db.session.scalars(visible_audit_events(admin)))

    assert details(c.admin) == sorted([c.counsellor.username, "unknown",
                                       f"college:{c.home.id} statuses=2"])
    assert details(c.foreign_admin) == sorted([c.foreign_counsellor.username, "unknown",
                                               f"college:{c.elsewhere.id} statuses=5"])


# -- the roster import -------------------------------------------------------------------------


HEADERS = "学号,姓名,性别,培养层次,年级,班级,辅导员\n"


def test_a_roster_import_writes_into_the_admins_college(client, auth, colleges):
    c = colleges
    data = (HEADERS + f"0999000001,新同学,女,本科,2019,2019级会计学1班,{c.counsellor.username}\n"
            ).encode()
    preview = roster_import.preview_import("roster.csv", data, college=c.home)
    assert not preview.errors
    roster_import.apply_import(preview, c.admin, NOW)
    db.session.commit()
    new = db.session.scalars(select(Student).where(Student.student_number == "0999000001")).one()
    assert new.college_id == c.home.id


def test_a_roster_row_may_not_name_another_colleges_counsellor_or_student(colleges):
    c = colleges
    data = (HEADERS
            + f"0999000002,新同学,女,本科,2019,2019级会计学1班,{c.foreign_counsellor.username}\n"
            + f"{c.foreign_student.student_number},孙外院,女,本科,2017,2017级会计学1班,"
              f"{c.counsellor.username}\n").encode()
    preview = roster_import.preview_import("roster.csv", data, college=c.home)
    assert [str(e.message) for e in preview.errors] == [
        f"{c.foreign_counsellor.username} 是其他学院的账号。",
        f"学号 {c.foreign_student.student_number} 属于其他学院的学生。",
    ]
    assert not preview.creates and not preview.updates


def test_create_user_takes_the_college(runner, colleges):
    result = runner.invoke(args=["create-user", "law1", "--name", "新辅导员", "--role",
                                 "counsellor", "--college", "other", "--password",
                                 "a long password 7"])
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User).where(User.username == "law1")).one()
    assert user.college_id == colleges.elsewhere.id
    several = runner.invoke(args=["create-user", "law2", "--name", "又一个", "--role",
                                  "counsellor", "--password", "a long password 7"])
    assert several.exit_code != 0 and "--college" in several.output


def test_the_deputys_activity_counts_their_college_only(colleges):
    from caretrack.models import EntryKind
    from caretrack.services.dashboard import activity
    from caretrack.services.timeline import add_entry

    c = colleges
    for student in (c.own_student, c.foreign_student, c.foreign_graduate):
        add_entry(student, EntryKind.FOLLOW_UP, student.counsellor, body="电话联系",
                  occurred_at=NOW, now=NOW, details={"channel": "phone", "reached": True,
                                                     "health": "normal",
                                                     "check_again_in_days": None})
    db.session.commit()
    assert sum(activity(c.deputy, NOW).follow_ups) == 1
    assert sum(activity(c.foreign_deputy, NOW).follow_ups) == 2


def test_each_colleges_past_activity_is_kept_apart(colleges):
    from datetime import timedelta

    from caretrack.models import ActivityDay, EntryKind
    from caretrack.services.clock import local_today
    from caretrack.services.dashboard import activity, keep_past_activity
    from caretrack.services.timeline import add_entry

    c = colleges
    yesterday = NOW - timedelta(days=1)
    for student, when in ((c.own_student, yesterday), (c.foreign_student, yesterday),
                          (c.foreign_graduate, yesterday), (c.own_student, NOW)):
        add_entry(student, EntryKind.FOLLOW_UP, student.counsellor, body="电话联系",
                  occurred_at=when, now=when, details={"channel": "phone", "reached": True,
                                                       "health": "normal",
                                                       "check_again_in_days": None})
    db.session.commit()
    counted = [activity(c.deputy, NOW).follow_ups, activity(c.foreign_deputy, NOW).follow_ups]
    assert keep_past_activity(local_today(NOW)) == 29
    db.session.commit()
    kept_for = set(db.session.scalars(select(ActivityDay.college_id).distinct()))
    assert kept_for == set(db.session.scalars(select(College.id)))
    kept = [activity(c.deputy, NOW).follow_ups, activity(c.foreign_deputy, NOW).follow_ups]
    assert kept == counted
    assert kept[0][-2:] == [1, 1] and kept[1][-2:] == [2, 0]
    # The past days are read from each college's rows, not counted again.
    row = db.session.get(ActivityDay, (c.deputy.college_id, local_today(yesterday)))
    row.follow_ups = 7
    db.session.commit()
    assert activity(c.deputy, NOW).follow_ups[-2:] == [7, 1]
    assert activity(c.foreign_deputy, NOW).follow_ups[-2:] == [2, 0]
