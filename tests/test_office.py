"""The university office: each college's stage and numbers, the lists behind them, the
university report once every college signed off, the colleges missing at the deadline."""

import io
from datetime import UTC, date, datetime, time

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import DEFAULT_STAGES, WITHOUT_MERGE, Notification, RiskArea, Student
from caretrack.services import mail
from caretrack.services.clock import local_datetime
from caretrack.services.daily import reports, sign_off, statuses, university
from caretrack.services.daily.values import StatusValues
from caretrack.services.errors import RuleError
from tests import factories
from tests.helpers import count_queries, text_of

DAY = date(2020, 3, 3)


def at(hour: int, minute: int = 0) -> datetime:
    return local_datetime(DAY, time(hour, minute)).astimezone(UTC)


def make_college(code: str, name: str, students: int, *, merge: bool):
    """A college with one counsellor, ``students`` students (the first in Hubei with a fever,
    the last unconfirmed), its signers and all reports submitted."""
    college = factories.CollegeFactory(code=code, name_zh=name,
                                       stages=DEFAULT_STAGES if merge else WITHOUT_MERGE)
    counsellor = factories.CounsellorFactory(college=college)
    people = [factories.StudentFactory(counsellor=counsellor, name=f"{name}{i}",
                                       class_name=f"{code}班") for i in range(students)]
    signers = {"deputy": factories.DeputyFactory(college=college),
               "secretary": factories.SecretaryFactory(college=college)}
    if merge:
        signers["league"] = factories.LeagueSecretaryFactory(college=college)
    db.session.flush()
    statuses.apply_statuses(counsellor, [statuses.StatusInput(
        people[0].id, StatusValues("湖北", "武汉", False, "fever"))], at(9))
    for student in people[1:-1]:
        statuses.confirm_unchanged(student, counsellor, at(9))
    reports.submit_report(counsellor, DAY, at(10, 30))
    db.session.flush()
    return college, counsellor, signers


def sign_all(college, counsellor, signers, *, late: bool = False):
    first = signers.get("league") or signers["deputy"]
    report = db.session.scalars(select(reports.DailyReport).where(
        reports.DailyReport.counsellor_id == counsellor.id)).one()
    reports.review_report(report, first, at(11), approve=True)
    order = [signers[r] for r in ("league", "deputy", "secretary") if r in signers]
    for i, user in enumerate(order):
        found = sign_off.get_sign_off(college, DAY)
        sign_off.pass_on(user, DAY, at(13, 30) if late and user is order[-1] else at(11, 10 + i),
                         version=found.version_id if found else 0)
    db.session.commit()


@pytest.fixture
def two(app):
    sem = make_college("sem", "经管", 4, merge=True)
    law = make_college("law", "法学", 3, merge=False)
    office = factories.OfficeFactory(display_name="防控办")
    db.session.commit()
    return sem, law, office


def test_the_board_shows_each_colleges_stage_and_numbers(two, client, auth, monkeypatch):
    (sem, sem_c, sem_s), (law, _c, _s), office = two
    sign_all(sem, sem_c, sem_s)
    board = university.office_board(DAY, at(12, 30))
    rows = {r.college.code: r for r in board.rows}
    assert rows["sem"].done and not rows["sem"].late
    assert rows["law"].stage == "check" and rows["law"].late  # its deputy's 12:00 passed
    assert rows["sem"].numbers == {"students": 4, "hubei": 1, "risk_area": 1, "fever": 1,
                                   "abnormal": 1, "isolated": 0, "on_campus": 0,
                                   "missing": 1, "changes": 1}
    assert board.totals["students"] == 7 and board.totals["missing"] == 2
    assert not board.ready and not rows["law"].overdue
    assert university.office_board(DAY, at(14, 1)).rows[0].overdue  # law, at the deadline

    monkeypatch.setattr("caretrack.reports.pages.now_utc", lambda: at(14, 5))
    auth.login(office)
    page = client.get(f"/office/?date={DAY.isoformat()}")
    html = page.get_data(as_text=True)
    assert 'data-college="law" data-stage="check" class="table-danger" data-overdue' in html
    assert "data-report-waiting" in html
    listed = client.get(f"/office/students?date={DAY.isoformat()}&what=fever")
    body = text_of(listed)
    assert "经管0" in body and "法学0" in body and "经管1" not in body
    assert "/students/" not in listed.get_data(as_text=True)
    assert sem_c.username not in body  # no counsellor, no number, no phone: name, college...
    assert client.get(f"/office/students?what=notes&date={DAY.isoformat()}").status_code == 404


def test_a_listed_risk_area_outside_hubei_counts_its_students(two):
    (sem, sem_c, _s), (law, law_c, _l), office = two
    student = db.session.scalars(select(Student).where(
        Student.counsellor_id == law_c.id).order_by(Student.id)).all()[1]
    statuses.apply_statuses(law_c, [statuses.StatusInput(
        student.id, StatusValues("浙江", "温州", False, "normal"))], at(9, 30))
    before = {r.college.code: r.numbers["risk_area"]
              for r in university.office_board(DAY, at(12)).rows}
    db.session.add(RiskArea(province="浙江", city="温州", from_date=DAY))
    db.session.flush()
    rows = {r.college.code: r.numbers for r in university.office_board(DAY, at(12)).rows}
    assert before == {"sem": 1, "law": 1}
    assert rows["law"]["risk_area"] == 2 and rows["law"]["hubei"] == 1
    assert rows["sem"]["risk_area"] == 1


def test_the_board_costs_the_same_queries_for_more_colleges(two):
    def cost():
        with count_queries() as counter:
            university.office_board(DAY, at(12))
        return counter.count

    before = cost()
    for n in range(3):
        make_college(f"x{n}", f"学院{n}", 2, merge=n % 2 == 0)
    db.session.commit()
    assert cost() == before


def test_the_board_page_and_the_report_cost_the_same_queries_for_2_and_5_colleges(
        two, client, auth, monkeypatch):
    (sem, sem_c, sem_s), (law, law_c, law_s), office = two
    sign_all(sem, sem_c, sem_s)
    sign_all(law, law_c, law_s)
    monkeypatch.setattr("caretrack.reports.pages.now_utc", lambda: at(14, 30))
    auth.login(office)
    urls = (f"/office/?date={DAY.isoformat()}",
            f"/office/university-report.xlsx?date={DAY.isoformat()}")

    def cost() -> list[int]:
        counts = []
        for url in urls:
            client.get(url)  # warm: the session's user and locale
            with count_queries() as counter:
                response = client.get(url)
            assert response.status_code == 200
            counts.append(counter.count)
        return counts

    before = cost()
    for n in range(3):
        college, counsellor, signers = make_college(f"x{n}", f"学院{n}", 3, merge=n % 2 == 0)
        sign_all(college, counsellor, signers)
    after = cost()
    assert after == before
    book = load_workbook(io.BytesIO(client.get(urls[1]).data))
    colleges = list(book.worksheets[0].iter_rows(values_only=True))
    assert len(colleges) == 1 + 5 + 1 and colleges[-1][2] == 4 + 3 + 3 * 3
    abnormal = list(book.worksheets[1].iter_rows(values_only=True))[1:]
    assert len(abnormal) == 5  # each college's first student: in Hubei, with a fever


def test_the_university_report_once_every_college_signed_off(two, client, auth, runner, app,
                                                           monkeypatch):
    (sem, sem_c, sem_s), (law, law_c, law_s), office = two
    sign_all(sem, sem_c, sem_s)
    with pytest.raises(RuleError):
        university.university_report_xlsx(DAY, at(13))
    # Past the deadline, the command tells the missing college's secretary.
    app.config["UNIVERSITY_REPORT_RECIPIENTS"] = ["leaders@example.edu.cn"]
    monkeypatch.setattr("caretrack.reports.cli.now_utc", lambda: at(14, 10))
    result = runner.invoke(args=["reports", "send", "--university", "--date", DAY.isoformat()])
    assert result.exit_code != 0 and "law" in result.output
    told = set(db.session.scalars(select(Notification.user_id).where(
        Notification.kind == "sign_off.missing")))
    assert told == {law_s["secretary"].id}

    sign_all(law, law_c, law_s, late=True)
    monkeypatch.setattr("caretrack.reports.pages.now_utc", lambda: at(14, 30))
    auth.login(office)
    assert "data-report" in client.get(f"/office/?date={DAY.isoformat()}").get_data(as_text=True)
    response = client.get(f"/office/university-report.xlsx?date={DAY.isoformat()}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    colleges = list(book.worksheets[0].iter_rows(values_only=True))
    by_code = {row[1]: row for row in colleges[1:]}
    assert by_code["law"][2:11] == (3, 1, 1, 1, 1, 0, 0, 1, 1)
    assert by_code["sem"][2] == 4 and colleges[-1][2] == 7 and colleges[-1][9] == 2
    abnormal = list(book.worksheets[1].iter_rows(values_only=True))[1:]
    assert sorted(r[2] for r in abnormal) == ["法学0", "经管0"]
    record = list(book.worksheets[2].iter_rows(values_only=True))[1:]
    assert len(record) == 5 and [r[5] for r in record].count("是") + [
        r[5] for r in record].count("Yes") == 1  # the law secretary's late approval

    mail.outbox.clear()
    result = runner.invoke(args=["reports", "send", "--university", "--date", DAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert [m["To"] for m in mail.outbox] == ["leaders@example.edu.cn"]
    again = runner.invoke(args=["reports", "send", "--university", "--date", DAY.isoformat()])
    assert "already" in again.output and len(mail.outbox) == 1
