"""A supervisor or counsellor of another college is refused by the services, on every way in:
a referral, setting a supervisor (one student or in bulk), a roster import, a transfer. The
refusal names the field, and nothing is written."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.messages import message
from caretrack.models import Referral, Student, TimelineEntry
from caretrack.services import bulk, referrals, roster, transfers
from caretrack.services.errors import RuleError
from tests.helpers import text_of
from tests.test_roster_import import csv_of, preview_page, row_of

NOW = datetime(2020, 3, 3, 3, 0, tzinfo=UTC)


def _refused(call) -> RuleError:
    with pytest.raises(RuleError) as refused:
        call()
    db.session.rollback()
    return refused.value


def _referrals() -> int:
    return db.session.scalar(select(func.count(Referral.id)))


def test_a_referral_to_another_colleges_supervisor_is_refused(colleges):
    c = colleges
    error = _refused(lambda: referrals.refer(c.own_student, c.foreign_supervisor, c.counsellor,
                                             reason="论文压力", now=NOW))
    assert (error.code, error.field) == ("supervisor-elsewhere", "supervisor_id")
    assert message(error.code) == "该导师属于其他学院：请选择该学生所在学院的导师。"
    assert _referrals() == 0
    referrals.refer(c.own_student, c.supervisor, c.counsellor, reason="论文压力", now=NOW)
    assert _referrals() == 1


def test_the_referral_form_says_it_beside_the_field(client, auth, colleges):
    c = colleges
    auth.login(c.counsellor)
    response = client.post(f"/students/{c.own_student.id}/referrals/new", data={
        "supervisor_id": c.foreign_supervisor.id, "reason": "论文压力", "urgency": "normal"})
    body = text_of(response)
    assert "不是有效的选择" in body  # beside the field: not one of the college's supervisors
    assert c.foreign_supervisor.display_name not in body
    assert _referrals() == 0


def test_setting_another_colleges_supervisor_is_refused(colleges):
    c = colleges
    error = _refused(lambda: roster.assign_supervisor(c.graduate, c.foreign_supervisor,
                                                      c.admin, now=NOW))
    assert (error.code, error.field) == ("supervisor-elsewhere", "to_id")
    assert db.session.get(Student, c.graduate.id).supervisor_id == c.supervisor.id


def test_bulk_supervisor_and_transfer_refuse_another_colleges_people(colleges):
    c = colleges
    ids = [c.own_student.id, c.graduate.id]
    for action, to, code in (
            (bulk.Action.ASSIGN_SUPERVISOR, c.foreign_supervisor, "supervisor-elsewhere"),
            (bulk.Action.TRANSFER, c.foreign_counsellor, "counsellor-elsewhere")):
        params = {"to_id": str(to.id), "reason": "调整"}
        error = _refused(lambda action=action, params=params: bulk.plan(
            action, c.admin, ids, params, now=NOW))
        assert (error.code, error.field) == (code, "to_id")
        fingerprint = transfers.fingerprint_of(sorted(ids))
        error = _refused(lambda action=action, params=params, fp=fingerprint: bulk.run(
            action, ids, c.admin.id, params, fingerprint=fp, now=NOW))
        assert (error.code, error.field) == (code, "to_id")
    stored = {s.id: (s.counsellor_id, s.supervisor_id)
              for s in db.session.scalars(select(Student).where(Student.id.in_(ids)))}
    assert stored == {c.own_student.id: (c.counsellor.id, None),
                      c.graduate.id: (c.counsellor.id, c.supervisor.id)}


def test_a_transfer_to_another_colleges_counsellor_is_refused(colleges):
    c = colleges
    error = _refused(lambda: transfers.transfer_students(
        [c.own_student.id], c.foreign_counsellor, c.deputy, reason="换辅导员", now=NOW))
    assert (error.code, error.field) == ("counsellor-elsewhere", "to_id")
    assert db.session.get(Student, c.own_student.id).counsellor_id == c.counsellor.id
    assert db.session.scalar(select(func.count(TimelineEntry.id)).where(
        TimelineEntry.kind == "transfer")) == 0
    error = _refused(lambda: transfers.preview_transfer([c.own_student.id],
                                                        c.foreign_counsellor, c.deputy))
    assert error.code == "counsellor-elsewhere"


def test_a_roster_import_naming_another_colleges_supervisor_writes_nothing(client, auth,
                                                                          colleges):
    c = colleges
    auth.login(c.admin)
    page, _url = preview_page(client, csv_of([
        row_of(c.graduate, **{"导师": c.foreign_supervisor.username})]))
    body = text_of(page)
    assert f"导师 {c.foreign_supervisor.username} 是其他学院的账号" in body  # row 2, column H
    assert 'name="fingerprint"' not in page.get_data(as_text=True)
    assert db.session.get(Student, c.graduate.id).supervisor_id == c.supervisor.id
