"""The chase list: a counsellor's students without a status today, contacted one by one or
several at once, reminded with a text to copy, exported."""

import io
from datetime import UTC, date, datetime, time

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import AuditEvent, DailyStatus, EntryKind, TimelineEntry
from caretrack.services.checkin import links
from caretrack.services.clock import local_datetime
from caretrack.services.daily import statuses
from caretrack.services.daily.values import StatusValues
from tests import factories
from tests.helpers import count_queries, text_of

MARCH_1, MARCH_2, MARCH_3 = date(2020, 3, 1), date(2020, 3, 2), date(2020, 3, 3)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return local_datetime(day, time(hour, minute)).astimezone(UTC)


class Clock:
    """The pages' clock, pinned; tests move it."""

    def __init__(self, monkeypatch):
        self.now = at(MARCH_3, 10, 30)
        monkeypatch.setattr("caretrack.reports.pages.now_utc", lambda: self.now)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def here(province, city, health="normal"):
    return StatusValues(province, city, False, health)


def _status(student, day):
    return db.session.scalars(select(DailyStatus).where(
        DailyStatus.student_id == student.id, DailyStatus.day == day)).one_or_none()


def _follow_ups(student):
    return db.session.scalars(select(TimelineEntry).where(
        TimelineEntry.student_id == student.id, TimelineEntry.kind == EntryKind.FOLLOW_UP)).all()


# -- the list ---------------------------------------------------------------------------------


def test_chase_list_shows_own_unconfirmed_students_with_phone_status_and_days(
    client, auth, college, clock
):
    c = college
    c.own_student.phone = "13912345678"
    statuses.record_status(c.own_student, c.counsellor, here("湖北", "武汉", "fever"),
                           at(MARCH_1, 9))
    statuses.record_status(c.graduate, c.counsellor, here("山东", "济南"), at(MARCH_3, 8))
    db.session.commit()
    auth.login(c.counsellor)

    response = client.get("/reports/daily/chase")
    page = text_of(response)
    body = response.get_data(as_text=True)
    assert "催报名单" in page and "陈小明" in page
    assert "赵研究" not in page  # confirmed today
    assert "刘小红" not in page  # another counsellor's
    assert 'href="tel:13912345678"' in body
    assert "湖北 武汉" in page and "发热" in page and "03-01" in page
    assert "2 天" in page  # unconfirmed on March 2 and 3
    assert "已过学生打卡截止时间（10:00）" in page

    english = text_of(client.get("/reports/daily/chase?lang=en"))
    assert "Chase list" in english and "2 days" in english and "Confirmed, no change" in english


def test_before_the_cutoff_the_list_says_students_may_still_check_in(client, auth, college,
                                                                      clock):
    clock.now = at(MARCH_3, 9, 15)
    auth.login(college.counsellor)
    response = client.get("/reports/daily/chase")
    assert 'data-chase-state="before"' in response.get_data(as_text=True)
    assert "学生打卡截止至 10:00" in text_of(response)


def test_a_student_never_confirmed_shows_the_roster_place(client, auth, college, clock):
    auth.login(college.counsellor)
    page = text_of(client.get("/reports/daily/chase"))
    assert "从未确认（名册地点）" in page


def test_filter_by_class_and_the_class_group_reminder_names_only_the_unconfirmed(
    client, auth, college, clock
):
    c = college
    a = factories.StudentFactory(counsellor=c.counsellor, name="甲同学", class_name="2019级1班")
    factories.StudentFactory(counsellor=c.counsellor, name="乙同学", class_name="2019级1班")
    answered = factories.StudentFactory(counsellor=c.counsellor, name="丙同学",
                                        class_name="2019级1班")
    statuses.record_status(answered, c.counsellor, here("山东", "济南"), at(MARCH_3, 8))
    db.session.commit()
    class_url = links.class_token(a.college_id, "2019级1班", clock.now)
    db.session.commit()
    auth.login(c.counsellor)

    response = client.get("/reports/daily/chase?class=2019级1班")
    page = text_of(response)
    assert "甲同学" in page and "乙同学" in page
    assert "陈小明" not in page and "丙同学" not in page
    body = response.get_data(as_text=True)
    start = body.index("data-class-reminder>") + len("data-class-reminder>")
    reminder = body[start:body.index("</textarea>", start)]
    assert "2019级1班" in reminder and "10:00" in reminder
    assert "甲同学、乙同学" in reminder and "丙同学" not in reminder
    assert f"/checkin/c/{class_url}" in reminder
    # The class select offers the classes with someone to chase, with how many.
    assert "2019级1班 (2)" in page
    # Each student's own text names them, with the class link when there is no personal one.
    assert "甲同学，请于今天 10:00 前完成健康打卡（所在地和健康状况）。" in body
    assert body.count(f"/checkin/c/{class_url}") == 3
    assert a.id


def test_personal_reminder_uses_the_personal_link_and_creates_no_link(client, auth, college,
                                                                       clock):
    token = links.personal_token(college.own_student, clock.now)
    db.session.commit()
    auth.login(college.counsellor)
    body = client.get("/reports/daily/chase").get_data(as_text=True)
    assert f"/checkin/p/{token}" in body
    from caretrack.models import CheckinLink
    assert db.session.scalar(select(func.count(CheckinLink.id))) == 1  # nothing created


def test_chase_list_queries_do_not_grow_with_students(client, auth, college, clock):
    auth.login(college.counsellor)

    def cost():
        with count_queries() as counter:
            assert client.get("/reports/daily/chase?class=2017级会计学1班").status_code == 200
        return counter.count

    factories.StudentFactory.create_batch(3, counsellor=college.counsellor)
    db.session.commit()
    few = cost()
    students = factories.StudentFactory.create_batch(80, counsellor=college.counsellor)
    for student in students[::2]:
        statuses.record_status(student, college.counsellor, here("山东", "济南"),
                               at(MARCH_1, 9))
    db.session.commit()
    assert cost() == few


def test_the_daily_page_and_the_landing_link_to_the_chase_list(client, auth, college, clock):
    auth.login(college.counsellor)
    for url in ("/reports/daily/", "/"):
        body = client.get(url).get_data(as_text=True)
        assert 'href="/reports/daily/chase"' in body
        assert 'data-chase-link="urgent"' in body
    clock.now = at(MARCH_3, 9)
    for url in ("/reports/daily/", "/"):
        body = client.get(url).get_data(as_text=True)
        assert 'data-chase-link="normal"' in body


# -- one contact --------------------------------------------------------------------------------


def test_confirmed_no_change_writes_a_follow_up_and_todays_status(client, auth, college, clock):
    c = college
    statuses.record_status(c.own_student, c.counsellor, here("湖北", "武汉"), at(MARCH_2, 9))
    db.session.commit()
    auth.login(c.counsellor)
    response = client.post(f"/reports/daily/chase/{c.own_student.id}", data={
        "channel": "sms", "outcome": "unchanged", "note": "短信回复：在家", "submission_key": "k1",
    }, follow_redirects=True)
    assert "已确认陈小明今日的状态" in text_of(response)
    status = _status(c.own_student, MARCH_3)
    assert (status.province, status.city, status.source) == ("湖北", "武汉", "counsellor")
    [follow_up] = _follow_ups(c.own_student)
    assert follow_up.details["channel"] == "sms" and follow_up.details["reached"] is True
    assert follow_up.body == "短信回复：在家"
    # A double submit writes nothing more.
    client.post(f"/reports/daily/chase/{c.own_student.id}", data={
        "channel": "sms", "outcome": "unchanged", "submission_key": "k1"})
    assert len(_follow_ups(c.own_student)) == 1


def test_not_reached_writes_a_follow_up_and_no_status(client, auth, college, clock):
    auth.login(college.counsellor)
    client.post(f"/reports/daily/chase/{college.own_student.id}", data={
        "channel": "phone", "outcome": "not_reached"})
    [follow_up] = _follow_ups(college.own_student)
    assert follow_up.details["reached"] is False
    assert _status(college.own_student, MARCH_3) is None
    assert "陈小明" in text_of(client.get("/reports/daily/chase"))


def test_changed_opens_the_status_form_that_returns_to_the_chase_list(client, auth, college,
                                                                      clock):
    auth.login(college.counsellor)
    response = client.post(f"/reports/daily/chase/{college.own_student.id}", data={
        "channel": "wechat", "outcome": "changed", "next": "/reports/daily/chase?class=x"})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert f"/reports/daily/students/{college.own_student.id}/status" in location
    assert "next=/reports/daily/chase?class%3Dx" in location
    assert len(_follow_ups(college.own_student)) == 1
    form = client.get(location).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/reports/daily/chase?class=x"' in form
    saved = client.post(location, data={"province": "湖北", "city": "武汉", "health": "fever",
                                         "next": "/reports/daily/chase?class=x"})
    assert saved.headers["Location"].endswith("/reports/daily/chase?class=x")
    assert _status(college.own_student, MARCH_3).health == "fever"


def test_a_status_that_arrived_meanwhile_is_kept(client, auth, college, clock):
    c = college
    statuses.apply_statuses(c.counsellor, [statuses.StatusInput(
        c.own_student.id, here("湖北", "武汉", "fever"))], clock.now, source="self")
    db.session.commit()
    auth.login(c.counsellor)
    page = text_of(client.post(f"/reports/daily/chase/{c.own_student.id}", data={
        "channel": "phone", "outcome": "unchanged"}, follow_redirects=True))
    assert "已保留" in page
    status = _status(c.own_student, MARCH_3)
    assert status.source == "self" and status.health == "fever"
    assert len(_follow_ups(c.own_student)) == 1


def test_another_counsellors_student_is_404_and_untouched(client, auth, college, clock):
    auth.login(college.counsellor)
    response = client.post(f"/reports/daily/chase/{college.other_student.id}", data={
        "channel": "phone", "outcome": "unchanged"})
    assert response.status_code == 404
    assert _follow_ups(college.other_student) == []


def test_an_unknown_outcome_or_channel_writes_nothing(client, auth, college, clock):
    auth.login(college.counsellor)
    for data in ({"channel": "phone", "outcome": "maybe"},
                 {"channel": "video", "outcome": "unchanged"}):
        client.post(f"/reports/daily/chase/{college.own_student.id}", data=data)
    assert _follow_ups(college.own_student) == []
    assert _status(college.own_student, MARCH_3) is None


# -- several at once ----------------------------------------------------------------------------


def test_confirm_several_at_once_each_gets_a_follow_up_and_a_status(client, auth, college,
                                                                    clock):
    c = college
    third = factories.StudentFactory(counsellor=c.counsellor, name="孙同学")
    statuses.record_status(third, c.counsellor, here("河南", "郑州"), at(MARCH_2, 9))
    db.session.commit()
    auth.login(c.counsellor)
    response = client.post("/reports/daily/chase/confirm", data={
        "selected": [c.own_student.id, c.graduate.id, third.id], "channel": "phone",
        "submission_key": "bulk1"}, follow_redirects=True)
    assert "3 名学生已在联系后确认今日状态" in text_of(response)
    for student in (c.own_student, c.graduate, third):
        assert _status(student, MARCH_3).source == "counsellor"
        [follow_up] = _follow_ups(student)
        assert follow_up.details["channel"] == "phone" and follow_up.details["reached"]
    assert _status(third, MARCH_3).province == "河南"
    events = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action == "daily_status.record")).all()
    assert len(events) == 4  # the third's status of March 2, then one per student
    # The same form again writes nothing more.
    client.post("/reports/daily/chase/confirm", data={
        "selected": [c.own_student.id, c.graduate.id, third.id], "channel": "phone",
        "submission_key": "bulk1"})
    assert len(_follow_ups(third)) == 1
    assert "每位学生今日均已有状态" in text_of(client.get("/reports/daily/chase"))


def test_confirm_several_never_touches_a_student_of_another_caseload(client, auth, college,
                                                                     clock):
    """Posting another counsellor's student id answers 404 and writes nothing at all, not even
    for the counsellor's own students in the same form."""
    c = college
    auth.login(c.counsellor)
    response = client.post("/reports/daily/chase/confirm", data={
        "selected": [c.own_student.id, c.other_student.id], "channel": "phone"})
    assert response.status_code == 404
    for student in (c.own_student, c.other_student):
        assert _status(student, MARCH_3) is None
        assert _follow_ups(student) == []
    response = client.post("/reports/daily/chase/confirm", data={
        "selected": [c.own_student.id, 999999], "channel": "phone"})
    assert response.status_code == 404
    assert _status(c.own_student, MARCH_3) is None


def test_confirm_with_nothing_selected_says_so(client, auth, college, clock):
    auth.login(college.counsellor)
    page = text_of(client.post("/reports/daily/chase/confirm", data={"channel": "phone"},
                               follow_redirects=True))
    assert "请先勾选学生" in page
    assert db.session.scalar(select(func.count(DailyStatus.id))) == 0


# -- export -------------------------------------------------------------------------------------


def test_export_lists_the_chase_list_and_is_audited(client, auth, college, clock):
    c = college
    c.own_student.phone = "13912345678"
    statuses.record_status(c.own_student, c.counsellor, here("湖北", "武汉", "fever"),
                           at(MARCH_1, 9))
    db.session.commit()
    auth.login(c.counsellor)
    response = client.get("/reports/daily/chase/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("学号", "姓名", "班级", "手机")
    names = {row[1]: row for row in rows[1:]}
    assert set(names) == {"陈小明", "赵研究"}
    assert names["陈小明"][3] == "13912345678" and names["陈小明"][7] == "发热"
    assert names["陈小明"][9] == 2
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert "list=chase" in event.detail and "rows=2" in event.detail
