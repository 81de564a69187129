"""The lists of re-checks: the filtered list, the deputy secretary's count per counsellor and
the counsellor's landing-page worklist."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, case, func, select

from caretrack.access import counsellor_accounts, student_filter
from caretrack.extensions import db
from caretrack.models import Recheck, RecheckState, Student, User
from caretrack.services.clock import local_today
from caretrack.services.rechecks import on_own_list, with_student
from caretrack.services.students import has_active_category

#: Days ahead that the landing page shows after today.
UPCOMING_DAYS = 7


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
    today = local_today(now)
    query = with_student().where(student_filter(user))
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


def counts_by_counsellor(user: User, now: datetime) -> list[CounsellorLoad]:
    """Return every active counsellor's overdue, due-today and open re-checks (of the
    user's college), in one query."""
    today = local_today(now)
    # The open re-checks counted per counsellor first (as many rows as open re-checks), then
    # joined to every counsellor: not every student of the college joined to their re-checks.
    loads = (
        select(
            Student.counsellor_id.label("counsellor_id"),
            func.count(case((Recheck.due_on < today, Recheck.id))).label("overdue"),
            func.count(case((Recheck.due_on == today, Recheck.id))).label("due_today"),
            func.count(Recheck.id).label("open"),
        )
        .select_from(Recheck)
        .join(Student, Student.id == Recheck.student_id)
        .where(Recheck.state == RecheckState.OPEN)
        .group_by(Student.counsellor_id)
        .subquery()
    )
    overdue = func.coalesce(loads.c.overdue, 0)
    rows = db.session.execute(
        select(User.id, User.display_name, overdue, func.coalesce(loads.c.due_today, 0),
               func.coalesce(loads.c.open, 0))
        .select_from(User)
        .outerjoin(loads, loads.c.counsellor_id == User.id)
        .where(counsellor_accounts(user))
        .order_by(overdue.desc(), User.id)
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
    #: The days ahead summarised: (day, open re-checks due that day), for the landing page.
    upcoming_by_day: list[tuple[date, int]] = field(default_factory=list)

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


def worklist(user: User, now: datetime, *, limit: int = 30,
             upcoming_rows: bool = True) -> Worklist:
    """Return the user's open re-checks overdue, due today and in the next days (at most
    ``limit`` of each, with the full counts), in four queries whatever their number. Without
    ``upcoming_rows`` the days ahead are only counted, day by day (the landing page)."""
    today = local_today(now)
    horizon = today + timedelta(days=UPCOMING_DAYS)
    mine = and_(on_own_list(user), Recheck.state == RecheckState.OPEN)
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
                with_student().where(mine, *conditions).order_by(*ordered).limit(limit)
            ).unique()
        )

    return Worklist(
        today=today,
        overdue=section(Recheck.due_on < today),
        due_today=section(Recheck.due_on == today),
        upcoming=section(Recheck.due_on > today, Recheck.due_on <= horizon)
        if upcoming_rows else [],
        overdue_count=counts[0],
        due_today_count=counts[1],
        upcoming_count=counts[2],
        upcoming_by_day=[] if upcoming_rows else [tuple(row) for row in db.session.execute(
            select(Recheck.due_on, func.count(Recheck.id))
            .join(Student, Student.id == Recheck.student_id)
            .where(mine, Recheck.due_on > today, Recheck.due_on <= horizon)
            .group_by(Recheck.due_on).order_by(Recheck.due_on))],
    )
