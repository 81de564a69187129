"""The demo college's three weeks of daily reports and sign-offs: late, zero and returned
reports, every past day's chain done, and a morning under way."""

import random
from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from caretrack.demo import DemoContext
from caretrack.demo import daily as daily_demo
from caretrack.demo.college import SEED, build_college
from caretrack.extensions import db
from caretrack.models import (
    AuditEvent,
    CollegeSignOff,
    DailyReport,
    DailyStatus,
    Student,
    TimelineEntry,
    User,
)
from caretrack.services import daily


def _league() -> User:
    """The demo college's league secretary (the board is theirs: they approve the reports)."""
    return db.session.scalars(select(User).where(User.username == "league")).one()


def test_demo_has_weeks_of_daily_reports(app):
    # 10:30 in Beijing on 3 March 2020.
    now = datetime(2020, 3, 3, 2, 30, tzinfo=UTC)
    ctx = DemoContext(rng=random.Random(SEED), today=date(2020, 3, 3), now=now)
    build_college(ctx)
    daily_demo.seed(ctx)
    db.session.commit()

    reports = db.session.scalars(select(DailyReport)).all()
    days = {r.day for r in reports}
    assert min(days) == date(2020, 2, 12) and max(days) == date(2020, 3, 3)
    assert any(r.late for r in reports) and any(r.is_zero for r in reports)
    # Some were returned by the league secretary, corrected and approved.
    assert any(r.resubmitted_at and r.state == "approved" for r in reports)
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "daily_report.return", AuditEvent.user_id == _league().id)) > 0
    past = [r for r in reports if r.day < date(2020, 3, 3)]
    assert {r.state for r in past} == {"approved"}
    assert {r.reviewed_by_id for r in past} == {_league().id}
    assert db.session.scalar(select(func.count(TimelineEntry.id)).where(
        TimelineEntry.kind == "status_change")) > 20

    # Every past day is complete and signed off; today is under way.
    assert daily.board(date(2020, 3, 2), now, _league()).ready
    sign_offs = db.session.scalars(select(CollegeSignOff)).all()
    assert sorted(s.day for s in sign_offs) == sorted(
        {r.day for r in reports if r.day < date(2020, 3, 3)})
    assert all(s.stage == "done" and s.sent_at for s in sign_offs)
    today = daily.board(date(2020, 3, 3), now, _league())
    states = Counter(row.status for row in today.rows)
    assert states["missing"] >= 1 and not today.ready
    counsellor1 = db.session.scalars(select(User).where(User.username == "counsellor1")).one()
    assert daily.get_report(counsellor1.id, date(2020, 3, 3)) is None
    mine = daily.caseload_totals(counsellor1, date(2020, 3, 3))
    assert 0 < mine.missing < mine.students
    assert db.session.scalar(select(func.count(DailyStatus.id))) > 20 * 2400
    assert db.session.scalar(select(func.count(Student.id))) == 2458
