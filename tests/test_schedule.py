"""The schedule (flask jobs tick) and the reminders it sends: each entry once at its college
time, a missed run made up once, and each counsellor's reminders as they chose them."""

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.jobs import submit
from caretrack.models import Job, JobState, Notification, ScheduleRun, SentMessage
from caretrack.services import mail, rechecks
from caretrack.services.clock import local_datetime
from caretrack.services.reminders import REMINDERS, set_reminders, wants
from caretrack.services.schedule import latest_due, tick
from tests.helpers import text_of

DAY = date(2020, 3, 3)


def at(day: date, hours: int, minutes: int = 0) -> datetime:
    """An instant of the college's day, in UTC."""
    return local_datetime(day, time(hours, minutes)).astimezone(UTC)


@pytest.fixture(autouse=True)
def no_redis(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    mail.outbox.clear()
    yield
    mail.outbox.clear()


def settle(now: datetime) -> None:
    """Run what was due before ``now`` (the days before), and forget what it sent."""
    tick(now)
    mail.outbox.clear()
    db.session.execute(db.delete(Notification))
    db.session.execute(db.delete(SentMessage))
    db.session.commit()


def kinds(jobs) -> list[str]:
    return sorted(job.kind for job in jobs)


def test_the_time_of_an_entry_is_the_colleges():
    # 07:30 in Shanghai is 23:30 UTC the day before
    assert latest_due(time(7, 30), at(DAY, 7, 31)) == datetime(2020, 3, 2, 23, 30, tzinfo=UTC)
    assert latest_due(time(7, 30), at(DAY, 7, 29)) == datetime(2020, 3, 1, 23, 30, tzinfo=UTC)


def test_each_entry_runs_once_at_its_time(college):
    assert kinds(tick(at(DAY, 7, 0))) == [
        "checkin.reminders", "daily.tallies", "rechecks.digest", "reports.deadline", "reports.send",
        "retention.purge"]  # yesterday's (the purge's 03:00 is today's)
    assert tick(at(DAY, 7, 5)) == []
    assert kinds(tick(at(DAY, 7, 35))) == ["rechecks.digest"]
    assert tick(at(DAY, 7, 40)) == []
    assert kinds(tick(at(DAY, 9, 1))) == ["checkin.reminders"]
    assert kinds(tick(at(DAY, 13, 0))) == ["reports.deadline", "reports.send"]
    digest = db.session.scalars(select(Job).where(Job.kind == "rechecks.digest")
                                .order_by(Job.id.desc())).first()
    assert (digest.params, digest.state, digest.owner_id) == (
        {"day": "2020-03-03"}, JobState.DONE, None)


def test_runs_missed_for_days_are_made_up_once(college):
    tick(at(DAY, 14, 0))
    later = date(2020, 3, 6)
    assert kinds(tick(at(later, 14, 0))) == [
        "checkin.reminders", "daily.tallies", "rechecks.digest", "reports.deadline",
        "reports.send", "retention.purge"]
    assert db.session.scalar(select(func.count(Job.id))) == 12
    run = db.session.get(ScheduleRun, "rechecks.digest")
    assert run.last_slot == at(later, 7, 30)


def test_the_retention_purge_runs_at_its_time_and_deletes_what_is_due(college):
    from caretrack.models import TimelineEntry
    from caretrack.services import entries, retention

    settle(at(DAY, 2, 0))  # yesterday's runs; no policy yet: the purge deletes nothing
    note = entries.record_note(college.own_student, college.counsellor, body="家中情况说明",
                               now=at(date(2019, 12, 1), 10))
    retention.save_policy(college.deputy, emergency_ended_on=date(2019, 12, 1),
                          retention_days=90, class_days={}, now=at(date(2019, 12, 1), 12))
    db.session.commit()
    assert kinds(tick(at(DAY, 3, 5))) == ["retention.purge"]
    purge = db.session.scalars(select(Job).where(Job.kind == "retention.purge")
                               .order_by(Job.id.desc())).first()
    assert (purge.state, purge.owner_id, purge.params) == (
        JobState.DONE, None, {"day": "2020-03-03"})
    assert purge.result["total"] >= 1
    db.session.expire_all()
    assert "家中情况说明" not in db.session.get(TimelineEntry, note.id).body
    assert tick(at(DAY, 3, 10)) == []


def test_the_new_day_is_counted_just_after_midnight(college):
    from caretrack.models import DailyTally

    settle(at(DAY, 0, 1))  # yesterday's runs
    assert kinds(tick(at(DAY, 0, 6))) == ["daily.tallies"]
    job = db.session.scalars(select(Job).where(Job.kind == "daily.tallies")
                             .order_by(Job.id.desc())).first()
    assert (job.state, job.result) == (JobState.DONE,
                                       {"day": "2020-03-03", "yesterday_agreed": True})
    kept = db.session.scalars(select(DailyTally.counsellor_id).where(DailyTally.day == DAY))
    assert sorted(kept) == sorted([college.counsellor.id, college.other_counsellor.id])


def test_the_digest_goes_to_the_counsellor_once(college):
    rechecks.schedule(college.own_student, due_on=DAY, reason="回电", origin="manual",
                      by=college.counsellor)
    db.session.commit()
    tick(at(DAY, 7, 31))
    again = submit("rechecks.digest", None, {"day": "2020-03-03"})  # the same day's, run again
    assert (again.state, again.result) == (JobState.DONE, {"sent": 0, "skipped": 0})
    digests = [m for m in mail.outbox if "回电" in m.get_content()]
    assert [m["To"] for m in digests] == [college.counsellor.email]


def test_checkin_reminders_reach_each_counsellor_as_they_chose(client, auth, college):
    set_reminders(college.other_counsellor, {"checkin:app", "report:email", "report:app"})
    db.session.commit()
    assert not wants(college.other_counsellor, "checkin", "email")
    settle(at(DAY, 8, 0))
    tick(at(DAY, 9, 5))
    keys = db.session.scalars(select(SentMessage.key).where(
        SentMessage.key.startswith("checkin-reminder:"))).all()
    assert keys == [f"checkin-reminder:2020-03-03:user:{college.counsellor.id}"]
    message = mail.outbox[-1]
    assert "2 名学生今天尚未打卡" in message.get_content()
    assert "/reports/daily/chase" in message.get_content()
    notified = db.session.scalars(select(Notification.user_id).where(
        Notification.kind == "checkin.missing")).all()
    assert sorted(notified) == sorted([college.counsellor.id, college.other_counsellor.id])
    # the daily page shows the day; the reminder is seen there
    auth.login(college.counsellor)
    client.get("/reports/daily/")
    assert db.session.scalar(select(func.count(Notification.id)).where(
        Notification.kind == "checkin.missing", Notification.seen_at.is_(None))) == 1


def test_a_counsellor_without_a_submitted_report_is_reminded_before_the_deadline(college):
    set_reminders(college.counsellor, {"checkin:email", "checkin:app", "report:app"})
    db.session.commit()
    settle(at(DAY, 9, 30))
    tick(at(DAY, 10, 1))
    assert db.session.scalars(select(SentMessage.recipient).where(
        SentMessage.key.startswith("report-reminder:"))).all() == [college.other_counsellor.email]
    assert "截止时间 11:00" in mail.outbox[-1].get_content()
    assert sorted(db.session.scalars(select(Notification.user_id).where(
        Notification.kind == "report.due"))) == sorted(
        [college.counsellor.id, college.other_counsellor.id])


def test_staff_choose_their_reminders_on_their_account_page(client, auth, college):
    auth.login(college.counsellor)
    page = text_of(client.get("/account"))
    for label, _channels in REMINDERS.values():
        assert str(label) in page or label in page
    response = client.post("/account/reminders", data={"wanted": ["digest:email", "report:app"]})
    assert response.status_code == 302
    db.session.expire_all()
    assert college.counsellor.reminders_off == ["checkin:app", "checkin:email", "report:email"]
    assert "提醒设置已保存" in text_of(client.get(response.headers["Location"]))
