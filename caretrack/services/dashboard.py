"""The college dashboard's numbers, each aggregated in SQL over the students a user may see."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, case, delete, event, func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from caretrack.access import (
    counsellor_accounts,
    current_records,
    sees_whole_college,
    student_filter,
)
from caretrack.extensions import db
from caretrack.models import (
    ActivityDay,
    CareCategory,
    CategoryAssignment,
    College,
    ConcernLevel,
    EntryKind,
    Programme,
    Recheck,
    RecheckState,
    Referral,
    ReferralState,
    Student,
    TimelineEntry,
    User,
    now_utc,
)
from caretrack.services.clock import day_bounds, local_today
from caretrack.services.students import category_counts

#: Open referrals by age: (key, lower bound in days, upper bound in days or None).
REFERRAL_AGES = [("lt1", 0, 1), ("1to3", 1, 3), ("3to7", 3, 7), ("ge7", 7, None)]
ACTIVITY_DAYS = 30


@dataclass
class Activity:
    days: list[date]
    follow_ups: list[int]
    deliveries: list[int]
    new_categories: list[int]
    #: The last day, still under way: its counts run only until ``as_of``.
    partial_day: date | None = None
    as_of: datetime | None = None

    def is_partial(self, day: date) -> bool:
        """Whether ``day``'s counts are of a day not over yet (today so far)."""
        return day == self.partial_day


@dataclass
class Dashboard:
    total: int
    by_category: list[tuple[CareCategory, int]]
    by_programme: list[tuple[str, int]]
    by_concern: list[tuple[str, int]]
    activity: Activity
    overdue_by_counsellor: list[tuple[User, int]]
    referrals_by_age: list[tuple[str, int]]


def _counts_by(column, user: User) -> dict:
    rows = db.session.execute(
        select(column, func.count(Student.id)).where(student_filter(user)).group_by(column)
    ).all()
    return dict(rows)


def _day_sums(column, days: list[date]) -> tuple[list, object]:
    """One CASE sum per college day of ``column``, and the condition of the days' span: exact
    in any timezone, on SQLite and PostgreSQL alike."""
    sums = []
    for day in days:
        start, end = day_bounds(day)
        within = (column >= start) & (column < end)
        sums.append(func.coalesce(func.sum(case((within, 1), else_=0)), 0))
    first, _ = day_bounds(days[0])
    _, last = day_bounds(days[-1])
    return sums, (column >= first) & (column < last)


def _per_day(column, days: list[date], *conditions) -> list[int]:
    """Count rows per college day, in one query."""
    sums, span = _day_sums(column, days)
    row = db.session.execute(select(*sums).where(span, *conditions)).one()
    return [int(v) for v in row]


def activity(user: User, now: datetime) -> Activity:
    """The 30 days of follow-ups, deliveries and care categories given, over the students the
    user may see. Each college's past days are kept (:func:`keep_past_activity`): for the
    whole college only today is counted then (the same three queries either way)."""
    today = local_today(now)
    days = [today - timedelta(days=n) for n in range(ACTIVITY_DAYS - 1, -1, -1)]
    if sees_whole_college(user) and user.college_id is not None:
        kept = _kept_days(user.college_id, days[0], today)
        if len(kept) == len(days) - 1:
            now_counts = _count_days(user, [today])
            past = [kept[d] for d in days[:-1]]
            return Activity(
                days=days,
                follow_ups=[p.follow_ups for p in past] + now_counts.follow_ups,
                deliveries=[p.deliveries for p in past] + now_counts.deliveries,
                new_categories=[p.new_categories for p in past] + now_counts.new_categories,
                partial_day=today, as_of=now,
            )
    counted = _count_days(user, days)
    counted.partial_day, counted.as_of = today, now
    return counted


def _only_college() -> bool:
    """Whether the installation has one college (one query)."""
    return db.session.scalar(select(func.count(College.id))) <= 1


def _count_days(user: User, days: list[date]) -> Activity:
    """The activity of ``days`` over the students ``user`` may see."""
    whole = sees_whole_college(user) and _only_college()

    def visible(student_id):
        # Every row is a visible student's for the deputy secretary of the only college:
        # matching the rows against the whole roster would double the time of the counts.
        if whole:
            return true()
        return student_id.in_(select(Student.id).where(student_filter(user)))

    def entries_of(kind):
        return _per_day(
            TimelineEntry.occurred_at, days, TimelineEntry.kind == kind,
            visible(TimelineEntry.student_id),
        )

    return Activity(
        days=days,
        follow_ups=entries_of(EntryKind.FOLLOW_UP),
        deliveries=entries_of(EntryKind.DELIVERY),
        new_categories=_per_day(
            CategoryAssignment.created_at, days, visible(CategoryAssignment.student_id)
        ),
    )


def _per_day_by_college(column, student_id, days: list[date], *conditions
                        ) -> dict[int, list[int]]:
    """:func:`_per_day` for each college (of the rows' students), in one query."""
    sums, span = _day_sums(column, days)
    rows = db.session.execute(
        select(Student.college_id, *sums).join(Student, Student.id == student_id)
        .where(span, current_records(), *conditions).group_by(Student.college_id)
    ).all()
    return {row[0]: [int(v) for v in row[1:]] for row in rows}


@lru_cache(maxsize=1)
def _kept_query():
    return select(ActivityDay).where(ActivityDay.college_id == bindparam("college"),
                                     ActivityDay.day >= bindparam("first"),
                                     ActivityDay.day < bindparam("today"))


def _kept_days(college_id: int, first: date, today: date) -> dict[date, ActivityDay]:
    return {row.day: row for row in db.session.scalars(
        _kept_query(), {"college": college_id, "first": first, "today": today})}


def keep_past_activity(today: date) -> int:
    """Count and keep each college's activity of the dashboard's past days that are not kept
    yet (the day that just ended, usually; every day of a college added since); return how
    many past days were counted. Run by the day's first status write and ``flask daily
    rebuild-tallies``; the caller commits. Five queries and the rows written, whatever the
    number of colleges."""
    first = today - timedelta(days=ACTIVITY_DAYS - 1)
    past = [first + timedelta(days=n) for n in range(ACTIVITY_DAYS - 1)]
    kept = set(db.session.execute(select(ActivityDay.college_id, ActivityDay.day).where(
        ActivityDay.day >= first, ActivityDay.day < today)).tuples())
    colleges = list(db.session.scalars(select(College.id)))
    wanted = [(college_id, day) for college_id in colleges for day in past
              if (college_id, day) not in kept]
    if not wanted:
        return 0
    missing = sorted({day for _, day in wanted})
    follow_ups, deliveries = (
        _per_day_by_college(TimelineEntry.occurred_at, TimelineEntry.student_id, missing,
                            TimelineEntry.kind == kind)
        for kind in (EntryKind.FOLLOW_UP, EntryKind.DELIVERY))
    categories = _per_day_by_college(CategoryAssignment.created_at,
                                     CategoryAssignment.student_id, missing)
    nothing = [0] * len(missing)
    position = {day: n for n, day in enumerate(missing)}
    try:
        with db.session.begin_nested():  # another write may keep them first
            db.session.add_all([
                ActivityDay(college_id=college_id, day=day,
                            follow_ups=follow_ups.get(college_id, nothing)[position[day]],
                            deliveries=deliveries.get(college_id, nothing)[position[day]],
                            new_categories=categories.get(college_id, nothing)[position[day]])
                for college_id, day in wanted])
    except IntegrityError:
        return 0
    return len(missing)


def _forget_backdated_days(session: Session, flush_context, instances) -> None:
    """A follow-up or delivery recorded as having happened on a past day changes that day's
    kept activity: clear it (counted again at the next visit), in the same flush."""
    days = {local_today(o.occurred_at) for o in session.new
            if isinstance(o, TimelineEntry) and o.occurred_at is not None
            and o.kind in (EntryKind.FOLLOW_UP, EntryKind.DELIVERY)}
    if days:
        today = local_today(now_utc())
        past = [d for d in days if d < today]
        if past:
            session.execute(delete(ActivityDay.__table__).where(
                ActivityDay.__table__.c.day.in_(past)))


event.listen(Session, "before_flush", _forget_backdated_days)


def entries_query(user: User, kind: str, day: date):
    """The timeline entries of ``kind`` recorded on the college's ``day`` for visible students,
    newest first: the list behind an activity number."""
    start, end = day_bounds(day)
    return (
        select(TimelineEntry)
        .join(Student, Student.id == TimelineEntry.student_id)
        .where(
            TimelineEntry.kind == kind,
            TimelineEntry.occurred_at >= start,
            TimelineEntry.occurred_at < end,
            student_filter(user),
        )
        .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
    )


def new_assignments_query(user: User, day: date):
    """Care categories given on the college's ``day`` to visible students."""
    start, end = day_bounds(day)
    return (
        select(CategoryAssignment)
        .join(Student, Student.id == CategoryAssignment.student_id)
        .where(
            CategoryAssignment.created_at >= start,
            CategoryAssignment.created_at < end,
            student_filter(user),
        )
        .order_by(CategoryAssignment.created_at.desc(), CategoryAssignment.id.desc())
    )


def overdue_by_counsellor(user: User, now: datetime) -> list[tuple[User, int]]:
    """Open re-checks due before today, per owning counsellor (only counsellors with some)."""
    rows = db.session.execute(
        select(User, func.count(Recheck.id))
        .join(Recheck, Recheck.owner_id == User.id)
        .join(Student, Student.id == Recheck.student_id)
        .where(
            Recheck.state == RecheckState.OPEN,
            Recheck.due_on < local_today(now),
            student_filter(user),
            counsellor_accounts(user, active_only=False),
        )
        .group_by(User.id)
        .order_by(func.count(Recheck.id).desc(), User.display_name)
    ).all()
    return [(u, n) for u, n in rows]


def referrals_by_age(user: User, now: datetime) -> list[tuple[str, int]]:
    """Open or accepted referrals by how long ago they were made."""
    columns = []
    for _key, low, high in REFERRAL_AGES:
        condition = Referral.created_at <= now - timedelta(days=low)
        if high is not None:
            condition = condition & (Referral.created_at > now - timedelta(days=high))
        columns.append(func.coalesce(func.sum(case((condition, 1), else_=0)), 0))
    row = db.session.execute(
        select(*columns)
        .join(Student, Student.id == Referral.student_id)
        .where(
            Referral.state.in_((ReferralState.OPEN, ReferralState.ACCEPTED)),
            student_filter(user),
        )
    ).one()
    return [(key, int(n)) for (key, _, _), n in zip(REFERRAL_AGES, row, strict=True)]


def build(user: User, now: datetime) -> Dashboard:
    """Every number of the dashboard for ``user`` (the deputy secretary: the whole college;
    a counsellor: their caseload)."""
    programmes = _counts_by(Student.programme, user)
    concerns = _counts_by(Student.concern_level, user)
    return Dashboard(
        total=sum(programmes.values()),
        by_category=category_counts(user),
        by_programme=[(p.value, programmes.get(p.value, 0)) for p in Programme],
        by_concern=[(c.value, concerns.get(c.value, 0)) for c in ConcernLevel],
        activity=activity(user, now),
        overdue_by_counsellor=overdue_by_counsellor(user, now),
        referrals_by_age=referrals_by_age(user, now),
    )
