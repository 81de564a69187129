"""Merging two records of one student: everything moves, the duplicate points to the record
that stays, one audit event; undone only while nothing new was written."""

import io
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import (
    AuditEvent,
    CategoryAssignment,
    DailyStatus,
    Referral,
    Student,
    StudentMerge,
    TimelineEntry,
)
from caretrack.services import merges
from caretrack.services.entries import record_note
from caretrack.services.errors import RuleError
from caretrack.services.roster_import import preview_import
from tests import factories
from tests.helpers import text_of
from tests.hostile_sheets import ROSTER_HEADERS, csv_bytes, roster_row

NOW = datetime(2020, 3, 3, 2, 0, tzinfo=UTC)


def status(student, day, city):
    db.session.add(DailyStatus(student_id=student.id, day=day, province="河北", city=city,
                               health="normal", source="counsellor",
                               recorded_by_id=student.counsellor_id, recorded_at=NOW))


@pytest.fixture
def twins(college):
    """陈小明 twice: his record, and the duplicate an old import made without the zero, with
    a note, a category, a referral and two daily statuses (one of a day he has one too)."""
    keep = college.own_student
    twin = factories.StudentFactory(student_number=keep.student_number.lstrip("0"),
                                    name=keep.name, counsellor=college.counsellor)
    db.session.flush()
    record_note(twin, college.counsellor, body="电话联系，情况稳定", now=NOW)
    factories.AssignmentFactory(student=twin)
    factories.ReferralFactory(student=twin, supervisor=college.supervisor)
    status(keep, date(2020, 3, 2), "保定")
    status(twin, date(2020, 3, 2), "唐山")
    status(twin, date(2020, 3, 1), "唐山")
    db.session.commit()
    return keep, twin


def count(model, student) -> int:
    return db.session.scalar(select(func.count(model.id)).where(model.student_id == student.id))


def test_a_merge_moves_everything_and_leaves_a_pointer(college, twins):
    keep, twin = twins
    plan = merges.plan_merge(keep.id, twin.id)
    assert {t: n for t, n in plan.counts.items() if n} == {
        "timeline_entries": 1, "category_assignments": 1, "referrals": 1, "daily_statuses": 1}
    assert plan.kept["daily_statuses"] == 1  # 2 March: the record that stays has its own
    merge = merges.merge_students(keep.id, twin.id, college.admin, NOW)
    db.session.commit()
    assert db.session.get(Student, twin.id).merged_into_id == keep.id
    assert (count(TimelineEntry, keep), count(CategoryAssignment, keep), count(Referral, keep),
            count(DailyStatus, keep)) == (1, 1, 1, 2)
    assert count(DailyStatus, twin) == 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "student.merge")).one()
    assert (event.student_id, event.detail) == (
        keep.id, f"merged:{twin.student_number} into:{keep.student_number}")
    assert merges.can_undo(merge)
    with pytest.raises(RuleError, match="merge-not-a-record"):
        merges.plan_merge(keep.id, twin.id)


def test_the_pointer_leaves_every_list_and_its_old_link_opens_the_record(client, auth, college,
                                                                         twins):
    keep, twin = twins
    merges.merge_students(keep.id, twin.id, college.admin, NOW)
    db.session.commit()
    auth.login(college.counsellor)
    response = client.get(f"/students/{twin.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/students/{keep.id}")
    page = text_of(client.get(response.headers["Location"]))
    assert "电话联系，情况稳定" in page
    caseload = client.get("/students/").get_data(as_text=True)
    assert f'/students/{twin.id}"' not in caseload and f'/students/{keep.id}"' in caseload
    # another counsellor still gets the 404 of a student they may not see
    auth.logout()
    auth.login(college.other_counsellor)
    assert client.get(f"/students/{twin.id}").status_code == 404


def test_undo_moves_everything_back_until_something_new_is_written(college, twins):
    keep, twin = twins
    merge = merges.merge_students(keep.id, twin.id, college.admin, NOW)
    db.session.commit()
    merges.undo_merge(merge.id, college.admin, NOW)
    db.session.commit()
    assert db.session.get(Student, twin.id).merged_into_id is None
    assert (count(TimelineEntry, twin), count(DailyStatus, twin), count(DailyStatus, keep)) == (
        1, 2, 1)
    again = merges.merge_students(keep.id, twin.id, college.admin, NOW)
    record_note(db.session.get(Student, keep.id), college.counsellor, body="新记录", now=NOW)
    db.session.commit()
    assert not merges.can_undo(again)
    with pytest.raises(RuleError, match="merge-not-reversible"):
        merges.undo_merge(again.id, college.admin, NOW)


def test_a_roster_row_with_the_merged_number_updates_the_record_that_stays(college, twins):
    keep, twin = twins
    merges.merge_students(keep.id, twin.id, college.admin, NOW)
    db.session.commit()
    row = roster_row(twin.student_number, keep.name, "李老师", 班级=keep.class_name,
                     年级=str(keep.cohort), 手机="13700000000", 所在省份="北京", 所在城市="北京")
    preview = preview_import("r.csv", csv_bytes([ROSTER_HEADERS, row]))
    assert not preview.creates and not preview.errors
    assert [u.student_number for u in preview.updates] == [keep.student_number]
    assert [m.message for m in preview.matched] == [
        f"{twin.student_number} 已合并到 {keep.student_number}：此行更新 {keep.student_number}。"]


def test_the_admin_merges_from_the_roster_pages(client, auth, college, twins):
    keep, twin = twins
    auth.login(college.admin)
    page = client.get(f"/admin/roster/merge?keep={keep.student_number}&merge={twin.student_number}")
    text = text_of(page)
    assert "时间线记录：1" in text and "每日状态：1" in text
    assert "每日状态：1 条留在重复记录上" in text
    html = page.get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    response = client.post("/admin/roster/merge", data={
        "survivor_id": keep.id, "merged_id": twin.id, "csrf_token": token.group(1) if token else ""})
    merge = db.session.scalars(select(StudentMerge)).one()
    assert response.headers["Location"].endswith(f"/admin/roster/merges/{merge.id}")
    done = text_of(client.get(response.headers["Location"]))
    assert f"{twin.student_number} 已合并到 {keep.student_number}" in done and "撤销合并" in done
    client.post(f"/admin/roster/merges/{merge.id}/undo")
    assert "已撤销" in text_of(client.get(f"/admin/roster/merges/{merge.id}"))


@pytest.mark.parametrize("keep, merge, message", [
    ("0999999999", "", "请输入学号。"),
    ("0999999999", "1", "没有学号为 0999999999 的当前记录。"),
])
def test_wrong_numbers_are_shown_beside_their_field(client, auth, college, keep, merge, message):
    auth.login(college.admin)
    response = client.get(f"/admin/roster/merge?keep={keep}&merge={merge}")
    assert response.status_code == 422
    assert message in text_of(response)


def test_the_same_record_twice_is_refused(client, auth, college):
    auth.login(college.admin)
    number = college.own_student.student_number
    response = client.get(f"/admin/roster/merge?keep={number}&merge={number}")
    assert "请选择两条不同的记录。" in text_of(response)


def test_only_the_admin_merges(client, auth, college):
    auth.login(college.deputy)
    assert client.get("/admin/roster/merge").status_code == 404


def test_the_import_preview_offers_to_merge_two_stored_duplicates(client, auth, college, twins):
    keep, twin = twins
    auth.login(college.admin)
    row = roster_row(keep.student_number, keep.name, "李老师", 班级=keep.class_name,
                     年级=str(keep.cohort), 手机=keep.phone, 所在省份="北京", 所在城市="北京")
    response = client.post("/admin/roster/import",
                           data={"file": (io.BytesIO(csv_bytes([ROSTER_HEADERS, row])), "r.csv")},
                           content_type="multipart/form-data")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (f"/admin/roster/merge?keep={keep.student_number}&amp;merge={twin.student_number}"
            in html)


def test_a_merge_post_without_its_records_writes_nothing(client, auth, college):
    auth.login(college.admin)
    response = client.post("/admin/roster/merge", data={"survivor_id": "", "merged_id": "x"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/roster/merge"
    assert db.session.scalar(select(func.count(StudentMerge.id))) == 0
