"""Re-checks: the scheduling rules, as functions of ``now``, and the changes and lists they make.

Rules:
- adding a category with a cadence schedules a re-check, unless one is open on or before that day;
- a category with an isolation window schedules a re-check on the day the window ends;
- logging a follow-up completes the open re-checks due on or before its day and schedules the
  next one "in N days" (N pre-filled by :func:`suggested_interval`); the new one replaces the
  open rhythm re-checks (a cadence's or an earlier follow-up's) due later;
- a re-check can be rescheduled or cancelled, with a reason; both land on the timeline.

"Today" and "overdue" are the college's (``CARETRACK_TIMEZONE``): see :mod:`clock`.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, func, select, update
from sqlalchemy.orm import contains_eager, joinedload
from sqlalchemy.sql.elements import ColumnElement

from caretrack.access import student_filter
from caretrack.extensions import db
from caretrack.labels import label
from caretrack.models import (
    CareCategory,
    CategoryAssignment,
    EntryKind,
    Recheck,
    RecheckOrigin,
    RecheckState,
    Role,
    Student,
    TimelineEntry,
    User,
    now_utc,
)
from caretrack.models.user import new_token
from caretrack.services.clock import local_today
from caretrack.services.mail import build_message, send_once
from caretrack.services.timeline import add_entry, check_not_recorded

#: Origins of the regular rhythm: a follow-up's next re-check replaces open ones due later.
RHYTHM_ORIGINS = (RecheckOrigin.CADENCE, RecheckOrigin.FOLLOW_UP)
#: Days ahead that the landing page shows after today.
UPCOMING_DAYS = 7
#: Longest "check again in N days" a follow-up or a re-check may ask for.
MAX_INTERVAL_DAYS = 365


class RecheckError(ValueError):
    """A change the re-check rules refuse; ``code`` names the rule, the view translates it."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# -- pure rules -------------------------------------------------------------------------------


def shortest_cadence(categories: list[CareCategory]) -> int | None:
    """Return the shortest positive re-check cadence among ``categories``, or None."""
    cadences = [c.cadence_days for c in categories if c.cadence_days and c.cadence_days > 0]
    return min(cadences) if cadences else None


def suggested_interval(categories: list[CareCategory], *, reached: bool = True) -> int | None:
    """Return the "check again in N days" a follow-up form starts with.

    Not reached: tomorrow (1). Reached: the shortest cadence of the student's active
    categories, or None (no re-check) when none has a cadence.
    """
    if not reached:
        return 1
    return shortest_cadence(categories)


def is_overdue(recheck: Recheck, now: datetime) -> bool:
    """Return whether the re-check is open and due before the college's today."""
    return recheck.state == RecheckState.OPEN and recheck.due_on < local_today(now)


def is_due_today(recheck: Recheck, now: datetime) -> bool:
    """Return whether the re-check is open and due on the college's today."""
    return recheck.state == RecheckState.OPEN and recheck.due_on == local_today(now)


def needs_cadence_recheck(open_due_dates: list[date], due_on: date) -> bool:
    """Return whether a cadence re-check due ``due_on`` is needed, given the open ones' days."""
    return not any(d <= due_on for d in open_due_dates)


def cadence_due_on(assignment: CategoryAssignment, today: date) -> date | None:
    """Return the day a new category's cadence re-check falls on, or None without a cadence.

    Counted from the assignment's start, or from today when it started earlier.
    """
    cadence = assignment.category.cadence_days
    if not cadence or cadence <= 0:
        return None
    return max(assignment.started_on, today) + timedelta(days=cadence)


# -- queries ----------------------------------------------------------------------------------


def open_rechecks(student: Student) -> list[Recheck]:
    """Return the student's open re-checks, soonest first."""
    return list(
        db.session.scalars(
            select(Recheck)
            .options(joinedload(Recheck.category))
            .where(Recheck.student_id == student.id, Recheck.state == RecheckState.OPEN)
            .order_by(Recheck.due_on, Recheck.id)
        )
    )


def active_categories_of(student: Student) -> list[CareCategory]:
    """Return the care categories the student holds now."""
    return list(
        db.session.scalars(
            select(CareCategory)
            .join(CategoryAssignment, CategoryAssignment.category_id == CareCategory.id)
            .where(
                CategoryAssignment.student_id == student.id,
                CategoryAssignment.ended_on.is_(None),
            )
            .order_by(CareCategory.sort_order)
        )
    )


def worklist_filter(user: User) -> ColumnElement[bool]:
    """SQL condition on ``Recheck`` joined to ``Student``: the re-checks on the user's own list.

    A counsellor's are those of the students in their caseload (whoever scheduled them);
    anyone else's are the ones they own among the students they may see.
    """
    if user.role == Role.COUNSELLOR:
        return and_(student_filter(user), Student.counsellor_id == user.id)
    return and_(student_filter(user), Recheck.owner_id == user.id)


def _with_student() -> Select[tuple[Recheck]]:
    return (
        select(Recheck)
        .join(Student, Student.id == Recheck.student_id)
        .options(contains_eager(Recheck.student), joinedload(Recheck.category))
    )


@dataclass
class RecheckFilters:
    """The re-check list's filters, as given in the query string."""

    #: "open", "overdue", "today", "done", "cancelled" or "all".
    state: str = "open"
    due_from: date | None = None
    due_to: date | None = None
    category: int | None = None
    counsellor: int | None = None

    STATES = ("open", "overdue", "today", "done", "cancelled", "all")

    @classmethod
    def from_args(cls, args) -> "RecheckFilters":
        """Read the filters from request arguments; anything malformed is ignored."""

        def as_date(name):
            try:
                return date.fromisoformat(args.get(name, "").strip())
            except ValueError:
                return None

        def as_int(name):
            value = args.get(name, "").strip()
            return int(value) if value.isdigit() else None

        state = args.get("state", "open")
        return cls(
            state=state if state in cls.STATES else "open",
            due_from=as_date("due_from"),
            due_to=as_date("due_to"),
            category=as_int("category"),
            counsellor=as_int("counsellor"),
        )

    def active(self) -> bool:
        """Return whether any filter differs from the default list."""
        return self != RecheckFilters()


def list_query(user: User, filters: RecheckFilters, now: datetime) -> Select[tuple[Recheck]]:
    """Return the re-checks of the students ``user`` may see that match ``filters``."""
    from caretrack.services.students import has_active_category

    today = local_today(now)
    query = _with_student().where(student_filter(user))
    state = filters.state
    if state in ("open", "overdue", "today"):
        query = query.where(Recheck.state == RecheckState.OPEN)
    elif state in ("done", "cancelled"):
        query = query.where(Recheck.state == state)
    if state == "overdue":
        query = query.where(Recheck.due_on < today)
    elif state == "today":
        query = query.where(Recheck.due_on == today)
    if filters.due_from:
        query = query.where(Recheck.due_on >= filters.due_from)
    if filters.due_to:
        query = query.where(Recheck.due_on <= filters.due_to)
    if filters.category is not None:
        query = query.where(has_active_category(filters.category))
    if filters.counsellor is not None:
        query = query.where(Student.counsellor_id == filters.counsellor)
    if state in ("done", "cancelled"):
        return query.order_by(Recheck.closed_at.desc(), Recheck.id.desc())
    if state == "all":
        return query.order_by(Recheck.due_on.desc(), Recheck.id.desc())
    return query.order_by(Recheck.due_on, Student.student_number, Recheck.id)


@dataclass
class CounsellorLoad:
    """One counsellor's open re-checks, as the deputy secretary's list counts them."""

    counsellor_id: int
    name: str
    overdue: int
    due_today: int
    open: int


def counts_by_counsellor(now: datetime) -> list[CounsellorLoad]:
    """Return every active counsellor's overdue, due-today and open re-checks, in one query."""
    today = local_today(now)
    rows = db.session.execute(
        select(
            User.id,
            User.display_name,
            func.count(case((Recheck.due_on < today, Recheck.id))),
            func.count(case((Recheck.due_on == today, Recheck.id))),
            func.count(Recheck.id),
        )
        .select_from(User)
        .outerjoin(Student, Student.counsellor_id == User.id)
        .outerjoin(
            Recheck,
            and_(Recheck.student_id == Student.id, Recheck.state == RecheckState.OPEN),
        )
        .where(User.role == Role.COUNSELLOR, User.active)
        .group_by(User.id, User.display_name)
        .order_by(func.count(case((Recheck.due_on < today, Recheck.id))).desc(), User.id)
    ).all()
    return [CounsellorLoad(*row) for row in rows]


@dataclass
class Worklist:
    """A counsellor's re-checks for the landing page: overdue, due today, the days ahead."""

    today: date
    overdue: list[Recheck]
    due_today: list[Recheck]
    upcoming: list[Recheck]
    overdue_count: int
    due_today_count: int
    upcoming_count: int

    @property
    def upcoming_from(self) -> date:
        """Return the first day of the days ahead."""
        return self.today + timedelta(days=1)

    @property
    def upcoming_to(self) -> date:
        """Return the last day of the days ahead."""
        return self.today + timedelta(days=UPCOMING_DAYS)

    @property
    def student_ids(self) -> list[int]:
        """Return the ids of the students in the three lists."""
        return sorted(
            {r.student_id for r in self.overdue + self.due_today + self.upcoming}
        )


def worklist(user: User, now: datetime, *, limit: int = 30) -> Worklist:
    """Return the user's open re-checks overdue, due today and in the next days (at most
    ``limit`` of each, with the full counts), in four queries whatever their number."""
    today = local_today(now)
    horizon = today + timedelta(days=UPCOMING_DAYS)
    mine = and_(worklist_filter(user), Recheck.state == RecheckState.OPEN)
    counts = db.session.execute(
        select(
            func.count(case((Recheck.due_on < today, Recheck.id))),
            func.count(case((Recheck.due_on == today, Recheck.id))),
            func.count(case((and_(Recheck.due_on > today, Recheck.due_on <= horizon), Recheck.id))),
        )
        .select_from(Recheck)
        .join(Student, Student.id == Recheck.student_id)
        .where(mine)
    ).one()
    ordered = (Recheck.due_on, Student.student_number, Recheck.id)

    def section(*conditions) -> list[Recheck]:
        return list(
            db.session.scalars(
                _with_student().where(mine, *conditions).order_by(*ordered).limit(limit)
            ).unique()
        )

    return Worklist(
        today=today,
        overdue=section(Recheck.due_on < today),
        due_today=section(Recheck.due_on == today),
        upcoming=section(Recheck.due_on > today, Recheck.due_on <= horizon),
        overdue_count=counts[0],
        due_today_count=counts[1],
        upcoming_count=counts[2],
    )


def overdue_count(user: User, now: datetime) -> int:
    """Return the number of the user's own open re-checks due before today."""
    return db.session.scalar(
        select(func.count(Recheck.id))
        .join(Student, Student.id == Recheck.student_id)
        .where(
            worklist_filter(user),
            Recheck.state == RecheckState.OPEN,
            Recheck.due_on < local_today(now),
        )
    )


def has_overdue_recheck(today: date) -> ColumnElement[bool]:
    """SQL condition on ``Student``: the student has an open re-check due before ``today``."""
    return (
        select(Recheck.id)
        .where(
            Recheck.student_id == Student.id,
            Recheck.state == RecheckState.OPEN,
            Recheck.due_on < today,
        )
        .exists()
    )


def calendar_rechecks(user: User) -> list[Recheck]:
    """Return the open re-checks of the user's calendar feed, soonest first."""
    return list(
        db.session.scalars(
            _with_student()
            .where(worklist_filter(user), Recheck.state == RecheckState.OPEN)
            .order_by(Recheck.due_on, Student.student_number, Recheck.id)
        ).unique()
    )


def user_by_calendar_token(token: str) -> User | None:
    """Return the active user whose calendar feed ``token`` names, or None."""
    if not token or len(token) > 64:
        return None
    user = db.session.scalars(select(User).where(User.calendar_token == token)).first()
    return user if user is not None and user.active else None


@dataclass
class Digest:
    """One counsellor's re-checks for the morning email."""

    counsellor: User
    overdue: list[Recheck]
    due_today: list[Recheck]


def digests(day: date) -> list[Digest]:
    """Return, per active counsellor with any, the open re-checks overdue or due on ``day``
    among their students, in two queries."""
    counsellors = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.role == Role.COUNSELLOR, User.active).order_by(User.id)
        )
    }
    due = db.session.scalars(
        _with_student()
        .where(
            Recheck.state == RecheckState.OPEN,
            Recheck.due_on <= day,
            Student.counsellor_id.in_(list(counsellors) or [0]),
        )
        .order_by(Recheck.due_on, Student.student_number, Recheck.id)
    ).unique()
    by_counsellor: dict[int, Digest] = {}
    for recheck in due:
        counsellor_id = recheck.student.counsellor_id
        digest = by_counsellor.setdefault(
            counsellor_id, Digest(counsellors[counsellor_id], [], [])
        )
        (digest.due_today if recheck.due_on == day else digest.overdue).append(recheck)
    return [by_counsellor[i] for i in sorted(by_counsellor)]


def digest_key(counsellor: User, day: date) -> str:
    """Return the key that makes a counsellor's digest for ``day`` go out at most once."""
    return f"recheck-digest:{day.isoformat()}:user:{counsellor.id}"


def compose_digest(digest: Digest, day: date) -> EmailMessage:
    """Write a counsellor's digest email for ``day``, in the counsellor's language."""
    base_url = current_app.config["CARETRACK_BASE_URL"].rstrip("/")
    with force_locale(digest.counsellor.locale or current_app.config["CARETRACK_LOCALE"]):
        locale = str(get_locale())

        def line(recheck: Recheck) -> str:
            student = recheck.student
            parts = [recheck.due_on.isoformat(), f"{student.name} {student.student_number}",
                     label("recheck_origin", recheck.origin)]
            if recheck.category is not None:
                parts.append(recheck.category.name_for(locale))
            if recheck.reason:
                parts.append(recheck.reason.replace("\n", " ")[:120])
            return f"- {' · '.join(parts)}\n  {base_url}/students/{student.id}"

        subject = _(
            "CareTrack %(date)s: %(overdue)d overdue, %(today)d due today",
            date=day.isoformat(), overdue=len(digest.overdue), today=len(digest.due_today),
        )
        lines = [
            _("Hello %(name)s,", name=digest.counsellor.display_name),
            "",
            _("Your re-checks for %(date)s: %(overdue)d overdue, %(today)d due today.",
              date=day.isoformat(), overdue=len(digest.overdue), today=len(digest.due_today)),
        ]
        for title, items in ((_("Overdue"), digest.overdue), (_("Due today"), digest.due_today)):
            if items:
                lines += ["", f"{title} ({len(items)})"] + [line(r) for r in items]
        lines += ["", _("Open CareTrack: %(url)s", url=f"{base_url}/"), ""]
    return build_message(digest.counsellor.email, subject, "\n".join(lines))


def send_digest(digest: Digest, day: date) -> bool:
    """Email a counsellor their digest for ``day`` unless it went out already; return whether
    it was sent now."""
    return send_once(digest_key(digest.counsellor, day), compose_digest(digest, day))


def rechecks_by_student(rechecks: list[Recheck]) -> dict[int, list[Recheck]]:
    """Group re-checks by student id, keeping their order."""
    grouped: dict[int, list[Recheck]] = defaultdict(list)
    for recheck in rechecks:
        grouped[recheck.student_id].append(recheck)
    return grouped


# -- changes ----------------------------------------------------------------------------------


def schedule(
    student: Student,
    *,
    due_on: date,
    reason: str,
    origin: str,
    by: User,
    owner: User | None = None,
    category: CareCategory | None = None,
    now: datetime | None = None,
    timeline: bool = True,
    submission_key: str | None = None,
) -> Recheck:
    """Add an open re-check for the student, owned by their counsellor unless ``owner`` is
    given; recorded on the timeline unless ``timeline`` is false.

    :raise DuplicateSubmission: if ``submission_key`` was recorded already.
    """
    now = now or now_utc()
    check_not_recorded(submission_key)
    recheck = Recheck(
        student_id=student.id,
        student=student,
        owner_id=(owner.id if owner else student.counsellor_id),
        due_on=due_on,
        reason=reason,
        origin=RecheckOrigin(origin),
        state=RecheckState.OPEN,
        category_id=category.id if category else None,
        category=category,
        created_by_id=by.id,
        created_at=now,
    )
    db.session.add(recheck)
    db.session.flush()
    if timeline:
        add_entry(
            student, EntryKind.RECHECK_CHANGE, by, body=reason, occurred_at=now, now=now,
            submission_key=submission_key,
            details={"action": "scheduled", "recheck_id": recheck.id,
                     "due_on": due_on.isoformat(), "origin": str(origin),
                     "category_id": category.id if category else None},
        )
    return recheck


def add_by_hand(
    student: Student,
    by: User,
    *,
    due_on: date,
    reason: str,
    now: datetime | None = None,
    submission_key: str | None = None,
) -> Recheck:
    """Schedule a re-check that the counsellor adds themselves, owned by the student's
    counsellor.

    :raise RecheckError: "in-the-past" if ``due_on`` is before today.
    :raise DuplicateSubmission: if the same form was posted before.
    """
    now = now or now_utc()
    if due_on < local_today(now):
        raise RecheckError("in-the-past")
    return schedule(
        student, due_on=due_on, reason=reason, origin=RecheckOrigin.MANUAL, by=by, now=now,
        submission_key=submission_key,
    )


def on_category_assigned(
    assignment: CategoryAssignment, by: User, now: datetime | None = None
) -> list[Recheck]:
    """Schedule what a new category asks for: its cadence re-check (unless one is open on or
    before that day) and, with an isolation window, a re-check on the day the window ends."""
    now = now or now_utc()
    category = assignment.category
    student = assignment.student
    made = []
    due = cadence_due_on(assignment, local_today(now))
    if due is not None:
        open_dates = [r.due_on for r in open_rechecks(student)]
        if needs_cadence_recheck(open_dates, due):
            made.append(
                schedule(student, due_on=due, reason="", by=by, now=now,
                         origin=RecheckOrigin.CADENCE, category=category)
            )
    if assignment.isolation_ends_on is not None:
        made.append(
            schedule(student, due_on=assignment.isolation_ends_on, reason="", by=by, now=now,
                     origin=RecheckOrigin.ISOLATION, category=category)
        )
    return made


def on_category_ended(
    assignment: CategoryAssignment, by: User, now: datetime | None = None
) -> list[Recheck]:
    """Cancel the open re-check at the end of the ended category's isolation window: ending
    the category was the decision it was there for. Recorded on the timeline."""
    now = now or now_utc()
    ended = [
        r for r in open_rechecks(assignment.student)
        if r.origin == RecheckOrigin.ISOLATION and r.category_id == assignment.category_id
    ]
    for recheck in ended:
        recheck.state = RecheckState.CANCELLED
        recheck.closed_at = now
        add_entry(
            assignment.student, EntryKind.RECHECK_CHANGE, by, occurred_at=now, now=now,
            details={"action": "cancelled", "recheck_id": recheck.id,
                     "due_on": recheck.due_on.isoformat(), "category_ended": True},
        )
    db.session.flush()
    return ended


def on_follow_up(
    student: Student,
    entry: TimelineEntry,
    by: User,
    *,
    check_again_in_days: int | None,
    now: datetime | None = None,
) -> tuple[list[Recheck], Recheck | None]:
    """Complete the student's open re-checks due on or before the follow-up's day, then
    schedule the next one in ``check_again_in_days`` (None or 0: none), which replaces the
    open rhythm re-checks due later. One timeline entry says what happened.

    :raise RecheckError: "interval" if ``check_again_in_days`` is negative or too long.
    :return: the re-checks completed, and the one scheduled (or None).
    """
    now = now or now_utc()
    days = check_again_in_days or 0
    if days < 0 or days > MAX_INTERVAL_DAYS:
        raise RecheckError("interval")
    day = local_today(entry.occurred_at or now)
    completed = []
    for recheck in open_rechecks(student):
        replaced = days and recheck.origin in RHYTHM_ORIGINS and recheck.due_on > day
        if recheck.due_on <= day or replaced:
            recheck.state = RecheckState.DONE
            recheck.completed_entry_id = entry.id
            recheck.closed_at = now
            completed.append(recheck)
    db.session.flush()
    following = None
    if days:
        following = schedule(
            student, due_on=day + timedelta(days=days), reason="",
            origin=RecheckOrigin.FOLLOW_UP, by=by, now=now, timeline=not completed,
        )
    if completed:
        add_entry(
            student, EntryKind.RECHECK_CHANGE, by, occurred_at=entry.occurred_at or now,
            now=now,
            details={
                "action": "completed",
                "entry_id": entry.id,
                "recheck_ids": [r.id for r in completed],
                "due_on": [r.due_on.isoformat() for r in completed],
                "next_recheck_id": following.id if following else None,
                "next_due_on": following.due_on.isoformat() if following else None,
            },
        )
    return completed, following


def reschedule(
    recheck: Recheck,
    by: User,
    *,
    due_on: date,
    reason: str,
    now: datetime | None = None,
    submission_key: str | None = None,
) -> Recheck:
    """Move an open re-check to another day, keeping the day it was due; on the timeline.

    :raise RecheckError: "not-open", "in-the-past" (before today) or "unchanged".
    :raise DuplicateSubmission: if the same form was posted before.
    """
    now = now or now_utc()
    check_not_recorded(submission_key)
    if recheck.state != RecheckState.OPEN:
        raise RecheckError("not-open")
    if due_on < local_today(now):
        raise RecheckError("in-the-past")
    if due_on == recheck.due_on:
        raise RecheckError("unchanged")
    previous = recheck.due_on
    recheck.previous_due_on = previous
    recheck.due_on = due_on
    db.session.flush()
    add_entry(
        recheck.student, EntryKind.RECHECK_CHANGE, by, body=reason, occurred_at=now, now=now,
        submission_key=submission_key,
        details={"action": "rescheduled", "recheck_id": recheck.id,
                 "from": previous.isoformat(), "due_on": due_on.isoformat()},
    )
    return recheck


def cancel(
    recheck: Recheck,
    by: User,
    *,
    reason: str,
    now: datetime | None = None,
    submission_key: str | None = None,
) -> Recheck:
    """Cancel an open re-check with a reason; recorded on the timeline.

    :raise RecheckError: "not-open" if it is done or cancelled already.
    :raise DuplicateSubmission: if the same form was posted before.
    """
    now = now or now_utc()
    check_not_recorded(submission_key)
    if recheck.state != RecheckState.OPEN:
        raise RecheckError("not-open")
    recheck.state = RecheckState.CANCELLED
    recheck.cancel_reason = reason
    recheck.closed_at = now
    db.session.flush()
    add_entry(
        recheck.student, EntryKind.RECHECK_CHANGE, by, body=reason, occurred_at=now, now=now,
        submission_key=submission_key,
        details={"action": "cancelled", "recheck_id": recheck.id,
                 "due_on": recheck.due_on.isoformat()},
    )
    return recheck


def regenerate_calendar_token(user: User) -> str:
    """Give the user a new calendar feed token; the old feed URL stops answering."""
    user.calendar_token = new_token()
    db.session.flush()
    return user.calendar_token


def follow_counsellor(student_ids: list[int]) -> None:
    """Give the open re-checks of these students to each student's current counsellor (after
    a roster change moved them to another caseload)."""
    if not student_ids:
        return
    current = (
        select(Student.counsellor_id).where(Student.id == Recheck.student_id).scalar_subquery()
    )
    for start in range(0, len(student_ids), 1000):
        db.session.execute(
            update(Recheck)
            .where(
                Recheck.state == RecheckState.OPEN,
                Recheck.student_id.in_(student_ids[start:start + 1000]),
            )
            .values(owner_id=current)
            .execution_options(synchronize_session=False)
        )
