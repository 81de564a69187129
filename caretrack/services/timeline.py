"""Appending to a student's timeline. Entries are never updated or deleted."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, and_, func, insert, or_, select
from sqlalchemy.sql.elements import ColumnElement

from caretrack.access import keeps_caseload
from caretrack.extensions import db
from caretrack.models import EntryKind, Student, TimelineEntry, User, now_utc
from caretrack.services.errors import DuplicateSubmission, RuleError


def find_submission(submission_key: str | None) -> TimelineEntry | None:
    if not submission_key:
        return None
    return db.session.scalars(
        select(TimelineEntry).where(TimelineEntry.submission_key == submission_key)
    ).first()


def check_not_recorded(submission_key: str | None) -> None:
    """Refuse a form that was recorded already, before its service changes anything.

    :raise DuplicateSubmission: if an entry carries ``submission_key``.
    """
    existing = find_submission(submission_key)
    if existing is not None:
        raise DuplicateSubmission(existing)


def refusal(code: str, field: str | None = None, *, submission_key: str | None = None,
            conflict: bool = False, **values) -> Exception:
    """Return the error that refuses a change, or :class:`DuplicateSubmission` when the form
    was recorded already (its re-post fails the rules the first post changed; this lookup is
    only on the refusing path)."""
    existing = find_submission(submission_key)
    if existing is not None:
        return DuplicateSubmission(existing)
    return RuleError(code, field, conflict=conflict, **values)


def add_entry(
    student: Student,
    kind: str,
    author: User,
    *,
    body: str = "",
    details: dict | None = None,
    occurred_at: datetime | None = None,
    referral_id: int | None = None,
    corrects_id: int | None = None,
    submission_key: str | None = None,
    now: datetime | None = None,
) -> TimelineEntry:
    """Append one entry to the student's timeline; a counsellor recording for a colleague's
    student (covering their absence) is marked as covering for that colleague.

    :raise DuplicateSubmission: if an entry with ``submission_key`` exists already.
    """
    existing = find_submission(submission_key)
    if existing is not None:
        raise DuplicateSubmission(existing)
    now = now or now_utc()
    entry = TimelineEntry(
        student_id=student.id,
        kind=kind,
        author_id=author.id,
        body=body,
        details=details or {},
        occurred_at=occurred_at or now,
        created_at=now,
        referral_id=referral_id,
        corrects_id=corrects_id,
        submission_key=submission_key or None,
        covering_for_id=(student.counsellor_id if keeps_caseload(author)
                         and author.id != student.counsellor_id else None),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def insert_entries(entries: list[dict]) -> None:
    """Append many entries at once (a day's status changes: thousands from one check-in
    sheet), as rows of ``timeline_entries`` in a few statements, without ORM objects; each
    dict holds the columns of :func:`add_entry` (``student_id``, ``kind``, ``author_id``,
    ``body``, ``details``, ``occurred_at``, ``created_at``)."""
    if entries:
        db.session.execute(insert(TimelineEntry.__table__), entries)


# -- reading a student's timeline -------------------------------------------------------------

#: The timeline's filters: a filter name and the entry kinds it shows.
KIND_FILTERS: dict[str, tuple[str, ...]] = {
    EntryKind.FOLLOW_UP: (EntryKind.FOLLOW_UP,),
    EntryKind.DELIVERY: (EntryKind.DELIVERY,),
    EntryKind.REFERRAL: (EntryKind.REFERRAL, EntryKind.REFERRAL_STEP),
    EntryKind.NOTE: (EntryKind.NOTE,),
    EntryKind.CATEGORY_CHANGE: (EntryKind.CATEGORY_CHANGE,),
    EntryKind.CONCERN_CHANGE: (EntryKind.CONCERN_CHANGE,),
    EntryKind.REVIEW: (EntryKind.REVIEW,),
    EntryKind.STATUS_CHANGE: (EntryKind.STATUS_CHANGE,),
    EntryKind.RECHECK_CHANGE: (EntryKind.RECHECK_CHANGE,),
    EntryKind.CORRECTION: (EntryKind.CORRECTION,),
}


def _completes_by_follow_up() -> ColumnElement[bool]:
    """SQL: the "re-check done" entries written by a follow-up (they name its ``entry_id``).
    The timeline shows each on its follow-up's row; the re-check filter still lists them."""
    return and_(
        TimelineEntry.kind == EntryKind.RECHECK_CHANGE,
        func.coalesce(TimelineEntry.details["action"].as_string(), "") == "completed",
        TimelineEntry.details["entry_id"].as_integer().is_not(None),
    )


def shown_apart(kind: str | None) -> bool:
    """Whether the timeline filtered by ``kind`` lists a follow-up's "re-check done" entry as
    a row of its own (only the re-check filter does)."""
    return kind == EntryKind.RECHECK_CHANGE


def entries_query(
    student: Student, kind: str | None = None, scope: ColumnElement[bool] | None = None
) -> Select[tuple[TimelineEntry]]:
    """Return the student's entries, newest first, of one filter's kinds if ``kind`` is given,
    limited by ``scope`` (see :func:`caretrack.access.entry_filter`). A follow-up's "re-check
    done" entry is left out (its follow-up's row shows it) except under the re-check filter."""
    query = select(TimelineEntry).where(TimelineEntry.student_id == student.id)
    if scope is not None:
        query = query.where(scope)
    if kind in KIND_FILTERS:
        query = query.where(TimelineEntry.kind.in_(KIND_FILTERS[kind]))
    if not shown_apart(kind):
        query = query.where(~_completes_by_follow_up())
    return query.order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())


def get_entry(
    student: Student, entry_id: int, scope: ColumnElement[bool] | None = None
) -> TimelineEntry | None:
    """Return one entry of the student's timeline, or None if the student has no such entry
    (within ``scope``)."""
    query = select(TimelineEntry).where(
        TimelineEntry.student_id == student.id, TimelineEntry.id == entry_id)
    if scope is not None:
        query = query.where(scope)
    return db.session.scalars(query).first()


def row_of(entry: TimelineEntry, scope: ColumnElement[bool] | None = None) -> TimelineEntry:
    """The entry whose row shows ``entry`` on the unfiltered timeline: itself, or for a
    follow-up's "re-check done" entry, the follow-up."""
    follow_up_id = (entry.details or {}).get("entry_id")
    if entry.kind != EntryKind.RECHECK_CHANGE or not follow_up_id:
        return entry
    student = db.session.get(Student, entry.student_id)
    return get_entry(student, follow_up_id, scope) or entry


def position_of(entry: TimelineEntry, scope: ColumnElement[bool] | None = None) -> int:
    """Return how many rows of the student's unfiltered timeline (within ``scope``) come
    before ``entry``'s row."""
    newer = or_(
        TimelineEntry.occurred_at > entry.occurred_at,
        and_(TimelineEntry.occurred_at == entry.occurred_at, TimelineEntry.id > entry.id),
    )
    query = select(func.count(TimelineEntry.id)).where(
        TimelineEntry.student_id == entry.student_id, newer, ~_completes_by_follow_up()
    )
    if scope is not None:
        query = query.where(scope)
    return db.session.scalar(query) or 0


@dataclass
class Related:
    """The entries that the entries of one page point at or are pointed at by."""

    #: Corrected entry id -> the entry that corrects it.
    corrections: dict[int, TimelineEntry] = field(default_factory=dict)
    #: Entry id -> entry, for the originals that the page's corrections correct.
    originals: dict[int, TimelineEntry] = field(default_factory=dict)
    #: Follow-up id -> the "re-check done" entry it wrote, shown on the follow-up's row.
    completions: dict[int, TimelineEntry] = field(default_factory=dict)


def related_entries(entries: list[TimelineEntry]) -> Related:
    """Load, in one query, the corrections of ``entries``, the entries they correct, and the
    "re-check done" entries of their follow-ups."""
    ids = [e.id for e in entries]
    corrected_ids = [e.corrects_id for e in entries if e.corrects_id]
    follow_up_ids = [e.id for e in entries if e.kind == EntryKind.FOLLOW_UP]
    related = Related()
    completed_by = TimelineEntry.details["entry_id"].as_integer()
    rows = db.session.scalars(
        select(TimelineEntry).where(
            or_(
                TimelineEntry.corrects_id.in_(ids),
                TimelineEntry.id.in_(corrected_ids),
                and_(_completes_by_follow_up(), completed_by.in_(follow_up_ids),
                     TimelineEntry.student_id.in_({e.student_id for e in entries})),
            )
        ).order_by(TimelineEntry.id)
    )
    for row in rows:
        if row.corrects_id in ids:
            related.corrections.setdefault(row.corrects_id, row)
        if row.id in corrected_ids:
            related.originals[row.id] = row
        follow_up_id = (row.details or {}).get("entry_id")
        if row.kind == EntryKind.RECHECK_CHANGE and follow_up_id in follow_up_ids:
            related.completions[follow_up_id] = row
    return related
