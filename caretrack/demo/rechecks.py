"""The demo college's re-checks on the day the demo is seeded, through the services.

After the timeline's history, each counsellor has caught up with most students (a follow-up in
the last days, whose "check again in N days" falls today or later), leaves a few overdue, has
moved some re-checks, cancelled others and added a few by hand: every state is in the demo,
with some re-checks overdue today.
"""

import random
from datetime import datetime, time, timedelta

from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import Recheck, RecheckState, Student
from caretrack.services import entries, rechecks
from caretrack.services.clock import day_bounds, local_datetime, local_today
from caretrack.services.grouping import group_by_student

SEED = 20200304
#: Students per counsellor left with an overdue re-check.
OVERDUE_LEFT = (4, 7)
RESCHEDULE_REASONS = [
    "学生在外实习，约好周末再联系",
    "家长来电说明情况，约好晚两天回访",
    "学生正在准备线上考试，推迟联系",
]
CANCEL_REASONS = [
    "学生已解除隔离，情况稳定",
    "已由导师跟进，暂不需要单独复查",
    "重复提醒，已合并",
]
MANUAL_REASONS = [
    "约好视频通话，确认返京计划",
    "提醒学生提交健康打卡",
    "与家长确认家中老人身体情况",
]


def _open_by_student(counsellor) -> dict[int, list[Recheck]]:
    rows = db.session.scalars(
        select(Recheck)
        .join(Student, Student.id == Recheck.student_id)
        .where(Student.counsellor_id == counsellor.id, Recheck.state == RecheckState.OPEN)
        .order_by(Recheck.due_on, Recheck.id)
    )
    return group_by_student(rows)


def _catch_up(rng, counsellor, students, today) -> None:
    """Log a follow-up in the last days for each student with an overdue re-check; for a few
    of them, the "check again" it asked for has passed too, so they are overdue by 1-3 days."""
    overdue = [
        (student_id, items) for student_id, items in _open_by_student(counsellor).items()
        if items[0].due_on < today
    ]
    rng.shuffle(overdue)
    keep = rng.randint(*OVERDUE_LEFT)
    for n, (student_id, items) in enumerate(overdue):
        student = students[student_id]
        reached = rng.random() > 0.1
        interval = rechecks.suggested_interval(rechecks.active_categories_of(student),
                                               reached=reached)
        if n < keep:
            if not interval:
                continue
            day = today - timedelta(days=interval + rng.randint(1, 3))
        else:
            first_day = max(items[0].due_on, today - timedelta(days=interval or 3))
            last_day = today - timedelta(days=1)
            first_day = min(first_day, last_day)
            day = first_day + timedelta(days=rng.randint(0, (last_day - first_day).days))
        at = local_datetime(day, time(9, 0)) + timedelta(minutes=rng.randint(0, 600))
        entries.record_follow_up(
            student, counsellor, channel=rng.choice(["phone", "wechat", "sms", "video"]),
            reached=reached, health="normal" if reached else "unknown",
            body="电话联系，学生情况正常，家人身体健康" if reached else "电话未接通，已发短信",
            occurred_at=at, check_again_in_days=interval, now=at,
        )


def _earlier_today(now: datetime, hours: int) -> datetime:
    start, _ = day_bounds(local_today(now))
    return min(now, max(now - timedelta(hours=hours), start + timedelta(minutes=1)))


def seed(ctx) -> None:
    """Bring the demo's re-checks to the morning of ``ctx.now``, in every state."""
    rng = random.Random(SEED)
    for college in ctx.colleges:
        _seed_college(rng, college, ctx.now)
    db.session.flush()


def _seed_college(rng, college, now: datetime) -> None:
    today = local_today(now)
    students = {s.id: s for s in college.students}
    for counsellor in college.counsellors:
        _catch_up(rng, counsellor, students, today)

        # Re-checks added by hand: one already overdue, two in the days ahead.
        mine = [s for s in college.students if s.counsellor_id == counsellor.id]
        three_days_ago = local_datetime(today - timedelta(days=3), time(16, 0))
        rechecks.add_by_hand(
            rng.choice(mine), counsellor, due_on=today - timedelta(days=1),
            reason=rng.choice(MANUAL_REASONS), now=three_days_ago,
        )
        for _ in range(2):
            rechecks.add_by_hand(
                rng.choice(mine), counsellor, due_on=today + timedelta(days=rng.randint(1, 5)),
                reason=rng.choice(MANUAL_REASONS), now=_earlier_today(now, 3),
            )

        # Moved and cancelled ones, among those not overdue.
        ahead = [
            r for items in _open_by_student(counsellor).values() for r in items
            if r.due_on >= today
        ]
        rng.shuffle(ahead)
        for recheck in ahead[:2]:
            rechecks.reschedule(
                recheck, counsellor, due_on=recheck.due_on + timedelta(days=rng.randint(2, 4)),
                reason=rng.choice(RESCHEDULE_REASONS), now=_earlier_today(now, 2),
            )
        for recheck in ahead[2:4]:
            rechecks.cancel(recheck, counsellor, reason=rng.choice(CANCEL_REASONS),
                            now=_earlier_today(now, 1))
