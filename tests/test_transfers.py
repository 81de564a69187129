"""Transferring students to another counsellor: what moves with them (open re-checks, the
counsellor side of open referrals), what stays (done re-checks, the supervisor, closed
referrals, everyone else), the timeline entry, the notices, the one audit event; the roster
import goes through the same service."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import (
    AuditEvent,
    AuditEventStudent,
    Notification,
    Recheck,
    RecheckState,
    Referral,
    Student,
    TimelineEntry,
)
from caretrack.services import rechecks, roster_import, transfers
from caretrack.services.errors import RuleError
from tests import factories
from tests.test_roster_import import csv_of, row_of

NOW = datetime(2020, 2, 10, 2, 0, tzinfo=UTC)


def _recheck(student, by, due, state=RecheckState.OPEN):
    recheck = rechecks.schedule(student, due_on=due, reason="回访", origin="manual", by=by,
                                now=NOW)
    recheck.state = state
    return recheck


@pytest.fixture
def caseload(college):
    """李老师's two students with re-checks and referrals, and 张老师's student."""
    c = college
    c.open_recheck = _recheck(c.own_student, c.counsellor, date(2020, 2, 8))
    c.done_recheck = _recheck(c.own_student, c.counsellor, date(2020, 2, 5), RecheckState.DONE)
    c.cancelled_recheck = _recheck(c.graduate, c.counsellor, date(2020, 2, 6),
                                   RecheckState.CANCELLED)
    c.others_recheck = _recheck(c.other_student, c.other_counsellor, date(2020, 2, 8))
    c.open_referral = factories.ReferralFactory(student=c.graduate, supervisor=c.supervisor)
    c.accepted_referral = factories.ReferralFactory(
        student=c.graduate, supervisor=factories.SupervisorFactory(), state="accepted")
    c.done_referral = factories.ReferralFactory(student=c.graduate, supervisor=c.supervisor,
                                                state="done")
    db.session.commit()
    return c


def test_the_preview_counts_what_would_move(caseload):
    c = caseload
    ids = [c.own_student.id, c.graduate.id, c.other_student.id]
    preview = transfers.preview_transfer(ids, c.other_counsellor)
    # 张老师's own student is not moved to them again.
    assert preview.student_ids == sorted([c.own_student.id, c.graduate.id])
    assert (preview.students, preview.open_rechecks, preview.open_referrals) == (2, 1, 2)
    assert [(u.display_name, n) for u, n in preview.from_counsellors] == [("李老师", 2)]
    assert preview.fingerprint == transfers.fingerprint_of([c.graduate.id, c.own_student.id])


def test_a_transfer_moves_what_it_should_and_nothing_else(caseload):
    c = caseload
    ids = [c.own_student.id, c.graduate.id]
    result = transfers.transfer_students(ids, c.other_counsellor, c.deputy, reason="李老师休假",
                                         now=NOW, ip="10.0.0.1")
    db.session.commit()
    db.session.expire_all()
    assert (result.students, result.rechecks, result.referrals) == (2, 1, 2)
    assert {s.counsellor_id for s in db.session.scalars(
        select(Student).where(Student.id.in_(ids)))} == {c.other_counsellor.id}
    assert db.session.get(Student, c.other_student.id).counsellor_id == c.other_counsellor.id
    owner = {r.id: r.owner_id for r in db.session.scalars(select(Recheck))}
    assert owner[c.open_recheck.id] == c.other_counsellor.id
    # Done and cancelled re-checks keep their owner: they are history.
    assert owner[c.done_recheck.id] == c.counsellor.id
    assert owner[c.cancelled_recheck.id] == c.counsellor.id
    assert owner[c.others_recheck.id] == c.other_counsellor.id
    referrals = {r.id: r for r in db.session.scalars(select(Referral))}
    # The supervisor keeps the referral; the counsellor side moves while it is open.
    assert (referrals[c.open_referral.id].supervisor_id,
            referrals[c.open_referral.id].referred_by_id) == (c.supervisor.id,
                                                              c.other_counsellor.id)
    assert referrals[c.accepted_referral.id].referred_by_id == c.other_counsellor.id
    assert referrals[c.done_referral.id].referred_by_id == c.counsellor.id


def test_each_student_timeline_says_who_from_who_to_and_why(caseload):
    c = caseload
    transfers.transfer_students([c.own_student.id], c.other_counsellor, c.deputy,
                                reason="李老师休假", now=NOW)
    db.session.commit()
    entry = db.session.scalars(select(TimelineEntry).where(
        TimelineEntry.student_id == c.own_student.id, TimelineEntry.kind == "transfer")).one()
    assert entry.body == "李老师休假" and entry.author_id == c.deputy.id
    assert entry.details == {"from_id": c.counsellor.id, "from": "李老师",
                             "to_id": c.other_counsellor.id, "to": "张老师",
                             "source": "transfer"}
    assert entry.covering_for_id is None


def test_both_sides_are_told_and_one_audit_event_lists_the_students(caseload):
    c = caseload
    ids = [c.own_student.id, c.graduate.id]
    transfers.transfer_students(ids, c.other_counsellor, c.admin, reason="调整", now=NOW)
    db.session.commit()
    told = {(n.user_id, n.kind) for n in db.session.scalars(select(Notification))}
    assert told == {(c.counsellor.id, "transfer.out"), (c.other_counsellor.id, "transfer.in")}
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "student.transfer")).one()
    assert event.user_id == c.admin.id
    assert f"to:{c.other_counsellor.id}" in event.detail and "students:2" in event.detail
    assert sorted(db.session.scalars(select(AuditEventStudent.student_id).where(
        AuditEventStudent.event_id == event.id))) == sorted(ids)


def test_the_rules_of_a_transfer(caseload):
    c = caseload
    with pytest.raises(RuleError) as refused:
        transfers.transfer_students([c.own_student.id], c.supervisor, c.deputy, reason="x")
    assert (refused.value.code, refused.value.field) == ("transfer-not-counsellor", "to_id")
    with pytest.raises(RuleError) as refused:
        transfers.transfer_students([c.own_student.id], c.other_counsellor, c.deputy,
                                    reason=" ")
    assert (refused.value.code, refused.value.field) == ("transfer-no-reason", "reason")
    with pytest.raises(RuleError) as refused:
        transfers.transfer_students([c.other_student.id], c.other_counsellor, c.deputy,
                                    reason="x")
    assert refused.value.code == "transfer-none"


def test_a_set_that_changed_since_the_preview_is_a_conflict(caseload):
    c = caseload
    preview = transfers.preview_transfer([c.own_student.id, c.graduate.id], c.other_counsellor)
    c.graduate.counsellor_id = c.other_counsellor.id  # someone moved one meanwhile
    db.session.commit()
    with pytest.raises(RuleError) as refused:
        transfers.transfer_students([c.own_student.id, c.graduate.id], c.other_counsellor,
                                    c.deputy, reason="x", fingerprint=preview.fingerprint)
    assert refused.value.conflict
    db.session.rollback()
    assert db.session.get(Student, c.own_student.id).counsellor_id == c.counsellor.id


def test_progress_is_told_after_each_chunk(caseload, monkeypatch):
    c = caseload
    monkeypatch.setattr(transfers, "CHUNK", 1)
    seen = []
    transfers.transfer_students([c.own_student.id, c.graduate.id], c.other_counsellor,
                                c.deputy, reason="x", progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 2), (2, 2)]


def test_the_roster_import_moves_students_through_the_transfer(caseload):
    c = caseload
    data = csv_of([row_of(c.own_student, **{"辅导员": c.other_counsellor.username})])
    preview = roster_import.preview_import("roster.csv", data)
    roster_import.apply_import(preview, c.admin, NOW)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Student, c.own_student.id).counsellor_id == c.other_counsellor.id
    assert db.session.get(Recheck, c.open_recheck.id).owner_id == c.other_counsellor.id
    entry = db.session.scalars(select(TimelineEntry).where(
        TimelineEntry.student_id == c.own_student.id, TimelineEntry.kind == "transfer")).one()
    assert entry.details["source"] == "roster_import" and entry.author_id == c.admin.id
    assert db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action == "student.transfer")).all() == ["student.transfer"]
    assert {n.kind for n in db.session.scalars(select(Notification))} == {
        "transfer.in", "transfer.out"}


def test_who_may_transfer_and_set_supervisors(college):
    from caretrack.access import (
        can_assign_supervisors,
        can_transfer_students,
        takes_bulk_actions,
        transfer_filter,
    )

    c = college
    assert [can_transfer_students(u) for u in (c.counsellor, c.supervisor, c.deputy, c.admin)] \
        == [False, False, True, True]
    assert [can_assign_supervisors(u) for u in (c.counsellor, c.deputy, c.admin)] == [
        False, False, True]
    assert all(takes_bulk_actions(u) for u in (c.counsellor, c.supervisor, c.deputy, c.admin))
    movable = set(db.session.scalars(select(Student.id).where(transfer_filter(c.deputy))))
    assert movable == {c.own_student.id, c.other_student.id, c.graduate.id}
    assert list(db.session.scalars(select(Student.id).where(transfer_filter(c.counsellor)))) \
        == []
