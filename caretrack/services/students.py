"""Caseload queries: the filtered student list, counts per category, a student's categories
and referrals."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload

from caretrack.access import student_filter, visible_students
from caretrack.extensions import db
from caretrack.models import CareCategory, CategoryAssignment, Referral, Student, User, now_utc
from caretrack.services.clock import local_today
from caretrack.services.grouping import group_by_student
from caretrack.services.rechecks import has_overdue_recheck


@dataclass
class CaseloadFilters:
    """The caseload list's filters, as given in the query string."""

    q: str = ""
    category: int | None = None
    concern: str = ""
    programme: str = ""
    cohort: int | None = None
    class_name: str = ""
    on_campus: bool | None = None
    counsellor: int | None = None
    #: "overdue": only students with an open re-check due before today.
    recheck: str = ""

    @classmethod
    def from_args(cls, args) -> "CaseloadFilters":
        def as_int(name):
            value = args.get(name, "").strip()
            return int(value) if value.isdigit() else None

        on_campus = {"1": True, "0": False}.get(args.get("on_campus", ""))
        return cls(
            q=args.get("q", "").strip()[:100],
            category=as_int("category"),
            concern=args.get("concern", "").strip(),
            programme=args.get("programme", "").strip(),
            cohort=as_int("cohort"),
            class_name=args.get("class_name", "").strip()[:100],
            on_campus=on_campus,
            counsellor=as_int("counsellor"),
            recheck="overdue" if args.get("recheck") == "overdue" else "",
        )

    def active(self) -> bool:
        return any(
            v not in ("", None)
            for v in (self.q, self.category, self.concern, self.programme, self.cohort,
                      self.class_name, self.on_campus, self.counsellor, self.recheck)
        )


def has_active_category(category_id: int):
    """SQL condition: the student currently holds the care category."""
    return (
        select(CategoryAssignment.id)
        .where(
            CategoryAssignment.student_id == Student.id,
            CategoryAssignment.category_id == category_id,
            CategoryAssignment.ended_on.is_(None),
        )
        .exists()
    )


def caseload_query(
    user: User, filters: CaseloadFilters, now: datetime | None = None
) -> Select[tuple[Student]]:
    """Return the visible students matching ``filters``, in roster order."""
    query = visible_students(user)
    if filters.q:
        pattern = f"%{filters.q}%"
        query = query.where(
            or_(Student.name.ilike(pattern), Student.student_number.ilike(pattern))
        )
    if filters.category is not None:
        query = query.where(has_active_category(filters.category))
    if filters.concern:
        query = query.where(Student.concern_level == filters.concern)
    if filters.programme:
        query = query.where(Student.programme == filters.programme)
    if filters.cohort is not None:
        query = query.where(Student.cohort == filters.cohort)
    if filters.class_name:
        query = query.where(Student.class_name == filters.class_name)
    if filters.on_campus is not None:
        query = query.where(Student.on_campus.is_(filters.on_campus))
    if filters.counsellor is not None:
        query = query.where(Student.counsellor_id == filters.counsellor)
    if filters.recheck == "overdue":
        query = query.where(has_overdue_recheck(local_today(now or now_utc())))
    return query.order_by(Student.student_number)


def category_counts(user: User) -> list[tuple[CareCategory, int]]:
    """Return each active care category with the number of visible students holding it."""
    counts = dict(
        db.session.execute(
            select(
                CategoryAssignment.category_id,
                func.count(CategoryAssignment.student_id.distinct()),
            )
            .join(Student, Student.id == CategoryAssignment.student_id)
            .where(CategoryAssignment.ended_on.is_(None), student_filter(user))
            .group_by(CategoryAssignment.category_id)
        ).all()
    )
    return [(c, counts.get(c.id, 0)) for c in active_categories()]


def active_categories() -> list[CareCategory]:
    return list(
        db.session.scalars(
            select(CareCategory).where(CareCategory.active).order_by(CareCategory.sort_order)
        )
    )


def active_assignments_by_student(student_ids: list[int]) -> dict[int, list[CategoryAssignment]]:
    """Return the open category assignments of several students, in one query."""
    if not student_ids:
        return defaultdict(list)
    rows = db.session.scalars(
        select(CategoryAssignment)
        .where(
            CategoryAssignment.student_id.in_(student_ids),
            CategoryAssignment.ended_on.is_(None),
        )
        .order_by(CategoryAssignment.started_on)
    )
    return defaultdict(list, group_by_student(rows))


def get_assignment(student: Student, assignment_id: int) -> CategoryAssignment | None:
    """Return one of the student's category assignments, or None if it is not theirs."""
    return db.session.scalars(
        select(CategoryAssignment).where(
            CategoryAssignment.id == assignment_id, CategoryAssignment.student_id == student.id
        )
    ).first()


def get_referral_of(student: Student, referral_id: int) -> Referral | None:
    """Return one of the student's referrals with both people, or None if it is not theirs."""
    return db.session.scalars(
        select(Referral)
        .where(Referral.id == referral_id, Referral.student_id == student.id)
        .options(joinedload(Referral.supervisor), joinedload(Referral.referred_by))
    ).first()


def filter_options(user: User) -> dict[str, list]:
    """Return the cohorts and classes present among the visible students, for the filters."""
    base = visible_students(user).subquery()
    cohorts = db.session.scalars(select(base.c.cohort).distinct().order_by(base.c.cohort)).all()
    classes = db.session.scalars(
        select(base.c.class_name).distinct().order_by(base.c.class_name)
    ).all()
    return {"cohorts": cohorts, "classes": classes}
