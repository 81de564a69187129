"""The college dashboard: its numbers equal independent counts, and stay cheap to compute."""

import json
import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import (
    CareCategory,
    CategoryAssignment,
    EntryKind,
    Recheck,
    Referral,
    Student,
    TimelineEntry,
    User,
    now_utc,
)
from caretrack.services import dashboard
from caretrack.services.cases import assign_category
from caretrack.services.clock import day_bounds, local_today
from caretrack.services.timeline import add_entry
from tests import factories
from tests.helpers import count_queries, text_of


def _number(body: str, key: str) -> int:
    return int(re.search(rf'data-number="{re.escape(key)}">(\d+)<', body).group(1))


def test_dashboard_numbers_equal_independent_counts_for_the_demo(demo, client, auth):
    deputy = db.session.scalars(select(User).where(User.username == "deputy")).one()
    counsellor = db.session.scalars(select(User).where(User.username == "counsellor2")).one()
    now = now_utc()
    # The demo has three colleges: the deputy's board counts 经管学院's students only.
    mine_only = Student.college_id == deputy.college_id

    board = dashboard.build(deputy, now)
    assert board.total == 2458
    for category, count in board.by_category:
        expected = db.session.scalar(select(func.count(CategoryAssignment.student_id.distinct()))
                                     .join(Student, Student.id == CategoryAssignment.student_id)
                                     .where(CategoryAssignment.category_id == category.id,
                                            CategoryAssignment.ended_on.is_(None), mine_only))
        assert count == expected, category.code
    for programme, count in board.by_programme:
        assert count == db.session.scalar(
            select(func.count()).select_from(Student).where(Student.programme == programme,
                                                            mine_only))
    for level, count in board.by_concern:
        assert count == db.session.scalar(
            select(func.count()).select_from(Student).where(Student.concern_level == level,
                                                            mine_only))
    today = local_today(now)
    start, _ = day_bounds(today - timedelta(days=29))
    _, end = day_bounds(today)
    follow_ups = db.session.scalar(select(func.count()).select_from(TimelineEntry)
                                   .join(Student, Student.id == TimelineEntry.student_id).where(
        TimelineEntry.kind == EntryKind.FOLLOW_UP, TimelineEntry.occurred_at >= start,
        TimelineEntry.occurred_at < end, mine_only))
    assert sum(board.activity.follow_ups) == follow_ups
    overdue = dict(db.session.execute(
        select(Recheck.owner_id, func.count()).join(Student, Student.id == Recheck.student_id)
        .where(Recheck.state == "open", Recheck.due_on < today, mine_only)
        .group_by(Recheck.owner_id)).all())
    assert {u.id: n for u, n in board.overdue_by_counsellor} == overdue
    active = db.session.scalar(select(func.count()).select_from(Referral)
                               .join(Student, Student.id == Referral.student_id).where(
        Referral.state.in_(("open", "accepted")), mine_only))
    assert sum(n for _, n in board.referrals_by_age) == active

    mine = dashboard.build(counsellor, now)
    assert mine.total == db.session.scalar(select(func.count()).select_from(Student).where(
        Student.counsellor_id == counsellor.id))
    assert sum(n for _, n in mine.by_programme) == mine.total
    assert [u.id for u, _ in mine.overdue_by_counsellor] in ([], [counsellor.id])

    auth.login(deputy.username, "caretrack-demo")
    body = client.get("/dashboard").get_data(as_text=True)
    hubei = db.session.scalars(select(CareCategory).where(CareCategory.code == "hubei")).one()
    shown = _number(body, "category-hubei")
    assert shown == dict((c.code, n) for c, n in board.by_category)["hubei"]
    listed = text_of(client.get(f"/students/?category={hubei.id}"))
    assert f"{shown} 名学生" in listed  # the number links to the list it counts


def test_counsellor_dashboard_counts_only_their_caseload(client, auth, college):
    category = factories.CategoryFactory(code="hubei")
    assign_category(college.own_student, category, college.counsellor, started_on=date.today())
    assign_category(college.other_student, category, college.other_counsellor,
                    started_on=date.today())
    db.session.commit()
    auth.login(college.counsellor)
    body = client.get("/dashboard").get_data(as_text=True)
    assert _number(body, "category-hubei") == 1
    assert _number(body, "programme-undergraduate") == 1  # own_student; graduate is a master
    assert "我的学生数据看板" in body


def test_activity_numbers_link_to_their_entries(client, auth, college):
    now = datetime.now(UTC)
    add_entry(college.own_student, EntryKind.FOLLOW_UP, college.counsellor, body="电话", now=now,
              details={"channel": "phone", "reached": True, "health": "normal"})
    add_entry(college.other_student, EntryKind.FOLLOW_UP, college.other_counsellor, body="微信",
              now=now, details={"channel": "wechat", "reached": True, "health": "normal"})
    db.session.commit()
    auth.login(college.counsellor)
    board = dashboard.build(college.counsellor, now)
    assert board.activity.follow_ups[-1] == 1
    page = text_of(client.get(f"/dashboard/activity/follow_up?day={local_today(now)}"))
    assert "陈小明" in page and "刘小红" not in page


def test_dashboard_queries_do_not_grow_with_data(client, auth, college):
    category = factories.CategoryFactory()
    db.session.commit()
    auth.login(college.deputy)

    def measure(n):
        for student in factories.StudentFactory.create_batch(n, counsellor=college.counsellor):
            assign_category(student, category, college.counsellor, started_on=date.today())
            add_entry(student, EntryKind.DELIVERY, college.counsellor, body="口罩")
        db.session.commit()
        with count_queries() as counter:
            assert client.get("/dashboard").status_code == 200
        return counter.count

    assert measure(3) == measure(60)


def test_todays_partial_day_is_drawn_and_listed_as_so_far(client, auth, college):
    """Today is not over: the chart marks its point apart and the table says "so far", so an
    empty morning does not read as a fall to zero."""
    auth.login(college.counsellor)
    body = client.get("/dashboard").get_data(as_text=True)
    data = json.loads(re.search(
        r'<script type="application/json" id="dashboard-data">(.*?)</script>', body, re.S
    ).group(1))
    labels = data["activity"]["labels"]
    assert data["activity"]["partialIndex"] == len(labels) - 1 == 29
    assert labels[-1].endswith("（今日截至目前）") and "今日" not in labels[-2]
    page = text_of(client.get("/dashboard"))
    assert "今日（截至" in page
    assert body.count("data-partial-day") == 1
    english = text_of(client.get("/dashboard?lang=en"))
    assert "today (so far, until" in english
