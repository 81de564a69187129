"""Each college has its own retention policy: its admin (or deputy) sets it, the purge applies
it to the college's students only, and each college's page shows its own policy and purges."""

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import DailyStatus, DataClass, RetainedDayTotals, RetentionPurge
from caretrack.services import retention
from caretrack.services.clock import local_datetime
from caretrack.services.daily import StatusValues, submit_report
from caretrack.services.daily.statuses import record_status

DAY = date(2020, 3, 10)
ENDED = date(2020, 3, 31)


def at(day: date, hour: int = 10) -> datetime:
    return local_datetime(day, time(hour, 0))


def _statuses(student) -> int:
    return db.session.scalar(select(func.count(DailyStatus.id)).where(
        DailyStatus.student_id == student.id))


def _season(c):
    """A status and a report in each college; the home college's emergency ended on ENDED,
    the other college's goes on."""
    now = at(DAY)
    record_status(c.own_student, c.counsellor, StatusValues("河南", "郑州", False, "normal"), now)
    record_status(c.foreign_student, c.foreign_counsellor,
                  StatusValues("河南", "洛阳", False, "normal"), now)
    submit_report(c.counsellor, DAY, at(DAY, 11))
    submit_report(c.foreign_counsellor, DAY, at(DAY, 11))
    retention.save_policy(c.admin, emergency_ended_on=ENDED, retention_days=30, class_days={},
                          now=at(ENDED))
    retention.save_policy(c.foreign_admin, emergency_ended_on=None, retention_days=30,
                          class_days={}, now=at(ENDED))
    db.session.commit()


def test_each_colleges_admin_sets_their_own_colleges_policy(colleges):
    c = colleges
    _season(c)
    home, foreign = retention.get_policy(c.home), retention.get_policy(c.elsewhere)
    assert (home.college_id, home.emergency_ended_on) == (c.home.id, ENDED)
    assert (foreign.college_id, foreign.emergency_ended_on) == (c.elsewhere.id, None)
    # The other college's deputy changes theirs; the home college's stays.
    retention.save_policy(c.foreign_deputy, emergency_ended_on=ENDED, retention_days=90,
                          class_days={str(DataClass.FREE_TEXT): 10}, now=at(ENDED))
    db.session.commit()
    assert retention.get_policy(c.elsewhere).days_for(DataClass.FREE_TEXT) == 10
    assert retention.get_policy(c.home).days_for(DataClass.FREE_TEXT) == 30


def test_the_purge_applies_each_colleges_policy_to_its_students(colleges):
    c = colleges
    _season(c)
    result = retention.purge(at(date(2021, 1, 1)))
    assert result.counts[DataClass.STATUSES] > 0
    assert _statuses(c.own_student) == 0
    assert _statuses(c.foreign_student) == 1  # their emergency goes on
    purges = db.session.scalars(select(RetentionPurge)).all()
    assert [p.college_id for p in purges] == [c.home.id]
    # The numbers kept are the home college's counsellors' only.
    kept = set(db.session.scalars(select(RetainedDayTotals.counsellor_id)))
    assert c.foreign_counsellor.id not in kept and c.counsellor.id in kept
    assert retention.kept_day_totals(DAY, c.elsewhere) is None
    # Once the other college's emergency ends too, theirs go, and only theirs are counted.
    retention.save_policy(c.foreign_admin, emergency_ended_on=ENDED, retention_days=30,
                          class_days={}, now=at(ENDED), version=None)
    db.session.commit()
    again = retention.purge(at(date(2021, 1, 2)))
    assert _statuses(c.foreign_student) == 0
    assert again.counts[DataClass.STATUSES] == result.counts[DataClass.STATUSES]
    assert sorted(p.college_id for p in db.session.scalars(select(RetentionPurge))) == sorted(
        [c.home.id, c.elsewhere.id])


def test_a_dry_run_of_one_college_counts_its_students_only(colleges):
    c = colleges
    _season(c)
    retention.save_policy(c.foreign_admin, emergency_ended_on=ENDED, retention_days=30,
                          class_days={}, now=at(ENDED))
    db.session.commit()
    home = retention.purge(at(date(2021, 1, 1)), dry_run=True, college=c.home)
    both = retention.purge(at(date(2021, 1, 1)), dry_run=True)
    assert both.counts[DataClass.STATUSES] == 2 * home.counts[DataClass.STATUSES] > 0


def test_each_colleges_page_shows_its_own_policy_and_purges(client, auth, colleges):
    c = colleges
    _season(c)
    retention.purge(at(date(2021, 1, 1)))
    db.session.commit()
    auth.login(c.foreign_deputy)
    page = client.get("/retention/").text
    assert 'value="2020-03-31"' not in page  # the home college's emergency end
    assert "2021-01-01" not in page  # nor its purge
    auth.logout()
    auth.login(c.deputy)
    page = client.get("/retention/").text
    assert 'value="2020-03-31"' in page and "2021-01-01" in page
    auth.logout()
    # The university admin manages colleges and their admins, not a college's data.
    auth.login(c.university_admin)
    assert client.get("/retention/").status_code == 404
    assert client.post("/retention/", data={"retention_days": "5"}).status_code == 404
    assert retention.get_policy(c.home).retention_days == 30


def test_the_landing_warns_of_the_own_colleges_coming_purge_only(colleges):
    c = colleges
    _season(c)
    soon = at(ENDED + timedelta(days=20))
    assert retention.upcoming_warning(c.deputy, soon) is not None
    assert retention.upcoming_warning(c.foreign_deputy, soon) is None
