"""Everything the student page shows, for one user: the timeline page and the case around it."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from caretrack.access import (
    can_record_for,
    can_revoke_referral,
    entry_filter,
    reads_full_timeline,
)
from caretrack.extensions import db
from caretrack.models import (
    CareCategory,
    CategoryAssignment,
    ConcernChange,
    ConcernLevel,
    Recheck,
    Referral,
    Student,
    TimelineEntry,
    User,
    now_utc,
)
from caretrack.services import rechecks, referrals, status_rules
from caretrack.services.audit import record_event
from caretrack.services.entries import CORRECTABLE_KINDS
from caretrack.services.timeline import (
    KIND_FILTERS,
    Related,
    entries_query,
    get_entry,
    position_of,
    related_entries,
    row_of,
)

#: Entries per page of the timeline.
TIMELINE_PER_PAGE = 25
#: Concern level changes the page lists.
CONCERN_HISTORY_LENGTH = 10


@dataclass
class StudentPage:
    """What the student page shows ``user`` about ``student``."""

    student: Student
    #: The page of the timeline shown, newest first.
    page: Pagination
    entries: list[TimelineEntry]
    #: The timeline filter in use ("" for all entries), and the filters offered.
    kind: str
    kinds: list[str]
    #: Whether the user reads the whole case, not only their referrals' entries.
    full_case: bool
    related: Related
    referrals: list[Referral]
    active_assignments: list[CategoryAssignment]
    ended_assignments: list[CategoryAssignment]
    concern_history: list[ConcernChange]
    open_rechecks: list[Recheck]
    #: Whether the user records entries for the student (their counsellor).
    can_record: bool
    #: Whether the student may be put in the deputy secretary's review queue now.
    can_flag_for_review: bool
    can_revoke: Callable[[Referral], bool]
    correctable: frozenset[str] = field(default=CORRECTABLE_KINDS)
    #: The status rules' open suggestions (a care category, lowering the concern level).
    suggestions: list = field(default_factory=list)

    @property
    def referrals_by_id(self) -> dict[int, Referral]:
        return {r.id: r for r in self.referrals}

    @property
    def categories_by_id(self) -> dict[int, CareCategory]:
        return {a.category_id: a.category
                for a in [*self.active_assignments, *self.ended_assignments]}

    def context(self) -> dict:
        """The page's template variables."""
        return {
            "student": self.student, "page": self.page, "entries": self.entries,
            "kind": self.kind, "kinds": self.kinds, "full_case": self.full_case,
            "related": self.related, "referrals": self.referrals,
            "referrals_by_id": self.referrals_by_id, "categories_by_id": self.categories_by_id,
            "active_assignments": self.active_assignments,
            "ended_assignments": self.ended_assignments,
            "concern_history": self.concern_history, "open_rechecks": self.open_rechecks,
            "can_record": self.can_record, "can_flag_for_review": self.can_flag_for_review,
            "can_revoke": self.can_revoke, "correctable": self.correctable,
            "suggestions": self.suggestions,
        }


def record_view(student: Student, user: User, *, now: datetime | None = None,
                ip: str = "") -> None:
    """Audit that ``user`` opened the student's page (the caller commits before loading it)."""
    record_event("student.view", user, student.id, now=now or now_utc(), ip=ip)


def student_page(
    student: Student,
    user: User,
    *,
    kind: str = "",
    page_number: int | None = None,
    entry_id: int | None = None,
) -> StudentPage:
    """Assemble the student page for ``user``: the timeline page of ``kind`` (or the page that
    holds entry ``entry_id`` when no page is asked for), categories, concern history,
    referrals and open re-checks, each in one query whatever the timeline's length."""
    scope = entry_filter(user)
    full_case = reads_full_timeline(user)
    kind = kind if kind in KIND_FILTERS and full_case else ""
    if entry_id and page_number is None:
        # A link to one entry (e.g. "see the correction") opens the page that holds it.
        target = get_entry(student, entry_id, scope)
        if target is not None:
            target = row_of(target, scope)
            kind = ""
            page_number = position_of(target, scope) // TIMELINE_PER_PAGE + 1
    page = db.paginate(
        entries_query(student, kind or None, scope), page=page_number or 1,
        per_page=TIMELINE_PER_PAGE, max_per_page=TIMELINE_PER_PAGE, error_out=False,
    )
    timeline = list(page.items)
    assignments = _assignments(student)
    return StudentPage(
        student=student,
        page=page,
        entries=timeline,
        kind=kind,
        kinds=list(KIND_FILTERS) if full_case else [],
        full_case=full_case,
        related=related_entries(timeline),
        referrals=[r for r in referrals.referrals_of(student)
                   if full_case or r.supervisor_id == user.id],
        active_assignments=[a for a in assignments if a.ended_on is None],
        ended_assignments=[a for a in assignments if a.ended_on is not None],
        concern_history=_concern_history(student) if full_case else [],
        open_rechecks=rechecks.open_rechecks(student) if full_case else [],
        can_record=can_record_for(user, student),
        can_flag_for_review=not (student.flagged_for_review
                                 or student.concern_level == ConcernLevel.HIGH),
        can_revoke=lambda referral: can_revoke_referral(user, referral),
        suggestions=status_rules.open_suggestions(student) if full_case else [],
    )


def _assignments(student: Student) -> list[CategoryAssignment]:
    """The student's category assignments, open ones first, newest first."""
    return list(db.session.scalars(
        select(CategoryAssignment)
        .where(CategoryAssignment.student_id == student.id)
        .order_by(CategoryAssignment.ended_on.is_not(None), CategoryAssignment.started_on.desc())
    ))


def _concern_history(student: Student) -> list[ConcernChange]:
    """The student's latest concern level changes, newest first, with who made them."""
    return list(db.session.scalars(
        select(ConcernChange)
        .where(ConcernChange.student_id == student.id)
        .options(joinedload(ConcernChange.set_by))
        .order_by(ConcernChange.created_at.desc(), ConcernChange.id.desc())
        .limit(CONCERN_HISTORY_LENGTH)
    ))
