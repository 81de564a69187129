"""The counsellor's daily page and the deputy secretary's board, as each of them sees it; the
college report's XLSX, text and email."""

import io
import re
import zipfile
from collections import Counter
from datetime import UTC, date, datetime, time

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from caretrack.extensions import db
from caretrack.models import AuditEvent, DailyReport, DailyStatus
from caretrack.services import mail
from caretrack.services.clock import local_datetime
from caretrack.services.daily import reports, statuses
from caretrack.services.daily.values import StatusValues
from tests import factories
from tests.helpers import count_queries, text_of

MARCH_2, MARCH_3 = date(2020, 3, 2), date(2020, 3, 3)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return local_datetime(day, time(hour, minute)).astimezone(UTC)


class Clock:
    """The pages' clock, pinned; tests move it."""

    def __init__(self, monkeypatch):
        self.now = at(MARCH_3, 9)
        monkeypatch.setattr("caretrack.reports.pages.now_utc", lambda: self.now)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def here(province, city, health="normal", on_campus=False):
    return StatusValues(province, city, on_campus, health)


# -- the counsellor ---------------------------------------------------------------------------


def test_daily_page_shows_non_responders_and_changes_of_own_students_only(
    client, auth, college, clock
):
    c = college
    statuses.record_status(c.own_student, c.counsellor, here("湖北", "武汉", "fever"), clock.now)
    statuses.record_status(c.other_student, c.other_counsellor, here("河南", "郑州"), clock.now)
    db.session.commit()
    auth.login(c.counsellor)

    missing = text_of(client.get("/reports/daily/"))  # non-responders first
    assert "每日上报" in missing and "2020-03-03" in missing
    assert "赵研究" in missing and "陈小明" not in missing
    assert "刘小红" not in missing

    changes = text_of(client.get("/reports/daily/?show=changes"))
    assert "陈小明" in changes and "湖北 武汉" in changes and "发热" in changes
    assert "赵研究" not in changes and "刘小红" not in changes

    english = text_of(client.get("/reports/daily/?show=changes&lang=en"))
    assert "Changed since yesterday" in english and "Fever" in english
    assert "No status yet" in english and "Zero report" not in english
    assert "Submit the report (1 change)" in english


def test_after_the_deadline_non_responders_are_a_list_to_chase(client, auth, college, clock):
    clock.now = at(MARCH_3, 11, 30)
    auth.login(college.counsellor)
    response = client.get("/reports/daily/?show=missing")
    page = text_of(response)
    assert "已过截止时间：需逐一联系的学生" in page and "缺报" in page
    body = response.get_data(as_text=True)
    link = re.search(rf'href="(/students/{college.own_student.id}/follow-ups/new\?next=[^"]+)"',
                     body)
    assert link and link.group(1).endswith("next=/reports/daily/?show%3Dmissing")
    assert college.own_student.phone in page


def test_record_a_change_inline_and_confirm_the_unchanged(client, auth, college, clock):
    c = college
    auth.login(c.counsellor)
    response = client.post(
        f"/reports/daily/students/{c.own_student.id}/status",
        data={"province": "河北", "city": "保定", "health": "symptoms", "note": "咳嗽三天",
              "next": "/reports/daily/?show=all"},
    )
    assert response.status_code == 302 and response.location.endswith("/reports/daily/?show=all")
    client.post(f"/reports/daily/students/{c.graduate.id}/confirm")
    rows = {r.student_id: r for r in db.session.scalars(select(DailyStatus))}
    assert (rows[c.own_student.id].city, rows[c.own_student.id].health) == ("保定", "symptoms")
    assert rows[c.own_student.id].note == "咳嗽三天"
    assert rows[c.graduate.id].province == "北京"
    assert "所有学生当天都已确认状态" in text_of(client.get("/reports/daily/?show=missing"))
    # With everyone answered, the page opens on the changes.
    assert "陈小明" in text_of(client.get("/reports/daily/"))


def test_a_status_form_error_keeps_what_was_typed(client, auth, college, clock):
    auth.login(college.counsellor)
    response = client.post(f"/reports/daily/students/{college.own_student.id}/status",
                           data={"province": "", "city": "保定市", "health": "fever"})
    assert response.status_code == 200
    assert "请填写省份，或勾选“在校”" in text_of(response)
    assert 'value="保定市"' in response.get_data(as_text=True)
    assert db.session.scalar(select(DailyStatus.id)) is None


def test_a_change_after_the_report_is_submitted_is_recorded_and_shown(client, auth, college,
                                                                     clock):
    """The old rule refused this change on the form; now it is kept, and the counsellor and
    the deputy see it as a change since submission."""
    reports.submit_report(college.counsellor, MARCH_3, clock.now)
    db.session.commit()
    auth.login(college.counsellor)
    response = client.post(f"/reports/daily/students/{college.own_student.id}/status",
                           data={"province": "河北", "city": "保定", "health": "fever"},
                           follow_redirects=True)
    assert "已记录陈小明的变化" in text_of(response)
    assert "提交后有 1 项变化" in text_of(response)
    assert db.session.scalars(select(DailyStatus)).one().changed_after == "submitted"
    auth.logout()
    auth.login(college.deputy)
    board = client.get("/reports/board/")
    assert "提交后有 1 项变化" in text_of(board)
    fever = client.get(f"/reports/board/students?date=2020-03-03&what=after_submission"
                       f"&counsellor={college.counsellor.id}")
    assert "陈小明" in text_of(fever) and "刘小红" not in text_of(fever)


def test_another_counsellors_student_is_404(client, auth, college, clock):
    auth.login(college.counsellor)
    other = college.other_student.id
    assert client.get(f"/reports/daily/students/{other}/status").status_code == 404
    assert client.post(f"/reports/daily/students/{other}/status",
                       data={"province": "北京", "health": "normal"}).status_code == 404
    assert client.post(f"/reports/daily/students/{other}/confirm").status_code == 404
    assert db.session.scalar(select(DailyStatus.id)) is None


def test_zero_report_in_one_click_then_late_report_the_next_day(client, auth, college, clock):
    auth.login(college.counsellor)
    client.post(f"/reports/daily/students/{college.own_student.id}/confirm")
    # 赵研究 has not answered: asked once, with the number; nothing is submitted yet.
    asked = client.post("/reports/daily/zero", data={"day": "2020-03-03", "note": "赵研究在联系"})
    assert "仍有 1 名学生今日未确认状态" in text_of(asked)
    assert 'name="confirm" value="1"' in asked.text and "赵研究在联系" in asked.text
    assert db.session.scalar(select(DailyReport.id)) is None
    response = client.post("/reports/daily/zero", data={"day": "2020-03-03", "confirm": "1",
                                                        "note": "赵研究在联系"},
                           follow_redirects=True)
    page = text_of(response)
    assert "提交时：已确认 1 人，未确认 1 人" in page
    assert "已提交零报告：无变化" in page and "零报告" in page and "迟报" not in page
    assert "等待副书记审核" in page

    clock.now = at(date(2020, 3, 4), 11, 20)
    client.post(f"/reports/daily/students/{college.own_student.id}/status",
                data={"province": "天津", "city": "", "health": "normal"})
    page = text_of(client.post("/reports/daily/submit", data={"day": "2020-03-04",
                                                              "confirm": "1"},
                               follow_redirects=True))
    assert "已提交上报，共 1 项变化" in page and "迟报" in page
    reports = db.session.scalars(select(DailyReport).order_by(DailyReport.day)).all()
    assert [(r.day.isoformat(), r.is_zero, r.late) for r in reports] == [
        ("2020-03-03", True, False), ("2020-03-04", False, True)
    ]


def test_a_zero_report_with_changes_is_refused(client, auth, college, clock):
    auth.login(college.counsellor)
    client.post(f"/reports/daily/students/{college.own_student.id}/status",
                data={"province": "天津", "health": "normal"})
    page = text_of(client.post("/reports/daily/zero", data={"day": "2020-03-03"},
                               follow_redirects=True))
    assert "较昨日有 1 项变化" in page
    assert db.session.scalar(select(DailyReport.id)) is None


def test_a_past_day_can_be_opened_and_is_read_only(client, auth, college, clock):
    statuses.record_status(college.own_student, college.counsellor, here("湖北", "黄冈"),
                        at(MARCH_2, 9))
    db.session.commit()
    auth.login(college.counsellor)
    response = client.get("/reports/daily/?date=2020-03-02&show=changes")
    page = text_of(response)
    assert "2020-03-02" in page and "陈小明" in page and "湖北 黄冈" in page
    assert "/confirm" not in response.get_data(as_text=True)
    assert "上传报平安表" not in page
    # The future is not a day yet: it opens today.
    assert "2020-03-03" in text_of(client.get("/reports/daily/?date=2020-04-01"))


# -- the deputy secretary ---------------------------------------------------------------------


def test_board_return_correct_resubmit_approve(client, auth, college, clock):
    c = college
    statuses.record_status(c.own_student, c.counsellor, here("湖北", "武汉", "fever"), clock.now)
    report = reports.submit_report(c.counsellor, MARCH_3, at(MARCH_3, 10))
    db.session.commit()
    clock.now = at(MARCH_3, 11, 30)

    auth.login(c.deputy)
    board = client.get("/reports/board/")
    page = text_of(board)
    assert "已提交" in page and "缺报" in page and "李老师" in page and "张老师" in page
    assert re.search(r'data-total="hubei"><a[^>]*>1<', board.get_data(as_text=True))
    assert re.search(r'data-total="students"><a[^>]*>3<', board.get_data(as_text=True))
    assert "所有上报通过后可导出学院汇总" in page
    detail = text_of(client.get(f"/reports/board/counsellors/{c.counsellor.id}/?show=changes"))
    assert "陈小明" in detail and "湖北 武汉" in detail

    page = text_of(client.post(f"/reports/{report.id}/return", data={"comment": ""},
                               follow_redirects=True))
    assert "请说明退回的原因" in page
    client.post(f"/reports/{report.id}/return", data={"comment": "请核实体温"})
    assert db.session.get(DailyReport, report.id).state == "returned"

    auth.logout()
    auth.login(c.counsellor)
    page = text_of(client.get("/reports/daily/"))
    assert "王副书记 退回： 请核实体温" in page and "重新提交上报（1 项变化）" in page
    client.post(f"/reports/daily/students/{c.own_student.id}/status",
                data={"province": "湖北", "city": "武汉", "health": "normal",
                      "note": "复测体温正常"})
    client.post("/reports/daily/submit", data={"day": "2020-03-03", "note": "已核实",
                                               "confirm": "1"})
    report = db.session.get(DailyReport, report.id)
    assert report.state == "submitted" and report.resubmitted_at is not None

    auth.logout()
    auth.login(c.deputy)
    # 赵研究 is still unconfirmed: the deputy is asked once.
    asked = client.post(f"/reports/{report.id}/approve", data={"next": "/reports/board/"})
    assert "该辅导员仍有 1 名学生今日未确认状态" in text_of(asked)
    assert db.session.get(DailyReport, report.id).state == "submitted"
    client.post(f"/reports/{report.id}/approve", data={"next": "/reports/board/", "confirm": "1"})
    assert db.session.get(DailyReport, report.id).state == "approved"
    assert db.session.get(DailyReport, report.id).approved_unconfirmed == 1
    page = text_of(client.get("/reports/board/"))
    assert "已通过" in page and "已重新提交" in page
    # Locked: a second review changes nothing.
    client.post(f"/reports/{report.id}/return", data={"comment": "再看看"})
    assert db.session.get(DailyReport, report.id).state == "approved"


def test_approve_all_lists_the_submitted_reports_confirms_once_and_approves_each(
        client, auth, college, clock):
    c = college
    third = factories.CounsellorFactory(display_name="赵老师")
    factories.StudentFactory(counsellor=third, name="孙同学")
    db.session.flush()
    first = reports.submit_report(c.counsellor, MARCH_3, at(MARCH_3, 10))
    second = reports.submit_report(c.other_counsellor, MARCH_3, at(MARCH_3, 10, 5))
    db.session.commit()
    clock.now = at(MARCH_3, 11, 30)
    auth.login(c.deputy)
    board = text_of(client.get("/reports/board/"))
    assert "全部通过（2 份已提交）…" in board

    listing = client.get("/reports/board/?date=2020-03-03")
    assert 'href="/reports/board/approve-all?date=2020-03-03"' in listing.get_data(as_text=True)
    page = client.get("/reports/board/approve-all?date=2020-03-03")
    body, shown = page.get_data(as_text=True), text_of(page)
    assert "李老师" in shown and "张老师" in shown and "赵老师" not in shown
    assert "将逐份通过以下 2 份上报" in shown and "通过这 2 份上报" in shown
    assert f'value="{first.id}:{first.version_id}"' in body

    # The list changes meanwhile (the second report is returned): nothing is approved, the new
    # list is shown.
    posted = {"day": "2020-03-03", "report": [f"{first.id}:{first.version_id}",
                                              f"{second.id}:{second.version_id}"]}
    reports.review_report(second, c.deputy, clock.now, approve=False, comment="请补充")
    db.session.commit()
    raced = client.post("/reports/board/approve-all", data=posted)
    assert raced.status_code == 409
    assert "没有通过任何上报" in text_of(raced) and "张老师" not in text_of(raced)
    assert db.session.get(DailyReport, first.id).state == "submitted"

    posted["report"] = [f"{first.id}:{db.session.get(DailyReport, first.id).version_id}"]
    done = client.post("/reports/board/approve-all", data=posted, follow_redirects=True)
    assert "已通过 1 份上报：李老师。" in text_of(done)
    assert db.session.get(DailyReport, first.id).state == "approved"
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "daily_report.approve")).all()
    assert [e.detail for e in events] == [f"report:{first.id}"]
    # Sent again (a double click): nothing more is approved.
    again = client.post("/reports/board/approve-all", data=posted)
    assert again.status_code == 409
    assert len(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "daily_report.approve")).all()) == 1


def test_a_counsellor_does_not_see_the_board(client, auth, college):
    auth.login(college.counsellor)
    assert client.get("/reports/board/").status_code == 404
    assert client.get("/reports/board/college-report.xlsx").status_code == 404


def test_pages_take_a_constant_number_of_queries(client, auth, college, clock):
    def cost(user, url):
        auth.login(user)
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        auth.logout()
        return counter.count

    statuses.record_status(college.own_student, college.counsellor, here("山东", "济南"), clock.now)
    db.session.commit()
    urls = [(college.counsellor, "/reports/daily/?show=all"),
            (college.counsellor, "/reports/daily/?show=changes"),
            (college.deputy, "/reports/board/"),
            (college.deputy, f"/reports/board/counsellors/{college.counsellor.id}/?show=all")]
    before = [cost(user, url) for user, url in urls]
    for n in range(30):
        student = factories.StudentFactory(counsellor=college.counsellor, province="山东")
        statuses.record_status(student, college.counsellor, here("山东", "青岛" if n % 2 else "济南"),
                            clock.now)
    reports.submit_report(college.counsellor, MARCH_3, clock.now)
    db.session.commit()
    assert [cost(user, url) for user, url in urls] == before


# -- the college report -----------------------------------------------------------------------


@pytest.fixture
def approved_day(college, clock):
    """3 March with every report approved: 8 students of two counsellors, in various states."""
    c = college
    people = {
        "hubei_fever": factories.StudentFactory(counsellor=c.counsellor, name="湖北甲"),
        "hubei_home": factories.StudentFactory(counsellor=c.counsellor, name="湖北乙"),
        "campus": factories.StudentFactory(counsellor=c.counsellor, name="留校丙"),
        "henan": factories.StudentFactory(counsellor=c.other_counsellor, name="@SUM(A1)"),
        "guangdong": factories.StudentFactory(counsellor=c.other_counsellor, name="+粤丁"),
    }
    db.session.flush()
    yesterday = at(MARCH_2, 9)
    for student in [c.own_student, c.graduate, *people.values()]:
        statuses.confirm_unchanged(student, student.counsellor, yesterday)
    today = at(MARCH_3, 9)
    statuses.record_status(people["hubei_fever"], c.counsellor, here("湖北", "武汉", "fever"), today,
                        note="=HYPERLINK(\"http://evil.example\",\"点我\")")
    statuses.record_status(people["hubei_home"], c.counsellor, here("湖北省", "黄冈市", "isolated_home"),
                        today, note="-2 天前返回")
    statuses.record_status(people["campus"], c.counsellor,
                        here("", "", "isolated_centre", on_campus=True), today)
    statuses.record_status(people["henan"], c.other_counsellor, here("河南", "信阳", "symptoms"),
                        today, note="@everyone")
    statuses.record_status(people["guangdong"], c.other_counsellor, here("广东", "深圳"), today)
    statuses.confirm_unchanged(c.own_student, c.counsellor, today)
    # 赵研究 and 刘小红 do not answer today: their 2 March status is carried.
    for counsellor in (c.counsellor, c.other_counsellor):
        report = reports.submit_report(counsellor, MARCH_3, at(MARCH_3, 10))
        reports.review_report(report, c.deputy, at(MARCH_3, 11, 40), approve=True)
    db.session.commit()
    clock.now = at(MARCH_3, 12)
    return people


def sheet_rows(workbook, index):
    return [list(row) for row in workbook.worksheets[index].iter_rows(values_only=True)]


def test_college_report_xlsx_totals_equal_independent_counts(client, auth, college,
                                                              approved_day):
    auth.login(college.deputy)
    board = text_of(client.get("/reports/board/"))
    assert "学院汇总（XLSX）" in board
    response = client.get("/reports/board/college-report.xlsx?date=2020-03-03")
    assert response.status_code == 200
    assert "college-report-2020-03-03.xlsx" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["汇总", "较昨日变化", "健康异常·湖北·风险地区", "审核记录",
                                  "各辅导员未确认人数", "未确认的学生", "全部学生", "提前返校"]

    summary = {row[0]: row[1] for row in sheet_rows(workbook, 0)[1:] if row and row[0]}
    roster = sheet_rows(workbook, 6)
    header, students = roster[0], roster[1:]
    column = {name: header.index(name) for name in header}
    provinces = Counter(r[column["所在省份"]] for r in students)
    health = Counter(r[column["健康状况"]] for r in students)

    assert summary["学生"] == len(students) == 8
    assert summary["在湖北"] == provinces["湖北"] == 2
    assert summary["在北京"] == provinces["北京"] == 4  # 2 carried, 1 confirmed, 1 on campus
    assert summary["其他地区"] == len(students) - provinces["湖北"] - provinces["北京"] == 2
    assert summary["在校"] == sum(r[column["在校"]] == "是" for r in students) == 1
    assert summary["发热"] == health["发热"] == 1
    assert summary["居家隔离"] == health["居家隔离"] == 1
    assert summary["集中隔离"] == health["集中隔离"] == 1
    assert summary["咳嗽或其他症状"] == health["咳嗽或其他症状"] == 1
    assert summary["正常"] == health["正常"] == 4
    changes = sheet_rows(workbook, 1)[1:]
    assert summary["较昨日变化"] == len(changes) == 5
    assert summary["较昨日变化"] == sum(r[column["有变化"]] == "是" for r in students)
    assert summary["当天未确认状态"] == sum(r[column["当天已确认"]] == "否" for r in students) == 2
    assert {r[1] for r in changes} == {"湖北甲", "湖北乙", "留校丙", "@SUM(A1)", "+粤丁"}


def test_formula_like_cells_are_exported_as_text(client, auth, college, approved_day):
    auth.login(college.deputy)
    data = client.get("/reports/board/college-report.xlsx?date=2020-03-03").data
    workbook = load_workbook(io.BytesIO(data))
    cells = {cell.value: cell.data_type for sheet in workbook.worksheets
             for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)}
    for text in ('=HYPERLINK("http://evil.example","点我")', "-2 天前返回", "@everyone",
                 "@SUM(A1)", "+粤丁"):
        assert cells[text] == "s", text
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in archive.read(name).decode()


def test_college_report_text_and_english(client, auth, college, approved_day):
    auth.login(college.deputy)
    response = client.get("/reports/board/college-report.txt?date=2020-03-03")
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "学生每日情况汇总（2020-03-03）" in text
    assert "学生共 8 人。在湖北 2 人，在北京 4 人，其他地区 2 人；在校 1 人。" in text
    assert "较昨日变化：5 人。" in text
    assert "湖北甲" in text and "所在地 北京 → 湖北 武汉" in text and "健康状况 正常 → 发热" in text
    assert "当天已确认：6 / 8；未确认：2 人" in text
    assert "- 李老师：3 项变化；已确认 4 人，未确认 1 人" in text
    assert "- 张老师：2 项变化；已确认 2 人，未确认 1 人" in text
    english = client.get("/reports/board/college-report.txt?date=2020-03-03&lang=en")
    assert "Students: 8. In Hubei: 2; in Beijing: 4; elsewhere: 2. On campus: 1." in \
        english.get_data(as_text=True)


def test_export_waits_until_every_report_is_approved(client, auth, college, clock):
    reports.submit_report(college.counsellor, MARCH_3, at(MARCH_3, 10))
    db.session.commit()
    auth.login(college.deputy)
    response = client.get("/reports/board/college-report.xlsx?date=2020-03-03",
                          follow_redirects=True)
    assert response.mimetype == "text/html"
    assert "当天所有辅导员的上报都通过后，才能导出学院汇总" in text_of(response)


@pytest.fixture
def empty_outbox():
    mail.outbox.clear()
    yield mail.outbox
    mail.outbox.clear()


def test_reports_send_emails_the_college_report_once(app, runner, college, approved_day,
                                                     empty_outbox):
    app.config["REPORT_RECIPIENTS"] = ["office@example.edu.cn", "secretary@example.edu.cn"]
    try:
        result = runner.invoke(args=["reports", "send", "--date", "2020-03-03"])
        again = runner.invoke(args=["reports", "send", "--date", "2020-03-03"])
    finally:
        app.config["REPORT_RECIPIENTS"] = []
    assert result.exit_code == 0, result.output
    assert sorted(m["To"] for m in empty_outbox) == ["office@example.edu.cn",
                                                     "secretary@example.edu.cn"]
    message = empty_outbox[0]
    assert message["Subject"] == "学生每日情况汇总（2020-03-03）"
    assert "在湖北 2 人" in message.get_body(("plain",)).get_content()
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "college-report-2020-03-03.xlsx"
    workbook = load_workbook(io.BytesIO(attachment.get_content()))
    assert workbook.sheetnames == ["汇总", "较昨日变化", "健康异常·湖北·风险地区", "审核记录",
                                  "各辅导员未确认人数", "未确认的学生", "全部学生", "提前返校"]
    assert again.exit_code == 0 and "nothing new" in again.output
    assert len(empty_outbox) == 2


def test_reports_send_refuses_a_day_not_approved(app, runner, college, empty_outbox):
    app.config["REPORT_RECIPIENTS"] = ["office@example.edu.cn"]
    try:
        result = runner.invoke(args=["reports", "send", "--date", "2020-03-03"])
    finally:
        app.config["REPORT_RECIPIENTS"] = []
    assert result.exit_code != 0 and "not ready" in result.output
    assert empty_outbox == []


# -- the landing page's card ------------------------------------------------------------------


def render_card(app, **context) -> str:
    from flask import render_template

    with app.test_request_context("/"):
        return re.sub(r"\s+", " ", render_template("reports/_landing_card.html", **context))


def test_landing_card_for_the_counsellor_and_the_deputy(app, college):
    statuses.record_status(college.own_student, college.counsellor, here("湖北", "武汉"),
                        at(MARCH_3, 9))
    db.session.commit()
    card = render_card(app, daily_summary=reports.landing_summary(college.counsellor,
                                                                at(MARCH_3, 11, 30)))
    assert "今日上报" in card and "缺报" in card and "截止 11:00" in card
    assert "1 名学生尚未回复" in card and "较昨日 1 项变化" in card
    assert 'href="/reports/daily/"' in card and "记录并上报" in card

    reports.submit_report(college.counsellor, MARCH_3, at(MARCH_3, 11, 35))
    db.session.commit()
    card = render_card(app, daily_summary=reports.landing_summary(college.deputy,
                                                                at(MARCH_3, 11, 40)))
    assert "已通过 0 / 2" in card and "1 份待审核" in card and "1 份未提交" in card
    assert 'href="/reports/board/"' in card


def test_landing_card_renders_nothing_without_its_data(app, college):
    assert render_card(app).strip() == ""
    assert render_card(app, daily_summary=None).strip() == ""


def test_a_status_change_shows_on_the_students_timeline(client, auth, college, clock):
    auth.login(college.counsellor)
    client.post(f"/reports/daily/students/{college.own_student.id}/status",
                data={"province": "湖北", "city": "武汉", "health": "fever", "note": "体温38.5℃"})
    page = text_of(client.get(f"/students/{college.own_student.id}"))
    assert "每日状态变更" in page and "2020-03-03" in page
    assert "所在省份 北京 → 湖北" in page and "健康状况 正常 → 发热" in page
    assert "体温38.5℃" in page


def test_the_inline_forms_carry_a_working_csrf_token(college, make_app, clock):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    client.post("/login", data={"username": college.counsellor.username,
                                "password": factories.PASSWORD, "csrf_token": token})
    page = client.get("/reports/daily/?show=all").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    me, grad = college.own_student, college.graduate
    assert client.post(f"/reports/daily/students/{me.id}/status",
                       data={"csrf_token": token, "province": "河北", "city": "保定",
                             "health": "normal"}).status_code == 302
    assert client.post(f"/reports/daily/students/{grad.id}/confirm",
                       data={"csrf_token": token}).status_code == 302
    assert client.post(f"/reports/daily/students/{grad.id}/confirm").status_code == 400
    cities = {r.student_id: r.city for r in db.session.scalars(select(DailyStatus))}
    assert cities == {me.id: "保定", grad.id: "北京"}


# -- the audit and races ---------------------------------------------------------------------


def _events(action: str) -> list:
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def test_opening_and_saving_a_status_are_audited_with_the_address(client, auth, college, clock):
    auth.login(college.counsellor)
    student = college.own_student
    assert "陈小明" in text_of(client.get(f"/reports/daily/students/{student.id}/status"))
    client.post(f"/reports/daily/students/{student.id}/status",
                data={"province": "河北", "city": "保定", "health": "normal"})
    [viewed] = _events("daily_status.view")
    [recorded] = _events("daily_status.record")
    for event in (viewed, recorded):
        assert (event.student_id, event.user_id, event.ip) == (
            student.id, college.counsellor.id, "127.0.0.1"
        )
    assert recorded.occurred_at == clock.now


def test_both_college_report_downloads_are_audited(client, auth, college, approved_day):
    auth.login(college.deputy)
    client.get("/reports/board/college-report.xlsx?date=2020-03-03")
    client.get("/reports/board/college-report.txt?date=2020-03-03")
    events = _events("daily_report.export")
    assert [e.detail for e in events] == ["format=xlsx day=2020-03-03",
                                          "format=text day=2020-03-03"]
    assert all(e.user_id == college.deputy.id and e.ip == "127.0.0.1" for e in events)


def test_an_export_not_ready_is_not_audited(client, auth, college, clock):
    auth.login(college.deputy)
    client.get("/reports/board/college-report.txt?date=2020-03-03")
    assert _events("daily_report.export") == []


def test_a_report_changed_meanwhile_is_a_conflict(client, auth, college, clock, monkeypatch):
    report = reports.submit_report(college.counsellor, MARCH_3, at(MARCH_3, 10))
    db.session.commit()
    review = reports.review_report

    def reviewed_meanwhile(report, *args, **kwargs):
        # Another window of the deputy returned it between the page's load and this save.
        table = DailyReport.__table__
        db.session.execute(update(table).where(table.c.id == report.id)
                           .values(version_id=table.c.version_id + 1))
        return review(report, *args, **kwargs)

    monkeypatch.setattr(reports, "review_report", reviewed_meanwhile)
    auth.login(college.deputy)
    response = client.post(f"/reports/{report.id}/approve", data={"confirm": "1"})
    assert response.status_code == 409
    assert db.session.get(DailyReport, report.id).state == "submitted"


def test_the_schedules_send_mails_each_ready_colleges_report(app, colleges, approved_day,
                                                             empty_outbox):
    """The schedule's ``reports.send``: the home college's day is approved, the other
    college's is not (its counsellor filed nothing): the home report goes, once."""
    from caretrack.jobs import submit
    from caretrack.models import Job

    app.config["REPORT_RECIPIENTS"] = ["office@example.edu.cn"]
    try:
        job = submit("reports.send", None, {"day": "2020-03-03"})
        again = submit("reports.send", None, {"day": "2020-03-03"})
    finally:
        app.config["REPORT_RECIPIENTS"] = []
    db.session.expire_all()
    assert db.session.get(Job, job.id).result == {"sent": ["office@example.edu.cn"],
                                                  "waiting": [colleges.elsewhere.code]}
    assert db.session.get(Job, again.id).result == {"sent": [],
                                                    "waiting": [colleges.elsewhere.code]}
    assert [m["To"] for m in empty_outbox] == ["office@example.edu.cn"]
    assert "在湖北 2 人" in empty_outbox[0].get_body(("plain",)).get_content()
