"""An honest zero report: what a report keeps about the unconfirmed students, changes after
the report, the board's numbers that open their students, and the college report's sheets."""

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import DailyReport
from caretrack.services.daily import reports, statuses
from tests import factories
from tests.helpers import count_queries, text_of
from tests.test_daily_pages import MARCH_2, MARCH_3, Clock, at, here


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def morning(college, clock):
    """3 March, 10:00: 陈小明 has a fever in 武汉, 刘小红 (the other counsellor's) is normal in
    河南, 赵研究 has not answered."""
    c = college
    statuses.record_status(c.own_student, c.counsellor, here("湖北", "武汉", "fever"),
                           at(MARCH_3, 9))
    statuses.record_status(c.other_student, c.other_counsellor, here("河南", "郑州"),
                           at(MARCH_3, 9))
    db.session.commit()
    clock.now = at(MARCH_3, 10)
    return c


def board_list(client, what, **args):
    query = "&".join(f"{k}={v}" for k, v in {"date": "2020-03-03", "what": what, **args}.items())
    return client.get(f"/reports/board/students?{query}")


# -- the report keeps the number; asked once ----------------------------------------------------


def test_a_zero_report_with_unconfirmed_students_records_the_count_and_the_board_shows_it(
    client, auth, morning, clock
):
    c = morning
    statuses.record_status(c.own_student, c.counsellor, here("北京", "北京"), at(MARCH_2, 9))
    db.session.commit()
    auth.login(c.counsellor)
    asked = client.post("/reports/daily/submit", data={"day": "2020-03-03"})
    assert "仍有 1 名学生今日未确认状态" in text_of(asked)
    client.post("/reports/daily/submit", data={"day": "2020-03-03", "confirm": "1"})
    report = db.session.scalars(select(DailyReport)).one()
    assert (report.confirmed_count, report.unconfirmed_count) == (1, 1)
    auth.logout()

    auth.login(c.deputy)
    board = client.get("/reports/board/")
    row = re.search(rf'data-counsellor="{c.counsellor.username}".*?</tr>', board.text,
                    re.S).group(0)
    assert "提交时：已确认 1 人，未确认 1 人" in text_of(board)
    assert re.search(r'data-unconfirmed><a[^>]*what=missing[^>]*>1<', row)
    # The college total: 赵研究 only (刘小红 answered).
    assert re.search(r'data-total="missing"><a[^>]*>1<', board.text)


def test_a_report_from_before_the_counts_shows_them_as_unknown(client, auth, college, clock):
    report = reports.submit_report(college.counsellor, MARCH_3, at(MARCH_3, 10))
    report.confirmed_count = report.unconfirmed_count = None  # submitted before 0004
    db.session.commit()
    auth.login(college.deputy)
    assert "提交时的人数：未知" in text_of(client.get("/reports/board/"))


# -- the board's numbers lead somewhere ---------------------------------------------------------


def test_every_board_number_links_to_its_list(client, auth, morning):
    auth.login(morning.deputy)
    page = client.get("/reports/board/").text
    linked = set(re.findall(r'what=([a-z_]+)', page))
    assert {"students", "hubei", "beijing", "elsewhere", "on_campus", "changes", "missing",
            "confirmed", "fever", "normal", "isolated_home", "source_self", "source_counsellor",
            "source_upload", "of_concern"} <= linked


def test_the_fever_list_of_the_day(client, auth, morning):
    c = morning
    auth.login(c.deputy)
    fever = text_of(board_list(client, "fever"))
    assert "发热" in fever and "陈小明" in fever and "刘小红" not in fever
    assert c.own_student.student_number in fever and c.own_student.class_name in fever
    assert "李老师" in fever and "湖北 武汉" in fever
    hubei = text_of(board_list(client, "hubei"))
    assert "陈小明" in hubei and "赵研究" not in hubei
    missing = text_of(board_list(client, "missing", counsellor=c.counsellor.id))
    assert "赵研究" in missing and "陈小明" not in missing and "刘小红" not in missing
    mine = text_of(board_list(client, "students", counsellor=c.other_counsellor.id))
    assert "刘小红" in mine and "陈小明" not in mine
    # An earlier day has its own list: nobody had a fever on 2 March.
    assert "当天该名单中没有学生" in text_of(client.get(
        "/reports/board/students?date=2020-03-02&what=fever"))


def test_an_unknown_list_or_a_non_counsellor_is_404(client, auth, morning):
    auth.login(morning.deputy)
    assert board_list(client, "everything").status_code == 404
    assert board_list(client, "fever", counsellor=morning.supervisor.id).status_code == 404
    auth.logout()
    auth.login(morning.counsellor)
    assert board_list(client, "fever").status_code == 404


def test_board_lists_take_a_constant_number_of_queries(client, auth, morning, clock):
    college = morning

    def cost(what):
        with count_queries() as counter:
            assert board_list(client, what).status_code == 200
        return counter.count

    auth.login(college.deputy)
    urls = ("fever", "missing", "students", "changes")
    before = [cost(what) for what in urls]
    for _ in range(30):
        student = factories.StudentFactory(counsellor=college.counsellor)
        db.session.flush()
        statuses.record_status(student, college.counsellor, here("湖北", "武汉", "fever"),
                               at(MARCH_3, 9))
    db.session.commit()
    assert [cost(what) for what in urls] == before


# -- changes after the report ---------------------------------------------------------------------


def test_a_change_after_approval_shows_on_the_board_and_the_next_day(client, auth, college,
                                                                      clock):
    c = college
    for student in (c.own_student, c.graduate):
        statuses.confirm_unchanged(student, c.counsellor, at(MARCH_2, 9))
    report = reports.submit_report(c.counsellor, MARCH_2, at(MARCH_2, 10), zero=True)
    reports.review_report(report, c.deputy, at(MARCH_2, 11, 50), approve=True)
    db.session.commit()
    clock.now = at(MARCH_2, 15)
    auth.login(c.counsellor)
    page = client.post(f"/reports/daily/students/{c.own_student.id}/status",
                       data={"province": "北京", "city": "北京", "health": "fever"},
                       follow_redirects=True)
    assert "通过后有 1 项变化：将计入次日的变化" in text_of(page)
    auth.logout()
    auth.login(c.deputy)
    board = client.get("/reports/board/?date=2020-03-02")
    assert "通过后 1 项变化" in text_of(board)
    assert "陈小明" in text_of(board_list(client, "after_approval", date="2020-03-02"))
    report = db.session.get(DailyReport, report.id)
    assert (report.state, report.is_zero) == ("approved", True)
    clock.now = at(MARCH_3, 9)
    tomorrow = text_of(board_list(client, "changes"))
    assert "陈小明" in tomorrow and "赵研究" not in tomorrow


# -- the college report -----------------------------------------------------------------------


@pytest.fixture
def approved(morning, clock):
    c = morning
    for counsellor in (c.counsellor, c.other_counsellor):
        report = reports.submit_report(counsellor, MARCH_3, at(MARCH_3, 10, 30))
        reports.review_report(report, c.deputy, at(MARCH_3, 11, 40), approve=True)
    db.session.commit()
    clock.now = at(MARCH_3, 12)
    return c


def rows_of(sheet):
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_college_report_sheets_of_concern_sign_off_and_unconfirmed(client, auth, approved):
    c = approved
    auth.login(c.deputy)
    data = client.get("/reports/board/college-report.xlsx?date=2020-03-03").data
    workbook = load_workbook(io.BytesIO(data))
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.column_dimensions["A"].width >= 12, sheet.title
        assert sheet.column_dimensions["B"].width > 0, sheet.title

    assert rows_of(workbook["提前返校"])[0][:3] == ["学号", "姓名", "班级"]
    concern = rows_of(workbook["健康异常·湖北·风险地区"])
    assert [r[1] for r in concern[1:]] == ["陈小明"]
    assert concern[1][4:8] == ["湖北", "武汉", "否", "发热"]

    sign_off = {r[0]: r for r in rows_of(workbook["审核记录"])[1:]}
    header = rows_of(workbook["审核记录"])[0]
    assert set(sign_off) == {"李老师", "张老师"}
    assert sign_off["李老师"][header.index("审核人")] == c.deputy.display_name
    assert sign_off["李老师"][header.index("通过时间")] == "2020-03-03 11:40"
    assert sign_off["李老师"][header.index("迟报")] == "否"

    unconfirmed = {r[0]: r for r in rows_of(workbook["各辅导员未确认人数"])[1:]}
    header = rows_of(workbook["各辅导员未确认人数"])[0]
    at_submission = header.index("提交时未确认")
    assert unconfirmed["李老师"][header.index("未确认")] == 1
    assert unconfirmed["李老师"][at_submission] == 1
    assert unconfirmed["张老师"][at_submission] == 0

    students = rows_of(workbook["未确认的学生"])
    assert [r[1] for r in students[1:]] == ["赵研究"]
    assert students[1][4] == c.graduate.phone
    assert students[1][-2] == "从未"


def test_college_report_text_carries_the_unconfirmed_counts(client, auth, approved):
    auth.login(approved.deputy)
    text = client.get("/reports/board/college-report.txt?date=2020-03-03").get_data(as_text=True)
    assert "当天已确认：2 / 3；未确认：1 人" in text
    assert "- 李老师：1 项变化；已确认 1 人，未确认 1 人" in text


def test_a_listed_risk_area_puts_its_students_on_the_list_of_concern_from_its_first_day(
    client, auth, morning
):
    from datetime import date

    from caretrack.models import RiskArea

    area = RiskArea(province="河南", city="郑州市", from_date=date(2020, 3, 4))
    db.session.add(area)
    db.session.commit()
    auth.login(morning.deputy)
    before = text_of(board_list(client, "of_concern"))
    assert "陈小明" in before and "刘小红" not in before  # 武汉 is in Hubei; 郑州 not yet listed
    area.from_date = date(2020, 3, 3)
    db.session.commit()
    page = text_of(board_list(client, "of_concern"))
    assert "刘小红" in page and "陈小明" in page
