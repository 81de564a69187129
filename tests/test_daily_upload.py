"""The check-in sheet: a good sheet previews what it changes, writes nothing, then applies on
confirmation; a bad sheet is refused with a reason per row and writes nothing."""

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import AuditEvent, DailyStatus, EntryKind, TimelineEntry
from caretrack.services.clock import local_today
from caretrack.services.daily import carried, reports, values
from tests.helpers import text_of

#: 3 March 2020, 09:00 in Beijing.
MORNING = datetime(2020, 3, 3, 1, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """Pin the pages' clock to 3 March 2020, 09:00 in Beijing."""
    monkeypatch.setattr("caretrack.reports.pages.now_utc", lambda: MORNING)
    return MORNING


@pytest.fixture
def signed_in(college, auth, clock):
    auth.login(college.counsellor)
    return college


def csv_sheet(rows, encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_sheet(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, content: bytes, filename="打卡.csv"):
    return client.post("/reports/daily/upload", data={"sheet": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def token_of(response) -> str:
    return re.search(r'name="token" type="hidden" value="([^"]+)"',
                     response.get_data(as_text=True)).group(1)


def statuses() -> int:
    return db.session.scalar(select(func.count(DailyStatus.id)))


def test_good_sheet_previews_then_applies(client, signed_in):
    c = signed_in
    me, grad = c.own_student, c.graduate
    sheet = csv_sheet([
        ["学号", "姓名", "省份", "城市", "健康状况", "备注"],
        [me.student_number, me.name, "湖北省", "武汉市", "发热", "体温38.2℃"],
        [grad.student_number, grad.name, "北京", "北京", "正常", ""],
    ])
    preview = upload(client, sheet)
    page = text_of(preview)
    assert preview.status_code == 200
    assert "表中 2 名学生" in page and "1 项变化" in page and "1 名无变化" in page
    assert "陈小明" in page and "湖北" in page and "发热" in page
    assert statuses() == 0, "a preview writes nothing"

    applied = client.post("/reports/daily/upload/confirm", data={"token": token_of(preview)},
                          follow_redirects=True)
    assert "确认 2 名学生，其中 1 名有变化" in text_of(applied)
    rows = {r.student_id: r for r in db.session.scalars(select(DailyStatus))}
    assert (rows[me.id].province, rows[me.id].city, rows[me.id].health) == ("湖北", "武汉", "fever")
    # cells are read in Unicode NFKC: "℃" is "°C"
    assert rows[me.id].note == "体温38.2°C" and rows[me.id].source == "upload"
    assert rows[grad.id].health == "normal" and rows[grad.id].day.isoformat() == "2020-03-03"
    entries = db.session.scalars(
        select(TimelineEntry).where(TimelineEntry.kind == EntryKind.STATUS_CHANGE)
    ).all()
    assert [e.student_id for e in entries] == [me.id]
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "daily_status.upload")).all()
    assert (event.detail, event.user_id, event.ip) == ("rows:2", c.counsellor.id, "127.0.0.1")


def test_xlsx_with_english_headers_a_location_column_and_lost_leading_zeros(client, signed_in):
    me, grad = signed_in.own_student, signed_in.graduate
    assert me.student_number.startswith("0")
    sheet = xlsx_sheet([
        ["Student number", "Location", "On campus", "Health"],
        [int(me.student_number), "Hubei Wuhan", "no", "Isolated at home"],
        [grad.student_number, "在校", "", "isolated at the centre"],
    ])
    preview = upload(client, sheet, "check-in.xlsx")
    assert "2 项变化" in text_of(preview), text_of(preview)
    client.post("/reports/daily/upload/confirm", data={"token": token_of(preview)})
    now = carried.statuses_for([me.id, grad.id], local_today(MORNING))
    assert now[me.id].values == values.StatusValues("湖北", "Wuhan", False, "isolated_home")
    assert now[grad.id].values == values.StatusValues("北京", "北京", True, "isolated_centre")


def test_gbk_csv_is_read(client, signed_in):
    me = signed_in.own_student
    sheet = csv_sheet([["学号", "所在地", "健康状况"], [me.student_number, "河南省郑州市", "正常"]],
                      encoding="gbk")
    preview = upload(client, sheet)
    assert "1 项变化" in text_of(preview)
    client.post("/reports/daily/upload/confirm", data={"token": token_of(preview)})
    assert db.session.scalar(select(DailyStatus.province)) == "河南"


def test_bad_rows_are_listed_with_reasons_and_the_good_ones_can_be_saved(client, signed_in):
    c = signed_in
    me, grad, other = c.own_student, c.graduate, c.other_student
    sheet = csv_sheet([
        ["学号", "姓名", "省份", "城市", "健康状况"],
        ["2099999999", "", "北京", "北京", "正常"],                      # row 2: unknown
        [other.student_number, other.name, "北京", "北京", "正常"],       # row 3: not mine
        [grad.student_number, grad.name, "北京", "北京", "打喷嚏"],       # row 4: health
        [me.student_number, me.name, "河北", "保定", "正常"],             # row 5: good
        [me.student_number, me.name, "河北", "保定", "正常"],             # row 6: duplicate
        [grad.student_number, "王五", "北京", "北京", "正常"],            # row 7: again, misnamed
    ])
    response = upload(client, sheet)
    assert response.status_code == 200
    page = text_of(response)
    problems = re.findall(r'<tr data-problem="([\w-]+)"><td[^>]*>(\d+)</td>',
                          response.get_data(as_text=True))
    assert problems == [("not-your-student", "2"), ("not-your-student", "3"),
                        ("invalid-health", "4"), ("duplicate-row", "6"),
                        ("duplicate-row", "7"), ("name-mismatch", "7")]
    assert "5 行有问题，未纳入" in page
    assert "学号 2099999999 不是您所带的学生" in page
    assert f"学号 {other.student_number} 不是您所带的学生" in page
    assert "无法识别的健康状况“打喷嚏”" in page and "居家隔离" in page
    assert f"学号 {me.student_number} 重复出现（首次出现在第 5 行）" in page
    assert "保存 1 行无误的数据" in page
    assert statuses() == 0

    english = text_of(client.post(
        "/reports/daily/upload?lang=en",
        data={"sheet": (io.BytesIO(sheet), "sheet.csv")}, content_type="multipart/form-data"))
    assert "Student number 2099999999 is not one of your students." in english
    assert "Unknown health value “打喷嚏”" in english and "Isolated at home" in english
    assert "Save the 1 good row" in english
    assert statuses() == 0

    client.post("/reports/daily/upload/confirm", data={"token": token_of(response)})
    now = carried.statuses_for([me.id, grad.id], local_today(MORNING))
    assert now[me.id].values == values.StatusValues("河北", "保定", False, "normal")
    assert not now[grad.id].confirmed
    assert statuses() == 1


def test_a_sheet_of_bad_rows_only_is_refused_and_writes_nothing(client, signed_in):
    other = signed_in.other_student
    response = upload(client, csv_sheet([
        ["学号", "姓名", "省份", "城市", "健康状况"],
        [other.student_number, other.name, "北京", "北京", "正常"],
    ]))
    assert response.status_code == 422
    page = text_of(response)
    assert "表格未导入，没有保存任何内容" in page and "确认并保存" not in page
    assert statuses() == 0


@pytest.mark.parametrize("content, filename, message", [
    (csv_sheet([["编号", "地点", "状态"], ["1", "北京", "正常"]]), "a.csv", "缺少列：学号、健康状况"),
    (csv_sheet([["学号", "健康状况"], ["1", "正常"]]), "a.csv", "缺少列：所在地（或省份和城市）"),
    (csv_sheet([["学号", "学号", "所在地", "健康状况"]]), "a.csv", "列“学号”出现了两次"),
    (csv_sheet([["学号", "所在地", "健康状况"]]), "a.csv", "表格只有表头，没有学生"),
    (b"\x00\x01binary", "a.xlsx", "此文件不是 CSV 或 XLSX 表格"),
])
def test_wrong_sheets_are_refused(client, signed_in, content, filename, message):
    response = upload(client, content, filename)
    assert message in text_of(response)
    assert statuses() == 0


def test_a_file_of_another_kind_is_refused_by_the_form(client, signed_in):
    response = upload(client, b"hello", "notes.txt")
    assert "请选择 CSV 或 XLSX 文件" in text_of(response)


def test_a_forged_or_foreign_token_writes_nothing(client, signed_in, auth):
    me = signed_in.own_student
    sheet = csv_sheet([["学号", "所在地", "健康状况"], [me.student_number, "河北保定", "正常"]])
    token = token_of(upload(client, sheet))
    forged = client.post("/reports/daily/upload/confirm", data={"token": token + "x"},
                         follow_redirects=True)
    assert "此预览已过期" in text_of(forged)
    # The other counsellor cannot apply this counsellor's preview.
    auth.logout()
    auth.login(signed_in.other_counsellor)
    client.post("/reports/daily/upload/confirm", data={"token": token})
    assert statuses() == 0


def test_a_change_after_the_report_is_submitted_is_recorded_as_after_submission(client,
                                                                                signed_in):
    """The old rule refused a sheet with changes once the report was submitted; now the
    changes are kept and the report shows them as changes since submission."""
    c = signed_in
    reports.submit_report(c.counsellor, local_today(MORNING), MORNING)
    db.session.commit()
    me, grad = c.own_student, c.graduate
    changing = csv_sheet([["学号", "所在地", "健康状况"], [me.student_number, "河北保定", "正常"],
                          [grad.student_number, "北京", "正常"]])
    preview = upload(client, changing)
    client.post("/reports/daily/upload/confirm", data={"token": token_of(preview)})
    assert statuses() == 2
    page = text_of(client.get("/reports/daily/"))
    assert "提交后有 1 项变化" in page


def test_the_prefilled_sheet_reads_back_without_change(client, signed_in):
    downloaded = client.get("/reports/daily/check-in-sheet.xlsx")
    assert downloaded.mimetype.endswith("spreadsheetml.sheet")
    preview = upload(client, downloaded.data, "check-in.xlsx")
    page = text_of(preview)
    assert "表中 2 名学生" in page and "0 项变化" in page and "2 名无变化" in page
