"""The retention policy and the purge: each data class goes on its due day and not a day
before, the daily reports' numbers stay, a dry run writes nothing, a second run purges nothing
more, and the purged text is gone from the database file itself."""

from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from caretrack.extensions import db
from caretrack.models import (
    AuditEvent,
    CategoryAssignment,
    CheckIn,
    CheckinLink,
    DailyStatus,
    DataClass,
    EntryKind,
    Notice,
    NoticeRecipient,
    Recheck,
    RetainedDayTotals,
    RetentionPurge,
    ReturnRequest,
    TimelineEntry,
)
from caretrack.services import entries, notices, retention, return_requests
from caretrack.services.checkin import links
from caretrack.services.checkin.submit import CheckinValues, submit_checkin
from caretrack.services.clock import local_datetime
from caretrack.services.daily import StatusValues, board, submit_report
from caretrack.services.daily.statuses import record_status
from caretrack.services.errors import RuleError
from caretrack.services.notices import NoticeDraft
from caretrack.services.return_requests import ReturnAsk
from tests.conftest import POSTGRES

#: Every text the scenario writes carries it, so the database file can be searched for it.
SECRET = "保密R20内容"
DAY = date(2020, 3, 10)
ENDED = date(2020, 3, 31)
PERIODS = {
    DataClass.STATUSES: 30, DataClass.FOLLOW_UP_HEALTH: 40, DataClass.FREE_TEXT: 50,
    DataClass.CHECKIN_LINKS: 20, DataClass.ACKNOWLEDGEMENTS: 25, DataClass.RETURN_REQUESTS: 60,
}


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return local_datetime(day, time(hour, minute))


@pytest.fixture
def season(app, college):
    """One day of the emergency for two students: statuses, a check-in, both reports, a
    follow-up, a note, a delivery, a notice acknowledged, an early-return request and a
    personal link; the policy: the emergency ended on ENDED, each class its own period."""
    c = college
    now = at(DAY)
    record_status(c.own_student, c.counsellor, StatusValues("河南", "郑州", False, "normal"), now,
                  note=f"{SECRET} 状态")
    submit_checkin(c.other_student, CheckinValues(province="河南", city="洛阳", health="normal",
                                                  note=f"{SECRET} 打卡"), "personal", now)
    follow_up = entries.record_follow_up(c.own_student, c.counsellor, channel="phone",
                                         reached=True, health="symptoms",
                                         body=f"{SECRET} 随访", occurred_at=now, now=now)
    entries.record_note(c.own_student, c.counsellor, body=f"{SECRET} 备注", now=now)
    entries.record_delivery(c.own_student, c.counsellor, items=[(f"{SECRET}口罩", "10", "个")],
                            place="dormitory", place_detail=f"{SECRET} 3号楼", received=True,
                            delivered_by="李老师", body=f"{SECRET} 送达", occurred_at=now,
                            now=now)
    notice = notices.publish(c.deputy, NoticeDraft(
        title="返校须知", body="请阅读", audience="college", deadline=at(DAY + timedelta(days=2))),
        now=now)
    recipient = db.session.scalars(select(NoticeRecipient).where(
        NoticeRecipient.notice_id == notice.id,
        NoticeRecipient.student_id == c.own_student.id)).one()
    notices.acknowledge(recipient, pledged=False, now=now)
    request = return_requests.ask(c.own_student, ReturnAsk(
        reason="internship", wanted_on=DAY + timedelta(days=5), travel_from=f"{SECRET}郑州",
        details=f"{SECRET} 实习"), now=now)
    links.rotate_student(c.own_student, c.counsellor, now)
    report_time = at(DAY, 10, 30)
    submit_report(c.counsellor, DAY, report_time)
    submit_report(c.other_counsellor, DAY, report_time)
    retention.save_policy(c.deputy, emergency_ended_on=ENDED, retention_days=90,
                          class_days={str(k): v for k, v in PERIODS.items()}, now=at(ENDED))
    db.session.commit()
    return {"follow_up": follow_up.id, "request": request.id, "notice": notice.id}


def kept(data_class: str, season: dict) -> bool:
    """Whether the scenario's rows of ``data_class`` are still there, unpurged."""
    db.session.expire_all()
    if data_class == DataClass.STATUSES:
        return bool(db.session.scalar(select(func.count(DailyStatus.id)))
                    and db.session.scalar(select(func.count(CheckIn.id))))
    follow_up = db.session.get(TimelineEntry, season["follow_up"])
    if data_class == DataClass.FOLLOW_UP_HEALTH:
        return "health" in follow_up.details
    if data_class == DataClass.FREE_TEXT:
        return SECRET in follow_up.body
    if data_class == DataClass.CHECKIN_LINKS:
        return db.session.scalar(select(func.count(CheckinLink.id)).where(
            CheckinLink.revoked_at.is_(None))) > 0
    if data_class == DataClass.ACKNOWLEDGEMENTS:
        return db.session.scalar(select(func.count(NoticeRecipient.id))) > 0
    return SECRET in db.session.get(ReturnRequest, season["request"]).travel_from


@pytest.mark.parametrize("data_class", list(DataClass))
def test_each_class_is_purged_on_its_day_and_not_a_day_before(season, data_class):
    due = ENDED + timedelta(days=PERIODS[data_class])
    eve = retention.purge(at(due - timedelta(days=1), 23, 59))
    assert eve.counts[data_class] == 0
    assert kept(data_class, season)
    on_the_day = retention.purge(at(due, 0, 0))
    assert on_the_day.counts[data_class] > 0
    assert not kept(data_class, season)


def test_nothing_goes_while_the_emergency_goes_on(season, college):
    retention.save_policy(college.deputy, emergency_ended_on=None, retention_days=90,
                          class_days={}, now=at(ENDED))
    db.session.commit()
    result = retention.purge(at(date(2030, 1, 1)))
    assert result.total == 0
    assert all(kept(c, season) for c in DataClass)


def test_a_student_who_left_takes_their_data_along(season, college):
    retention.save_policy(college.deputy, emergency_ended_on=None, retention_days=90,
                          class_days={}, now=at(ENDED))
    college.own_student.leaving, college.own_student.left_on = "graduated", date(2020, 6, 30)
    db.session.commit()
    assert retention.purge(at(date(2020, 9, 27))).total == 0
    result = retention.purge(at(date(2020, 9, 28)))
    db.session.expire_all()
    assert result.counts[DataClass.FREE_TEXT] >= 3
    assert SECRET not in db.session.get(TimelineEntry, season["follow_up"]).body
    # the other student's check-in stays: only the leaver's data went
    assert db.session.scalar(select(func.count(CheckIn.id))) == 1
    assert db.session.scalar(select(func.count(DailyStatus.id)).where(
        DailyStatus.student_id == college.own_student.id)) == 0


def test_the_daily_reports_numbers_stay(season, college):
    before = board(DAY, at(DAY + timedelta(days=1)), college.deputy)
    numbers = asdict(before.totals)
    rows = {r.counsellor.id: asdict(r.totals) for r in before.rows}
    assert numbers["students"] == 3 and numbers["confirmed"] == 2

    result = retention.purge(at(date(2021, 1, 1)))
    assert result.counts[DataClass.STATUSES] >= 2
    assert db.session.scalar(select(func.count(DailyStatus.id))) == 0
    after = board(DAY, at(date(2021, 1, 1)), college.deputy)
    assert asdict(after.totals) == numbers
    assert {r.counsellor.id: asdict(r.totals) for r in after.rows} == rows
    assert db.session.scalar(select(func.count(RetainedDayTotals.id))) == 2


def _row_counts() -> dict[str, int]:
    tables = ["daily_statuses", "checkins", "timeline_entries", "notice_recipients",
              "return_requests", "checkin_links", "audit_events", "retention_purges",
              "retained_day_totals"]
    counts = {t: db.session.scalar(text(f"SELECT count(*) FROM {t}")) for t in tables}  # noqa: S608
    counts["texts"] = db.session.scalar(select(func.count(TimelineEntry.id)).where(
        TimelineEntry.purged_on.is_(None)))
    return counts


def test_a_dry_run_counts_the_same_and_writes_nothing(season, runner):
    later = at(date(2021, 1, 1))
    before = _row_counts()
    dry = retention.purge(later, dry_run=True)
    assert _row_counts() == before
    assert dry.total > 0
    real = retention.purge(later)
    assert real.counts == dry.counts


def test_a_second_run_purges_nothing_more(season):
    later = at(date(2021, 1, 1))
    first = retention.purge(later)
    assert first.total > 0
    after_first = _row_counts()
    second = retention.purge(later + timedelta(hours=1))
    assert second.total == 0
    assert _row_counts() == after_first
    assert retention.purge(later, dry_run=True).total == 0


def test_one_audit_event_and_one_purge_record_with_the_counts(season):
    result = retention.purge(at(date(2021, 1, 1)))
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "retention.purge")).all()
    assert len(events) == 1
    for data_class, count in result.counts.items():
        assert f"{data_class}={count}" in events[0].detail
    purge = db.session.scalars(select(RetentionPurge)).one()
    assert purge.counts == result.counts and purge.purged_on == date(2021, 1, 1)


def test_what_stays_of_a_purged_entry(season, college):
    retention.purge(at(date(2021, 1, 1)))
    db.session.expire_all()
    follow_up = db.session.get(TimelineEntry, season["follow_up"])
    assert follow_up.kind == EntryKind.FOLLOW_UP
    assert follow_up.author_id == college.counsellor.id
    assert follow_up.occurred_at == at(DAY)
    assert follow_up.body == "内容已按保留政策删除 (2021-01-01)"
    assert follow_up.details["channel"] == "phone" and "health" not in follow_up.details
    everything = db.session.scalars(select(TimelineEntry)).all()
    assert not [(e.kind, e.body, e.details) for e in everything
                if SECRET in e.body or SECRET in str(e.details)]
    request = db.session.get(ReturnRequest, season["request"])
    assert request.reason == "internship" and request.purged_on == date(2021, 1, 1)
    assert not [a for a in db.session.scalars(select(CategoryAssignment.reason)) if SECRET in a]
    assert not [r for r in db.session.scalars(select(Recheck.reason)) if SECRET in r]
    notice = db.session.get(Notice, season["notice"])
    assert (notice.purged_recipients, notice.purged_acknowledged) == (3, 1)


def test_the_pages_say_what_was_purged(season, client, auth, college):
    retention.purge(at(date(2021, 1, 1)))
    auth.login(college.counsellor)
    page = client.get(f"/students/{college.own_student.id}").get_data(as_text=True)
    assert SECRET not in page
    assert "内容已按保留政策删除 (2021-01-01)" in page
    auth.logout()
    auth.login(college.deputy)
    policy = client.get("/retention/").get_data(as_text=True)
    assert 'data-purged=' in policy


def _tables_holding(secret: str) -> list[str]:
    """The tables with a row whose text holds ``secret``, reading every row of every table."""
    found = []
    for table in db.metadata.sorted_tables:
        if POSTGRES:
            query = f"SELECT count(*) FROM {table.name} t WHERE CAST(t AS text) LIKE :s"  # noqa: S608
        else:
            columns = " || ".join(f"coalesce(CAST({c.name} AS TEXT), '')" for c in table.columns)
            query = f"SELECT count(*) FROM {table.name} WHERE {columns} LIKE :s"  # noqa: S608
        if db.session.scalar(text(query), {"s": f"%{secret}%"}):
            found.append(table.name)
    return found


def test_the_purged_text_is_in_no_table_and_not_in_the_database_file(season):
    assert "timeline_entries" in _tables_holding(SECRET)
    retention.purge(at(date(2021, 1, 1)))
    assert _tables_holding(SECRET) == []
    if POSTGRES:  # the file is the server's: docs/operations.md says what VACUUM does
        return
    path = Path(db.engine.url.database)
    files = [path, path.with_name(path.name + "-wal")]
    assert [f.name for f in files if f.exists() and SECRET.encode() in f.read_bytes()] == []


def test_the_file_held_the_text_before_the_purge(season):
    """The search of the file finds the text while it is there (so its absence means it)."""
    if POSTGRES:
        assert _tables_holding(SECRET)
        return
    db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    db.session.commit()
    assert SECRET.encode() in Path(db.engine.url.database).read_bytes()


def test_the_policy_refuses_bad_periods_and_a_future_end(season, college):
    with pytest.raises(RuleError) as refused:
        retention.save_policy(college.deputy, emergency_ended_on=date(2030, 1, 1),
                              retention_days=90, class_days={}, now=at(ENDED))
    assert refused.value.code == "emergency-end-future"
    with pytest.raises(RuleError) as refused:
        retention.save_policy(college.deputy, emergency_ended_on=ENDED, retention_days=0,
                              class_days={}, now=at(ENDED))
    assert refused.value.field == "retention_days"
    with pytest.raises(RuleError) as refused:
        retention.save_policy(college.counsellor, emergency_ended_on=ENDED, retention_days=90,
                              class_days={}, now=at(ENDED))
    assert refused.value.code == "not-retention-manager"


def test_the_schedule_and_the_landing_warning(season, college):
    schedule = retention.schedule(at(ENDED), retention.get_policy(college.deputy))
    days = {s.on: s.counts for s in schedule}
    for data_class, period in PERIODS.items():
        assert days[ENDED + timedelta(days=period)][data_class] > 0
    assert retention.upcoming_warning(college.deputy, at(ENDED)) is None
    warning = retention.upcoming_warning(college.deputy, at(ENDED + timedelta(days=10)))
    assert warning.on == ENDED + timedelta(days=20)
    assert retention.upcoming_warning(college.admin, at(ENDED + timedelta(days=10))) == warning
    assert retention.upcoming_warning(college.counsellor, at(ENDED + timedelta(days=10))) is None


def test_the_command(season, runner):
    """Run today, long after the scenario's days: everything is due."""
    dry = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "statuses           would purge 5" in dry.output
    assert db.session.scalar(select(func.count(DailyStatus.id))) == 2
    done = runner.invoke(args=["retention", "purge"])
    assert done.exit_code == 0, done.output
    assert "transactions" in done.output
    assert db.session.scalar(select(func.count(DailyStatus.id))) == 0


def test_the_deputy_saves_the_policy_and_the_admin_reads_and_sets_it(client, auth, college):
    auth.login(college.deputy)
    response = client.post("/retention/", data={
        "emergency_ended_on": "2020-03-31", "retention_days": "90", "days_free_text": "30"})
    assert response.status_code == 302
    policy = retention.get_policy(college.deputy)
    assert policy.college_id == college.deputy.college_id
    assert policy.emergency_ended_on == ENDED and policy.days_for(DataClass.FREE_TEXT) == 30
    assert policy.days_for(DataClass.STATUSES) == 90
    refused = client.post("/retention/", data={
        "emergency_ended_on": "2020-03-31", "retention_days": "0", "version": "1"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "is-invalid" in page
    assert retention.get_policy(college.deputy).retention_days == 90
    stale = client.post("/retention/", data={
        "emergency_ended_on": "2020-03-31", "retention_days": "60", "version": "99"})
    assert stale.status_code == 409
    auth.logout()
    auth.login(college.admin)
    page = client.get("/retention/").get_data(as_text=True)
    assert "2020-03-31" in page and "data-policy-form" in page
    assert client.post("/retention/", data={
        "emergency_ended_on": "2020-03-31", "retention_days": "60",
        "version": str(policy.version_id)}).status_code == 302
    assert retention.get_policy(college.admin).retention_days == 60


def test_the_notice_and_the_request_say_what_went(season, client, auth, college):
    retention.purge(at(date(2021, 1, 1)))
    auth.login(college.deputy)
    coverage = client.get(f"/notices/{season['notice']}").get_data(as_text=True)
    assert "data-recipients-purged" in coverage and "2021-01-01" in coverage
    request = client.get(f"/returns/{season['request']}").get_data(as_text=True)
    assert "内容已按保留政策删除 (2021-01-01)" in request and SECRET not in request
