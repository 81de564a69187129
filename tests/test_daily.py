"""The daily status rules, as functions of ``now``: carry-forward, changes since yesterday,
non-responders, the report's deadline in the college's timezone, zero reports, return and
resubmit, and the lock after approval."""

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from caretrack.access import caseload_filter
from caretrack.extensions import db
from caretrack.models import DailyStatus, EntryKind, TimelineEntry
from caretrack.services.clock import local_datetime
from caretrack.services.daily import carried, reports, statuses, values
from caretrack.services.daily.values import StatusValues
from caretrack.services.errors import RuleError
from tests import factories
from tests.helpers import count_queries

MARCH_1, MARCH_2, MARCH_3 = date(2020, 3, 1), date(2020, 3, 2), date(2020, 3, 3)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of a local (Asia/Shanghai) time."""
    return local_datetime(day, time(hour, minute)).astimezone(UTC)


def here(province, city, health="normal", on_campus=False) -> StatusValues:
    return StatusValues(province, city, on_campus, health)


@pytest.fixture
def three(college):
    """The counsellor's caseload: 陈小明 and 赵研究 (from the college), plus 孙一 in 湖北."""
    sun = factories.StudentFactory(counsellor=college.counsellor, name="孙一", province="湖北",
                                   city="武汉")
    db.session.commit()
    college.sun = sun
    return college


def non_responders(counsellor, day) -> set[str]:
    query = carried.students_query(
        caseload_filter(counsellor), day, "missing"
    )
    return {s.name for s in db.session.scalars(query)}


def changed(counsellor, day) -> set[str]:
    query = carried.students_query(
        caseload_filter(counsellor), day, "changes"
    )
    return {s.name for s in db.session.scalars(query)}


def test_status_carries_forward_and_changes_are_counted_day_by_day(three):
    c, me, grad, sun = three.counsellor, three.own_student, three.graduate, three.sun
    # 1 March: 陈小明 went home to 武汉 with a fever; 赵研究 confirms; 孙一 does not answer.
    statuses.record_status(me, c, here("湖北省", "武汉市", "fever"), at(MARCH_1, 9))
    statuses.confirm_unchanged(grad, c, at(MARCH_1, 9, 5))
    # 2 March: 陈小明 is back in Beijing and well; only he answers.
    statuses.record_status(me, c, here("北京", "北京"), at(MARCH_2, 9))
    # 3 March: 赵研究 has a cough; 陈小明 does not answer.
    statuses.record_status(grad, c, here("北京", "北京", "symptoms"), at(MARCH_3, 9))
    db.session.commit()

    day1 = carried.statuses_for([me.id, grad.id, sun.id], MARCH_1)
    assert day1[me.id].values == here("湖北", "武汉", "fever")  # names normalised
    assert day1[me.id].changes == {"province": ("北京", "湖北"), "city": ("北京", "武汉"),
                                   "health": ("normal", "fever")}
    assert day1[sun.id].status_day is None and day1[sun.id].values.province == "湖北"

    day3 = carried.statuses_for([me.id, grad.id, sun.id], MARCH_3)
    assert day3[me.id].values == here("北京", "北京")  # carried from 2 March
    assert day3[me.id].status_day == MARCH_2 and not day3[me.id].confirmed
    assert day3[grad.id].previous == here("北京", "北京")  # carried from 1 March
    assert day3[grad.id].changes == {"health": ("normal", "symptoms")}

    assert non_responders(c, MARCH_1) == {"孙一"}
    assert non_responders(c, MARCH_2) == {"赵研究", "孙一"}
    assert non_responders(c, MARCH_3) == {"陈小明", "孙一"}
    assert changed(c, MARCH_1) == {"陈小明"}
    assert changed(c, MARCH_2) == {"陈小明"}
    assert changed(c, MARCH_3) == {"赵研究"}
    # A later day with no answers at all: everything carried, nothing changed.
    assert changed(c, date(2020, 3, 9)) == set()

    totals = carried.caseload_totals(c, MARCH_1)
    assert (totals.students, totals.confirmed, totals.missing, totals.changes) == (3, 2, 1, 1)
    assert (totals.hubei, totals.beijing, totals.elsewhere) == (2, 1, 0)
    assert totals.health["fever"] == 1 and totals.health["normal"] == 2
    totals = carried.caseload_totals(c, MARCH_3)
    assert (totals.hubei, totals.beijing, totals.health["symptoms"]) == (1, 2, 1)
    # Days after the last answers: each student's latest status, older than the day before.
    totals = carried.caseload_totals(c, date(2020, 3, 9))
    assert (totals.confirmed, totals.changes, totals.hubei, totals.beijing) == (0, 0, 1, 2)
    assert totals.health["symptoms"] == 1 and totals.health["normal"] == 2
    day9 = carried.statuses_for([me.id, grad.id], date(2020, 3, 9))
    assert day9[grad.id].status_day == MARCH_3 and day9[grad.id].previous.health == "symptoms"
    assert day9[me.id].status_day == MARCH_2 and day9[me.id].values == here("北京", "北京")


def test_a_change_is_a_timeline_entry_and_a_confirmation_is_not(three):
    c, me = three.counsellor, three.own_student
    statuses.confirm_unchanged(me, c, at(MARCH_1, 9))
    statuses.record_status(me, c, here("河北", "保定", "fever"), at(MARCH_2, 9), note="回老家")
    statuses.record_status(me, c, here("河北", "保定", "fever"), at(MARCH_3, 9))
    db.session.commit()
    entries = db.session.scalars(
        select(TimelineEntry).where(TimelineEntry.student_id == me.id,
                                    TimelineEntry.kind == EntryKind.STATUS_CHANGE)
    ).all()
    assert len(entries) == 1
    assert entries[0].details["day"] == "2020-03-02"
    assert entries[0].details["changes"] == {
        "province": {"from": "北京", "to": "河北"},
        "city": {"from": "北京", "to": "保定"},
        "health": {"from": "normal", "to": "fever"},
    }
    assert entries[0].body == "回老家" and entries[0].author_id == c.id
    assert db.session.scalar(select(func.count(DailyStatus.id))) == 3


def test_recording_twice_on_a_day_keeps_one_row(three):
    c, me = three.counsellor, three.own_student
    statuses.record_status(me, c, here("河北", "保定"), at(MARCH_1, 9))
    statuses.record_status(me, c, here("河北", "石家庄"), at(MARCH_1, 10))
    db.session.commit()
    rows = db.session.scalars(select(DailyStatus).where(DailyStatus.student_id == me.id)).all()
    assert [(r.day, r.city) for r in rows] == [(MARCH_1, "石家庄")]
    # Changed since yesterday means against 29 February (the roster), not against 9:00.
    assert carried.statuses_for([me.id], MARCH_1)[me.id].changes["city"] == ("北京", "石家庄")


def test_a_status_recorded_meanwhile_by_another_window_is_refused(three, monkeypatch):
    c, me = three.counsellor, three.own_student
    seen_by_the_other_window = carried.statuses_for([me.id], MARCH_1)
    statuses.record_status(me, c, here("河北", "保定"), at(MARCH_1, 9))
    db.session.commit()
    monkeypatch.setattr(statuses, "statuses_for", lambda ids, day: seen_by_the_other_window)
    with pytest.raises(RuleError) as error:
        statuses.record_status(me, c, here("河北", "石家庄"), at(MARCH_1, 9, 1))
    assert error.value.code == "recorded-meanwhile"
    db.session.rollback()
    assert db.session.scalars(select(DailyStatus.city)).all() == ["保定"]


def test_the_day_is_the_colleges_day(three):
    c, me = three.counsellor, three.own_student
    # 2 March 17:30 UTC is already 3 March 01:30 in Beijing.
    statuses.record_status(me, c, here("河北", "保定"), datetime(2020, 3, 2, 17, 30, tzinfo=UTC))
    db.session.commit()
    assert db.session.scalar(select(DailyStatus.day)) == MARCH_3


def test_only_the_counsellors_own_students(three):
    with pytest.raises(RuleError) as error:
        statuses.record_status(three.other_student, three.counsellor, here("北京", "北京"),
                            at(MARCH_1, 9))
    assert error.value.code == "not-your-student"
    with pytest.raises(RuleError):
        statuses.record_status(three.own_student, three.deputy, here("北京", "北京"),
                            at(MARCH_1, 9))
    assert db.session.scalar(select(func.count(DailyStatus.id))) == 0


def test_bad_values_are_refused(three):
    c, me = three.counsellor, three.own_student
    with pytest.raises(RuleError) as error:
        statuses.record_status(me, c, here("北京", "北京", "sneezing"), at(MARCH_1, 9))
    assert error.value.code == "invalid-health"
    with pytest.raises(RuleError) as error:
        statuses.record_status(me, c, here("", ""), at(MARCH_1, 9))
    assert error.value.code == "missing-location"
    # On campus needs no place: the campus is in Beijing.
    statuses.record_status(me, c, here("", "", "isolated_centre", on_campus=True), at(MARCH_1, 9))
    assert carried.statuses_for([me.id], MARCH_1)[me.id].values == here(
        "北京", "北京", "isolated_centre", on_campus=True
    )


# -- the report -------------------------------------------------------------------------------


def test_deadline_and_lateness_in_the_colleges_timezone(three):
    c = three.counsellor
    # 11:00 in Beijing is 03:00 UTC.
    assert reports.deadline(MARCH_3).astimezone(UTC) == datetime(2020, 3, 3, 3, 0, tzinfo=UTC)
    on_time = reports.submit_report(c, MARCH_3, datetime(2020, 3, 3, 2, 59, tzinfo=UTC))
    assert not on_time.late
    late = reports.submit_report(three.other_counsellor, MARCH_3,
                               datetime(2020, 3, 3, 3, 1, tzinfo=UTC))
    assert late.late
    # A report of 2 March sent at 01:00 on 3 March, Beijing time, is late.
    yesterday = reports.submit_report(c, MARCH_2, datetime(2020, 3, 2, 17, 0, tzinfo=UTC))
    assert yesterday.late


def test_deadline_is_configurable(app, three):
    app.config["DAILY_REPORT_DEADLINE"] = "09:30"
    try:
        report = reports.submit_report(three.counsellor, MARCH_3, at(MARCH_3, 9, 45))
    finally:
        app.config["DAILY_REPORT_DEADLINE"] = "11:00"
    assert report.late


def test_zero_report_only_when_nothing_changed(three):
    c, me = three.counsellor, three.own_student
    statuses.confirm_unchanged(me, c, at(MARCH_2, 9))
    zero = reports.submit_report(c, MARCH_2, at(MARCH_2, 10), zero=True)
    assert zero.is_zero and zero.changes_count == 0 and zero.state == "submitted"

    statuses.record_status(me, c, here("河北", "保定"), at(MARCH_3, 9))
    with pytest.raises(RuleError) as error:
        reports.submit_report(c, MARCH_3, at(MARCH_3, 10), zero=True)
    assert (error.value.code, error.value.values) == ("not-zero", {"detail": 1})
    report = reports.submit_report(c, MARCH_3, at(MARCH_3, 10))
    assert not report.is_zero and report.changes_count == 1


def test_submitting_the_future_or_twice_is_refused(three):
    c = three.counsellor
    with pytest.raises(RuleError) as error:
        reports.submit_report(c, MARCH_3, at(MARCH_2, 10))
    assert error.value.code == "future-day"
    reports.submit_report(c, MARCH_2, at(MARCH_2, 10))
    with pytest.raises(RuleError) as error:
        reports.submit_report(c, MARCH_2, at(MARCH_2, 10, 5))
    assert error.value.code == "already-submitted"
    with pytest.raises(RuleError):
        reports.submit_report(three.deputy, MARCH_2, at(MARCH_2, 10))


def test_return_correct_resubmit_approve_then_locked(three):
    """The report's lifecycle; statuses still change after submitting (the old rule refused a
    change while the report waited for review: now it is kept and counted as "after
    submission")."""
    c, me, deputy = three.counsellor, three.own_student, three.deputy
    statuses.record_status(me, c, here("河北", "保定"), at(MARCH_3, 9))
    report = reports.submit_report(c, MARCH_3, at(MARCH_3, 10, 30))
    # While it waits for review, a change is recorded and counted as after submission.
    statuses.record_status(me, c, here("河北", "唐山"), at(MARCH_3, 10, 40))
    statuses.confirm_unchanged(three.graduate, c, at(MARCH_3, 10, 41))
    assert carried.caseload_totals(c, MARCH_3).after_submission == 1

    with pytest.raises(RuleError) as error:
        reports.review_report(report, deputy, at(MARCH_3, 11, 30), approve=False)
    assert error.value.code == "comment-required"
    reports.review_report(report, deputy, at(MARCH_3, 11, 30), approve=False,
                        comment="保定还是唐山？请核实")
    assert report.state == "returned" and report.reviewed_by_id == deputy.id

    # Returned: the counsellor corrects and resubmits; lateness stays that of the first time,
    # and the change made after the first submission is now part of the report.
    statuses.record_status(me, c, here("河北", "唐山", "fever"), at(MARCH_3, 11, 40))
    again = reports.submit_report(c, MARCH_3, at(MARCH_3, 11, 45), note="已核实")
    assert again.id == report.id and again.state == "submitted"
    assert not again.late and again.resubmitted_at == at(MARCH_3, 11, 45)
    assert again.changes_count == 1 and again.note == "已核实"
    assert carried.caseload_totals(c, MARCH_3).after_submission == 0

    reports.review_report(report, deputy, at(MARCH_3, 11, 50), approve=True)
    db.session.commit()
    assert report.state == "approved"
    for attempt in (
        lambda: reports.submit_report(c, MARCH_3, at(MARCH_3, 12)),
        lambda: reports.review_report(report, deputy, at(MARCH_3, 12), approve=False, comment="x"),
    ):
        with pytest.raises(RuleError):
            attempt()
    assert carried.statuses_for([me.id], MARCH_3)[me.id].values.city == "唐山"


def test_a_change_after_approval_is_kept_and_goes_into_tomorrows_changes(three):
    c, me, deputy = three.counsellor, three.own_student, three.deputy
    statuses.confirm_unchanged(me, c, at(MARCH_2, 9))
    report = reports.submit_report(c, MARCH_2, at(MARCH_2, 10), zero=True)
    reports.review_report(report, deputy, at(MARCH_2, 11, 50), approve=True)
    # 15:00: a fever. The approved report stays as it was; the board shows it after approval.
    statuses.record_status(me, c, here("北京", "北京", "fever"), at(MARCH_2, 15))
    db.session.commit()
    assert (report.state, report.is_zero, report.changes_count) == ("approved", True, 0)
    totals = carried.caseload_totals(c, MARCH_2)
    assert (totals.after_approval, totals.after_submission) == (1, 0)
    # The next day, unconfirmed or confirmed unchanged, the fever is one of the changes.
    assert changed(c, MARCH_3) == {"陈小明"}
    statuses.confirm_unchanged(me, c, at(MARCH_3, 9))
    assert changed(c, MARCH_3) == {"陈小明"}
    with pytest.raises(RuleError) as error:
        reports.submit_report(c, MARCH_3, at(MARCH_3, 10), zero=True)
    assert error.value.code == "not-zero"
    assert reports.submit_report(c, MARCH_3, at(MARCH_3, 10)).changes_count == 1


def test_a_report_keeps_its_confirmed_and_unconfirmed_counts(three):
    c, deputy = three.counsellor, three.deputy
    statuses.confirm_unchanged(three.own_student, c, at(MARCH_3, 9))
    # Asked once: the counsellor is told how many are unconfirmed, nothing is written.
    with pytest.raises(RuleError) as error:
        reports.submit_report(c, MARCH_3, at(MARCH_3, 10), zero=True, ask_unconfirmed=True)
    assert (error.value.code, error.value.values) == ("unconfirmed-students", {"num": 2})
    assert reports.get_report(c.id, MARCH_3) is None
    report = reports.submit_report(c, MARCH_3, at(MARCH_3, 10), zero=True)
    assert (report.is_zero, report.confirmed_count, report.unconfirmed_count) == (True, 1, 2)
    # A student confirmed later does not rewrite what the report said.
    statuses.confirm_unchanged(three.sun, c, at(MARCH_3, 10, 30))
    with pytest.raises(RuleError) as error:
        reports.review_report(report, deputy, at(MARCH_3, 11), approve=True,
                              ask_unconfirmed=True)
    assert (error.value.code, error.value.values) == ("approve-unconfirmed", {"num": 1})
    assert report.state == "submitted"
    reports.review_report(report, deputy, at(MARCH_3, 11), approve=True)
    assert (report.state, report.unconfirmed_count, report.approved_unconfirmed) == (
        "approved", 2, 1)


def test_nobody_unconfirmed_is_not_asked(three):
    c = three.counsellor
    for student in (three.own_student, three.graduate, three.sun):
        statuses.confirm_unchanged(student, c, at(MARCH_3, 9))
    report = reports.submit_report(c, MARCH_3, at(MARCH_3, 10), zero=True, ask_unconfirmed=True)
    assert (report.confirmed_count, report.unconfirmed_count) == (3, 0)


def test_only_the_deputy_reviews(three):
    report = reports.submit_report(three.counsellor, MARCH_3, at(MARCH_3, 10))
    with pytest.raises(RuleError) as error:
        reports.review_report(report, three.counsellor, at(MARCH_3, 11), approve=True)
    assert error.value.code == "not-deputy"


def test_board_shows_each_counsellor_and_is_ready_when_all_are_approved(three):
    c, other, deputy = three.counsellor, three.other_counsellor, three.deputy
    statuses.record_status(three.own_student, c, here("湖北", "武汉", "fever"), at(MARCH_3, 9))
    mine = reports.submit_report(c, MARCH_3, at(MARCH_3, 10))
    board = reports.board(MARCH_3, at(MARCH_3, 11, 30), three.counsellor)
    assert [(r.counsellor.id, r.status) for r in board.rows] == [
        (c.id, "submitted"), (other.id, "missing")
    ]
    assert board.past_deadline and not board.ready
    assert (board.totals.students, board.totals.hubei, board.totals.changes) == (4, 2, 1)
    assert board.totals.health["fever"] == 1

    reports.review_report(mine, deputy, at(MARCH_3, 11, 40), approve=True)
    theirs = reports.submit_report(other, MARCH_3, at(MARCH_3, 11, 45))
    assert theirs.late and theirs.is_zero
    assert not reports.board(MARCH_3, at(MARCH_3, 12), three.counsellor).ready
    reports.review_report(theirs, deputy, at(MARCH_3, 11, 50), approve=True)
    assert reports.board(MARCH_3, at(MARCH_3, 12), three.counsellor).ready


def test_landing_summary(three):
    c = three.counsellor
    summary = reports.landing_summary(c, at(MARCH_3, 11, 30))
    assert (summary.kind, summary.status, summary.past_deadline) == ("counsellor", "missing", True)
    assert summary.totals.missing == 3
    reports.submit_report(c, MARCH_3, at(MARCH_3, 11, 35))
    deputy = reports.landing_summary(three.deputy, at(MARCH_3, 11, 40))
    assert deputy.kind == "deputy" and deputy.counts["submitted"] == 1
    assert deputy.counts["missing"] == 1 and deputy.expected == 2
    assert reports.landing_summary(three.supervisor, at(MARCH_3, 11)) is None


def test_totals_take_a_constant_number_of_queries(three):
    c = three.counsellor

    def cost():
        with count_queries() as counter:
            reports.board(MARCH_3, at(MARCH_3, 12), three.counsellor)
            carried.caseload_totals(c, MARCH_3)
        return counter.count

    # The day's numbers are kept from its first status write on: measure growth from there.
    statuses.record_status(three.sun, c, here("湖北", "武汉"), at(MARCH_3, 8))
    db.session.commit()
    before = cost()
    for n in range(20):
        student = factories.StudentFactory(counsellor=c, province="河南", city="郑州")
        statuses.record_status(student, c, here("河南", "信阳" if n % 2 else "郑州"),
                            at(MARCH_3, 9))
    db.session.commit()
    assert cost() == before


@pytest.mark.parametrize("text, value", [
    ("正常", "normal"), ("健康", "normal"), ("Normal", "normal"), ("发热", "fever"),
    ("fever", "fever"), ("咳嗽或其他症状", "symptoms"), ("Cough or other symptoms", "symptoms"),
    ("疑似", "suspected"), ("Suspected case", "suspected"), ("确诊", "confirmed"),
    ("居家隔离", "isolated_home"), ("Isolated at home", "isolated_home"),
    ("集中隔离", "isolated_centre"), ("isolated at the center", "isolated_centre"),
    ("isolated_centre", "isolated_centre"), ("sneezing", None), ("", None),
])
def test_health_names_in_chinese_and_english(text, value):
    assert values.parse_health(text) == value


@pytest.mark.parametrize("text, place", [
    ("湖北省武汉市", ("湖北", "武汉", False)),
    ("湖北 武汉", ("湖北", "武汉", False)),
    ("Wuhan, Hubei", ("湖北", "Wuhan", False)),
    ("北京市", ("北京", "北京", False)),
    ("新疆维吾尔自治区乌鲁木齐市", ("新疆", "乌鲁木齐", False)),
    ("在校", ("北京", "北京", True)),
])
def test_locations_as_people_write_them(text, place):
    assert values.parse_location(text) == place

