"""Bulk actions on the lists: the same rows as N single actions, one audit event listing the
students, never a student the user may not touch whatever ids are posted, a 409 when the
students matched changed since the preview, and the pages of the flow."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import (
    AuditEvent,
    AuditEventStudent,
    CategoryAssignment,
    Recheck,
    RecheckState,
    Student,
    TimelineEntry,
)
from caretrack.services import bulk, cases, rechecks, transfers
from caretrack.services.errors import RuleError
from tests import factories
from tests.helpers import count_queries, text_of

NOW = datetime(2020, 2, 10, 2, 0, tzinfo=UTC)
TODAY = date(2020, 2, 10)


def _rows(student_ids):
    """What an action left on the students, in a form two runs can be compared by."""
    entries = db.session.execute(
        select(TimelineEntry.student_id, TimelineEntry.kind, TimelineEntry.author_id,
               TimelineEntry.body, TimelineEntry.details)
        .where(TimelineEntry.student_id.in_(student_ids)).order_by(TimelineEntry.student_id,
                                                                   TimelineEntry.id)).all()
    assignments = db.session.execute(
        select(CategoryAssignment.student_id, CategoryAssignment.category_id,
               CategoryAssignment.started_on, CategoryAssignment.reason)
        .where(CategoryAssignment.student_id.in_(student_ids))
        .order_by(CategoryAssignment.student_id)).all()
    due = db.session.execute(
        select(Recheck.student_id, Recheck.due_on, Recheck.origin, Recheck.owner_id,
               Recheck.state).where(Recheck.student_id.in_(student_ids))
        .order_by(Recheck.student_id, Recheck.due_on)).all()
    audit = db.session.execute(
        select(AuditEvent.student_id, AuditEvent.action).where(
            AuditEvent.student_id.in_(student_ids)).order_by(AuditEvent.student_id)).all()

    def local(rows):  # ids of the rows differ between runs; what they say must not
        return [tuple(v if not isinstance(v, dict) else {
            k: x for k, x in v.items() if k not in ("assignment_id", "recheck_id")}
            for v in row) for row in rows]

    return local(entries), local(assignments), local(due), local(audit)


@pytest.fixture
def category():
    made = factories.CategoryFactory(code="thesis", cadence_days=7)
    db.session.commit()
    return made


def test_a_bulk_action_gives_the_same_rows_as_n_single_actions(college, category):
    c = college
    singles = factories.StudentFactory.create_batch(3, counsellor=c.counsellor)
    bulked = factories.StudentFactory.create_batch(3, counsellor=c.counsellor)
    db.session.commit()
    for student in singles:
        cases.assign_category(student, category, c.counsellor, started_on=TODAY,
                              reason="论文压力", now=NOW)
    ids = [s.id for s in bulked]
    shown = bulk.plan("add_category", c.counsellor, ids,
                      {"category_id": category.id, "reason": "论文压力", "day": TODAY}, now=NOW)
    result = bulk.run("add_category", ids, c.counsellor.id,
                      {"category_id": category.id, "reason": "论文压力", "day": TODAY},
                      fingerprint=shown.fingerprint, now=NOW)
    db.session.commit()
    assert result["changed"] == 3
    single_rows = _rows([s.id for s in singles])
    bulk_rows = _rows(ids)

    def without_student(rows):
        return [[row[1:] for row in part] for part in rows]

    assert without_student(single_rows) == without_student(bulk_rows)
    assert any(row[1] == "category.add" for row in bulk_rows[3])  # each verb's own event stays
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "bulk.add_category")).one()
    assert sorted(db.session.scalars(select(AuditEventStudent.student_id).where(
        AuditEventStudent.event_id == event.id))) == sorted(ids)


def test_a_student_already_changed_is_left_as_is_and_said_so(college, category):
    c = college
    cases.assign_category(c.own_student, category, c.counsellor, started_on=TODAY, now=NOW)
    db.session.commit()
    ids = [c.own_student.id, c.graduate.id]
    shown = bulk.plan("add_category", c.counsellor, ids,
                      {"category_id": category.id, "reason": "x"}, now=NOW)
    assert (shown.changing, shown.skipped) == ([c.graduate.id], {"already-assigned": 1})


def test_an_invisible_student_is_never_touched_whatever_ids_are_posted(college):
    c = college
    ids = [c.own_student.id, c.other_student.id, 999999]
    shown = bulk.plan("set_concern", c.counsellor, ids, {"level": "high", "reason": "发烧"},
                      now=NOW)
    assert shown.student_ids == [c.own_student.id]
    # Even a fingerprint made for the posted ids does not let them in.
    with pytest.raises(RuleError) as refused:
        bulk.run("set_concern", ids, c.counsellor.id, {"level": "high", "reason": "发烧"},
                 fingerprint=transfers.fingerprint_of(ids), now=NOW)
    assert refused.value.conflict
    bulk.run("set_concern", ids, c.counsellor.id, {"level": "high", "reason": "发烧"},
             fingerprint=shown.fingerprint, now=NOW)
    db.session.commit()
    assert db.session.get(Student, c.other_student.id).concern_level == "normal"
    assert db.session.get(Student, c.own_student.id).concern_level == "high"
    assert db.session.scalar(select(func.count(TimelineEntry.id)).where(
        TimelineEntry.student_id == c.other_student.id)) == 0


def test_the_deputy_and_the_admin_take_no_recording_action(college):
    c = college
    for user in (c.deputy, c.admin, c.supervisor):
        assert bulk.allowed_ids(user, "set_concern", [c.own_student.id]) == []
    assert bulk.allowed_ids(c.counsellor, "transfer", [c.own_student.id]) == []
    assert bulk.allowed_ids(c.deputy, "assign_supervisor", [c.own_student.id]) == []
    assert bulk.allowed_ids(c.admin, "assign_supervisor", [c.own_student.id]) == [
        c.own_student.id]


def test_a_set_that_changed_since_the_preview_is_a_conflict(college):
    c = college
    shown = bulk.plan("flag_review", c.counsellor, [c.own_student.id, c.graduate.id],
                      {"reason": "请复核"}, now=NOW)
    c.graduate.counsellor_id = c.other_counsellor.id
    db.session.commit()
    with pytest.raises(RuleError) as refused:
        bulk.run("flag_review", [c.own_student.id, c.graduate.id], c.counsellor.id,
                 {"reason": "请复核"}, fingerprint=shown.fingerprint, now=NOW)
    assert refused.value.code == "bulk-stale" and refused.value.conflict


def test_a_bulk_follow_up_completes_the_overdue_rechecks(college):
    c = college
    for student in (c.own_student, c.graduate):
        rechecks.schedule(student, due_on=date(2020, 2, 7), reason="回访", origin="manual",
                          by=c.counsellor, now=NOW)
    db.session.commit()
    ids = [c.own_student.id, c.graduate.id]
    params = {"channel": "phone", "reached": "1", "reason": "电话联系，一切正常"}
    shown = bulk.plan("log_follow_up", c.counsellor, ids, params, now=NOW)
    assert (len(shown.changing), shown.rechecks_due) == (2, 2)
    seen = []
    bulk.run("log_follow_up", ids, c.counsellor.id, params, fingerprint=shown.fingerprint,
             now=NOW, progress=lambda done, total: seen.append((done, total)))
    db.session.commit()
    assert db.session.scalar(select(func.count(Recheck.id)).where(
        Recheck.student_id.in_(ids), Recheck.state == RecheckState.OPEN,
        Recheck.due_on < TODAY)) == 0
    assert seen == [(2, 2)]


def test_a_bulk_transfer_goes_through_the_transfer(college):
    c = college
    ids = [c.own_student.id, c.graduate.id]
    params = {"to_id": c.other_counsellor.id, "reason": "李老师病假"}
    shown = bulk.plan("transfer", c.deputy, ids, params, now=NOW)
    assert shown.transfer.students == 2
    result = bulk.run("transfer", ids, c.deputy.id, params, fingerprint=shown.fingerprint,
                      now=NOW)
    db.session.commit()
    assert result["changed"] == 2
    assert db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("%transfer%"))).all() == ["student.transfer"]


def test_the_admin_sets_a_supervisor_for_several_students(college):
    c = college
    ids = [c.own_student.id, c.graduate.id]
    params = {"to_id": c.supervisor.id}
    shown = bulk.plan("assign_supervisor", c.admin, ids, params, now=NOW)
    assert shown.skipped == {"supervisor-unchanged": 1}  # the graduate has them already
    bulk.run("assign_supervisor", ids, c.admin.id, params, fingerprint=shown.fingerprint,
             now=NOW)
    db.session.commit()
    assert db.session.get(Student, c.own_student.id).supervisor_id == c.supervisor.id


# -- the pages --------------------------------------------------------------------------------


def _post(client, **data):
    return client.post("/bulk/?lang=en", data={"source": "students", "next": "/students/", **data})


def test_the_caseload_list_ticks_rows_and_previews_then_confirms(client, auth, college):
    c = college
    auth.login(c.counsellor)
    page = client.get("/students/").get_data(as_text=True)
    assert 'name="selected"' in page and "data-bulk-bar" in page
    ids = [c.own_student.id, c.graduate.id, c.other_student.id]
    first = _post(client, action="set_concern", selected=ids)
    assert first.status_code == 200 and "2 students selected" in text_of(first)
    preview = _post(client, action="set_concern", selected=ids, stage="preview",
                    level="elevated", reason="情绪低落")
    body = text_of(preview)
    assert "2 students will change." in body
    fingerprint = bulk.plan("set_concern", c.counsellor, ids,
                            {"level": "elevated", "reason": "x"}).fingerprint
    assert fingerprint in preview.get_data(as_text=True)
    done = _post(client, action="set_concern", selected=ids, stage="confirm",
                 level="elevated", reason="情绪低落", fingerprint=fingerprint)
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Student, c.other_student.id).concern_level == "normal"
    assert db.session.get(Student, c.graduate.id).concern_level == "elevated"


def test_all_matching_the_filter_and_a_409_when_it_changed(client, auth, college):
    c = college
    auth.login(c.counsellor)
    filters = f"q={c.own_student.student_number}"
    data = {"action": "flag_review", "all_matching": "y", "filters": filters,
            "reason": "请复核"}
    preview = _post(client, stage="preview", **data)
    assert "1 student will change." in text_of(preview)
    stale = transfers.fingerprint_of([c.own_student.id, c.graduate.id])
    conflict = _post(client, stage="confirm", fingerprint=stale, **data)
    assert conflict.status_code == 409
    assert "changed since the preview" in text_of(conflict)
    assert db.session.get(Student, c.own_student.id).flagged_for_review is False
    fresh = transfers.fingerprint_of([c.own_student.id])
    assert _post(client, stage="confirm", fingerprint=fresh, **data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Student, c.own_student.id).flagged_for_review is True


def test_an_action_the_user_may_not_take_is_a_404(client, auth, college):
    auth.login(college.counsellor)
    assert _post(client, action="transfer", selected=[college.own_student.id]).status_code == 404
    auth.logout()
    auth.login(college.deputy)
    assert _post(client, action="set_concern",
                 selected=[college.own_student.id]).status_code == 404


def test_a_selection_of_only_invisible_students_is_a_404(client, auth, college):
    auth.login(college.counsellor)
    response = _post(client, action="set_concern", selected=[college.other_student.id],
                     stage="confirm", level="high", reason="x",
                     fingerprint=transfers.fingerprint_of([college.other_student.id]))
    assert response.status_code == 404
    assert db.session.get(Student, college.other_student.id).concern_level == "normal"


def test_the_export_holds_only_the_students_ticked(client, auth, college):
    auth.login(college.counsellor)
    response = _post(client, action="export",
                     selected=[college.own_student.id, college.other_student.id])
    assert response.status_code == 200
    assert response.mimetype.endswith("sheet")
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(response.data)).active
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["陈小明"]


def test_the_transfer_page_finds_a_class_and_moves_it(client, auth, college):
    c = college
    auth.login(c.deputy)
    page = client.get("/bulk/transfer", query_string={"class_name": c.own_student.class_name})
    assert page.status_code == 200
    count = db.session.scalar(select(func.count(Student.id)).where(
        Student.class_name == c.own_student.class_name))
    assert f'data-transfer-count="{count}"' in page.get_data(as_text=True)


def test_the_student_page_offers_the_deputy_a_transfer(client, auth, college):
    auth.login(college.deputy)
    assert "data-transfer-student" in client.get(
        f"/students/{college.own_student.id}").get_data(as_text=True)
    auth.logout()
    auth.login(college.counsellor)
    assert "data-transfer-student" not in client.get(
        f"/students/{college.own_student.id}").get_data(as_text=True)


def test_the_timeline_shows_the_transfer(client, auth, college):
    c = college
    transfers.transfer_students([c.own_student.id], c.other_counsellor, c.deputy,
                                reason="李老师病假", now=NOW)
    db.session.commit()
    auth.login(c.other_counsellor)
    body = text_of(client.get(f"/students/{c.own_student.id}?lang=en"))
    assert "Transferred from 李老师 to 张老师" in body and "李老师病假" in body
    body = text_of(client.get(f"/students/{c.own_student.id}?lang=zh_CN"))
    assert "从 李老师 转给 张老师" in body


def _covering_lists_queries(client, n, college):

    students = factories.StudentFactory.create_batch(n, counsellor=college.counsellor)
    for student in students:
        rechecks.schedule(student, due_on=date(2020, 2, 1), reason="回访", origin="manual",
                          by=college.counsellor)
    db.session.commit()
    counts = []
    for url in ("/students/", "/rechecks/?state=overdue", "/reports/daily/chase"):
        client.get(url)  # the day's risk areas are read once and kept
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200, url
        counts.append(counter.count)
    return counts


def test_a_covering_counsellors_lists_issue_constant_queries(client, auth, college):
    from caretrack.models import now_utc
    from caretrack.services import absences
    from caretrack.services.clock import local_today

    today = local_today(now_utc())
    absences.record_absence(college.counsellor, college.deputy, starts_on=today,
                            ends_on=today, reason="病假",
                            covers={None: college.other_counsellor}, now=now_utc())
    db.session.commit()
    auth.login(college.other_counsellor)
    small = _covering_lists_queries(client, 60, college)  # more than a page of each list
    large = _covering_lists_queries(client, 150, college)
    assert small == large
    assert "covering for" in text_of(client.get("/students/?lang=en"))


# -- more than JOB_THRESHOLD students: a job with its page ----------------------------------


def _three_of_the_counsellor(college):
    students = factories.StudentFactory.create_batch(3, counsellor=college.counsellor)
    db.session.commit()
    return [s.id for s in students]


def test_a_large_action_runs_as_a_job_and_its_page_says_what_changed(
        client, auth, college, monkeypatch):
    from caretrack.models import Job, JobState

    monkeypatch.setattr(bulk, "JOB_THRESHOLD", 2)
    ids = _three_of_the_counsellor(college)
    auth.login(college.counsellor)
    data = {"action": "set_concern", "selected": ids, "level": "elevated", "reason": "情绪低落"}
    fingerprint = transfers.fingerprint_of(ids)
    done = _post(client, stage="confirm", fingerprint=fingerprint, **data)
    assert done.status_code == 302 and done.headers["Location"].startswith("/jobs/")
    job = db.session.scalars(select(Job)).one()
    assert (job.kind, job.state, job.owner_id, job.done, job.total) == (
        "students.bulk", JobState.DONE, college.counsellor.id, 3, 3)
    db.session.expire_all()
    assert {db.session.get(Student, i).concern_level for i in ids} == {"elevated"}
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "bulk.set_concern")) == 1
    page = client.get(done.headers["Location"] + "?lang=en")
    assert "Set the concern level: 3 of 3 students changed." in text_of(page)
    assert 'href="/students/"' in page.get_data(as_text=True)  # "go on" back to the list
    # posted again (a double click): the same job, nothing written twice
    again = _post(client, stage="confirm", fingerprint=fingerprint,
                  submission_key=job.params["submission_key"], **data)
    assert again.headers["Location"] == done.headers["Location"]
    assert db.session.scalar(select(func.count(Job.id))) == 1
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "bulk.set_concern")) == 1


def test_a_large_action_whose_students_changed_is_a_409_and_no_job(
        client, auth, college, monkeypatch):
    from caretrack.models import Job

    monkeypatch.setattr(bulk, "JOB_THRESHOLD", 2)
    ids = _three_of_the_counsellor(college)
    auth.login(college.counsellor)
    stale = transfers.fingerprint_of(ids[:2])
    response = _post(client, stage="confirm", fingerprint=stale, action="flag_review",
                     selected=ids, reason="请复核")
    assert response.status_code == 409
    assert "changed since the preview" in text_of(response)
    assert db.session.scalar(select(func.count(Job.id))) == 0
    assert not any(db.session.get(Student, i).flagged_for_review for i in ids)


def test_a_bulk_job_whose_students_changed_before_it_ran_fails_and_writes_nothing(college):
    from caretrack.jobs import error_message, submit
    from caretrack.models import JobState

    ids = _three_of_the_counsellor(college)
    job = submit("students.bulk", college.counsellor, {
        "action": "flag_review", "ids": ids, "params": {"reason": "请复核"},
        "fingerprint": transfers.fingerprint_of(ids[:1]), "now": NOW.isoformat()})
    assert (job.state, job.error) == (JobState.FAILED, "bulk-stale")
    assert error_message(job).startswith("预览之后所选学生发生了变化")
    db.session.expire_all()
    assert not any(db.session.get(Student, i).flagged_for_review for i in ids)
