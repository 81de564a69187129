"""The API at a college's size: 2,458 statuses in one request leave the same rows as the same
sheet through the check-in sheet upload, a bad row stops no good one; and the students list
answers in a constant number of queries."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, insert, select

from caretrack.extensions import db
from caretrack.models import AuditEvent, DailyStatus, EntryKind, Student, TimelineEntry
from caretrack.services.api_tokens import create_token
from caretrack.services.cases import assign_category
from caretrack.services.clock import local_today
from caretrack.services.daily.sheet import apply_upload, preview_upload, upload_token
from tests import factories
from tests.helpers import count_queries

ROSTER = 2458
PLACES = [("湖北", "武汉", None), ("北京", "", None), ("在校", "", None),
          ("广东", "深圳", "否"), ("湖北省", "黄冈市", "no"), ("上海", "", "")]
HEALTH = ["正常", "normal", "发热", "咳嗽", "fever", "居家隔离", "健康"]


def _bulk_roster(counsellor, n: int) -> list[tuple[int, str, str]]:
    """``n`` students of the counsellor, inserted in one statement; (id, number, name)."""
    now = datetime.now(UTC)
    db.session.execute(insert(Student.__table__), [{
        "student_number": f"20{i:08d}", "name": f"学生{i}", "gender": "F",
        "programme": "undergraduate", "cohort": 2017, "class_name": f"2017级{i // 40}班",
        "counsellor_id": counsellor.id, "college_id": counsellor.college_id, "phone": "", "province": "北京", "city": "北京",
        "on_campus": False, "employed": False, "notes": "", "concern_level": "normal",
        "flagged_for_review": False, "created_at": now, "updated_at": now, "version_id": 1,
    } for i in range(n)])
    db.session.commit()
    return db.session.execute(select(Student.id, Student.student_number, Student.name).where(
        Student.student_number.like("20%"), Student.counsellor_id == counsellor.id)).all()


def _rows(roster) -> list[dict]:
    rows = []
    for i, (_id, number, name) in enumerate(roster):
        province, city, on_campus = PLACES[i % len(PLACES)]
        row = {"student_number": number, "name": name if i % 2 else "", "province": province,
               "city": city, "health": HEALTH[i % len(HEALTH)], "note": f"第{i}行" if i % 5 else ""}
        if on_campus is not None:
            row["on_campus"] = on_campus
        rows.append(row)
    return rows


def _sheet(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["学号", "姓名", "省份", "城市", "是否在校", "健康状况", "备注"])
    for r in rows:
        writer.writerow([r["student_number"], r["name"], r["province"], r["city"],
                         r.get("on_campus", ""), r["health"], r["note"]])
    return out.getvalue().encode("utf-8")


def _api_row(row: dict) -> dict:
    """The sheet row as JSON: "on_campus" a boolean (or absent), empty cells left out."""
    api = {k: v for k, v in row.items() if v != "" and k != "on_campus"}
    if row.get("on_campus"):
        api["on_campus"] = row["on_campus"] not in ("否", "no")
    return api


def _stored() -> set[tuple]:
    return set(db.session.execute(select(
        DailyStatus.student_id, DailyStatus.day, DailyStatus.province, DailyStatus.city,
        DailyStatus.on_campus, DailyStatus.health, DailyStatus.note, DailyStatus.source,
        DailyStatus.recorded_by_id)).all())


def _forget_the_day() -> None:
    for table in (DailyStatus, TimelineEntry, AuditEvent):
        db.session.execute(delete(table))
    db.session.commit()


def test_the_bulk_upsert_and_the_sheet_upload_leave_the_same_rows(client, college):
    counsellor = college.counsellor
    roster = _bulk_roster(counsellor, ROSTER)
    rows = _rows(roster)
    now = datetime.now(UTC)

    preview = preview_upload(counsellor, "打卡.csv", _sheet(rows), now)
    assert preview.problems == [] and len(preview.rows) == ROSTER
    apply_upload(counsellor, upload_token(counsellor, preview), now)
    db.session.commit()
    by_sheet = _stored()
    assert len(by_sheet) == ROSTER
    sheet_changes = db.session.scalar(select(db.func.count(TimelineEntry.id)).where(
        TimelineEntry.kind == EntryKind.STATUS_CHANGE))
    _forget_the_day()

    # The same rows through the API, with three bad ones among them.
    body = [_api_row(r) for r in rows]
    bad = {
        7: {"student_number": college.other_student.student_number, "province": "北京",
            "health": "正常"},
        1500: {"student_number": rows[3]["student_number"], "province": "北京",
               "health": "正常"},
        2400: {"student_number": rows[2400]["student_number"], "province": "北京",
               "health": "头疼?"},
    }
    body[2400] = bad[2400]  # replaces a good row: that student gets no status
    body.insert(1500, bad[1500])
    body.insert(7, bad[7])
    _token, secret = create_token(counsellor, name="campus app", scope="read_write", days=7,
                                  now=now)
    db.session.commit()
    answer = client.post(f"/api/v1/daily/{local_today(now).isoformat()}/statuses",
                         json={"statuses": body}, headers={"Authorization": f"Bearer {secret}"})
    result = answer.get_json()
    assert answer.status_code == 200, result
    assert result["applied"] == ROSTER - 1
    # Indexes are the request's: 7, then 1500 + 1 (after the insert at 7), 2400 + 2.
    assert {r["index"]: r["code"] for r in result["refused"]} == {
        7: "sheet-not-your-student", 1501: "sheet-duplicate-row", 2402: "sheet-invalid-health"}
    assert result["refused"][0]["student_number"] == college.other_student.student_number
    missing = roster[2400][0]
    assert _stored() == {row for row in by_sheet if row[0] != missing}
    assert result["changed"] == sheet_changes - 1


def _list_queries(client, headers, n_students, category, counsellors) -> tuple[int, int]:
    for index in range(n_students):
        student = factories.StudentFactory(counsellor=counsellors[index % len(counsellors)])
        if index % 3 == 0:
            assign_category(student, category, student.counsellor, started_on=date(2020, 2, 1))
    db.session.commit()
    with count_queries() as counter:
        answer = client.get("/api/v1/students?per_page=200", headers=headers)
    assert answer.status_code == 200
    return counter.count, len(answer.get_json()["items"])


@pytest.mark.parametrize("role", ["counsellor", "deputy"])
def test_the_students_list_queries_do_not_grow_with_students(client, college, role):
    """The list's queries stay the same with 10 or 190 more students, spread over five
    counsellors, a third of them in a care category."""
    user = getattr(college, role)
    category = factories.CategoryFactory()
    counsellors = [college.counsellor, college.other_counsellor,
                   *factories.CounsellorFactory.create_batch(3)]
    _token, secret = create_token(user, name="list", scope="read", days=7,
                                  now=datetime.now(UTC))
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    small, shown_small = _list_queries(client, headers, 10, category, counsellors)
    large, shown_large = _list_queries(client, headers, 190, category, counsellors)
    assert shown_large > shown_small
    assert small == large, (role, small, large)
