"""A counsellor's absence and who covers it: recording, ending early, extending, cancelling,
and what the covers and the returning counsellor see of it.

Covering is a dated condition in :mod:`caretrack.access` (``covered_filter``), not a copy of
the caseload: nothing is moved when an absence starts, and nothing needs moving back when it
ends. Students see nothing of it.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from caretrack.access import (
    absence_open_on,
    caseload_filter,
    counsellor_accounts,
    manages_absence_of,
    records_absences,
)
from caretrack.extensions import db
from caretrack.models import (
    Absence,
    AbsenceCover,
    EntryKind,
    Recheck,
    RecheckState,
    Student,
    TimelineEntry,
    User,
    now_utc,
)
from caretrack.services.audit import record_event
from caretrack.services.clock import day_bounds, local_today
from caretrack.services.errors import RuleError
from caretrack.services.notifications import notify

#: The longest absence one record holds; a longer one is extended.
MAX_DAYS = 90
#: How many days after coming back the landing page shows "while you were away".
SUMMARY_DAYS = 7
#: The key of the whole caseload in a ``covers`` mapping.
WHOLE_CASELOAD = None


def caseload_classes(counsellor: User) -> list[str]:
    """The classes of the counsellor's caseload, in order."""
    return list(db.session.scalars(
        select(Student.class_name).where(caseload_filter(counsellor)).distinct()
        .order_by(Student.class_name)
    ))


def cover_candidates(counsellor: User) -> list[User]:
    """The active counsellors who may cover ``counsellor`` (everyone of the college but
    themself)."""
    return list(db.session.scalars(
        select(User).where(counsellor_accounts(counsellor), User.id != counsellor.id)
        .order_by(User.display_name)
    ))


def _overlapping(counsellor_id: int, starts_on: date, ends_on: date, *, but: int | None = None):
    query = select(Absence).where(
        Absence.counsellor_id == counsellor_id, Absence.cancelled_at.is_(None),
        Absence.starts_on <= ends_on, Absence.ends_on >= starts_on,
    )
    if but is not None:
        query = query.where(Absence.id != but)
    return db.session.scalars(query.limit(1)).first()


def _check_window(starts_on: date, ends_on: date, today: date) -> None:
    if ends_on < starts_on:
        raise RuleError("absence-ends-before-start", "ends_on")
    if ends_on < today:
        raise RuleError("absence-in-past", "ends_on")
    if (ends_on - starts_on).days + 1 > MAX_DAYS:
        raise RuleError("absence-too-long", "ends_on", days=MAX_DAYS)


def _check_covers(counsellor: User, covers: dict[str | None, User], starts_on: date,
                  ends_on: date) -> None:
    if not covers or any(c is None for c in covers.values()):
        raise RuleError("absence-no-cover", "covers")
    candidates = {u.id for u in cover_candidates(counsellor)}
    for cover in covers.values():
        if cover.id not in candidates:
            raise RuleError("absence-cover-not-counsellor", "covers")
        if _overlapping(cover.id, starts_on, ends_on) is not None:
            raise RuleError("absence-cover-away", "covers", name=cover.display_name)
    if WHOLE_CASELOAD in covers:
        if len(covers) > 1:
            raise RuleError("absence-no-cover", "covers")
        return
    classes = caseload_classes(counsellor)
    unknown = sorted(set(covers) - set(classes))
    if unknown:
        raise RuleError("absence-unknown-class", "covers", name=unknown[0])
    missing = [c for c in classes if c not in covers]
    if missing:
        raise RuleError("absence-class-uncovered", "covers", name=missing[0])


def _covers_detail(absence: Absence) -> str:
    return ",".join(f"{c.class_name or '*'}={c.covering_id}" for c in absence.covers)


def _audit(action: str, by: User, absence: Absence, now: datetime, ip: str, extra: str = ""):
    record_event(
        action, by,
        detail=(f"absence:{absence.id} counsellor:{absence.counsellor_id} "
                f"{absence.starts_on.isoformat()}..{absence.ends_on.isoformat()} "
                f"covers:{_covers_detail(absence)}{extra}"),
        now=now, ip=ip,
    )


def _tell_everyone(absence: Absence, by: User, now: datetime) -> None:
    """Notify the covers and the absent counsellor (whoever did not make the change)."""
    people = {c.covering_id for c in absence.covers} | {absence.counsellor_id}
    for user_id in sorted(people - {by.id}):
        notify(user_id, "absence.changed", now=now)


def record_absence(
    counsellor: User, by: User, *, starts_on: date, ends_on: date, reason: str,
    covers: dict[str | None, User], now: datetime | None = None, ip: str = "",
) -> Absence:
    """Record that ``counsellor`` is away from ``starts_on`` to ``ends_on`` (college days,
    both included), covered by one colleague for the whole caseload (key ``None``) or by
    class (``{class name: colleague}``, every class of the caseload covered).

    :raise RuleError: "not-allowed", "no-reason", "absence-ends-before-start",
        "absence-in-past", "absence-too-long", "absence-overlaps", "absence-no-cover",
        "absence-cover-not-counsellor", "absence-cover-away", "absence-unknown-class",
        "absence-class-uncovered".
    """
    now = now or now_utc()
    if not (records_absences(by) and manages_absence_of(by, counsellor)):
        raise RuleError("not-allowed")
    reason = (reason or "").strip()
    if not reason:
        raise RuleError("no-reason", "reason")
    _check_window(starts_on, ends_on, local_today(now))
    if _overlapping(counsellor.id, starts_on, ends_on) is not None:
        raise RuleError("absence-overlaps", "starts_on")
    _check_covers(counsellor, covers, starts_on, ends_on)
    absence = Absence(
        counsellor_id=counsellor.id, counsellor=counsellor, starts_on=starts_on,
        ends_on=ends_on, reason=reason[:2000], created_by_id=by.id, created_at=now,
        covers=[AbsenceCover(covering_id=u.id, class_name=name) for name, u in covers.items()],
    )
    db.session.add(absence)
    db.session.flush()
    _audit("absence.create", by, absence, now, ip)
    _tell_everyone(absence, by, now)
    return absence


def _check_manager(absence: Absence, by: User) -> None:
    if absence.cancelled_at is not None:
        raise RuleError("absence-cancelled", conflict=True)
    if not manages_absence_of(by, absence.counsellor):
        raise RuleError("not-allowed")


def end_early(absence: Absence, by: User, *, last_day: date, now: datetime | None = None,
              ip: str = "") -> Absence:
    """Bring the absence's last day forward to ``last_day`` (yesterday at the earliest: the
    counsellor is back today). An absence that has not started is cancelled instead.

    :raise RuleError: "not-allowed", "absence-cancelled", "absence-ended",
        "absence-not-earlier", "absence-end-in-past", "absence-not-started".
    """
    now = now or now_utc()
    _check_manager(absence, by)
    today = local_today(now)
    if absence.ends_on < today:
        raise RuleError("absence-ended", conflict=True)
    if absence.starts_on > today:
        raise RuleError("absence-not-started", "last_day")
    if last_day >= absence.ends_on:
        raise RuleError("absence-not-earlier", "last_day")
    if last_day < max(absence.starts_on, today - timedelta(days=1)):
        raise RuleError("absence-end-in-past", "last_day")
    before = absence.ends_on
    absence.ends_on = last_day
    db.session.flush()
    _audit("absence.end_early", by, absence, now, ip, f" was:{before.isoformat()}")
    _tell_everyone(absence, by, now)
    return absence


def extend(absence: Absence, by: User, *, ends_on: date, now: datetime | None = None,
           ip: str = "") -> Absence:
    """Move the absence's last day later, with the same covers.

    :raise RuleError: "not-allowed", "absence-cancelled", "absence-ended",
        "absence-not-later", "absence-too-long", "absence-overlaps", "absence-cover-away".
    """
    now = now or now_utc()
    _check_manager(absence, by)
    if absence.ends_on < local_today(now):
        raise RuleError("absence-ended", conflict=True)
    if ends_on <= absence.ends_on:
        raise RuleError("absence-not-later", "ends_on")
    _check_window(absence.starts_on, ends_on, local_today(now))
    start = absence.ends_on + timedelta(days=1)
    if _overlapping(absence.counsellor_id, start, ends_on, but=absence.id) is not None:
        raise RuleError("absence-overlaps", "ends_on")
    for cover in absence.covers:
        if _overlapping(cover.covering_id, start, ends_on) is not None:
            raise RuleError("absence-cover-away", "ends_on", name=cover.covering.display_name)
    before = absence.ends_on
    absence.ends_on = ends_on
    db.session.flush()
    _audit("absence.extend", by, absence, now, ip, f" was:{before.isoformat()}")
    _tell_everyone(absence, by, now)
    return absence


def cancel(absence: Absence, by: User, *, now: datetime | None = None, ip: str = "") -> Absence:
    """Cancel an absence that has not started: it never applies. (A started one is ended
    early instead, so what the covers did stays explained.)

    :raise RuleError: "not-allowed", "absence-cancelled", "absence-started".
    """
    now = now or now_utc()
    _check_manager(absence, by)
    if absence.starts_on <= local_today(now):
        raise RuleError("absence-started")
    absence.cancelled_at = now
    absence.cancelled_by_id = by.id
    db.session.flush()
    _audit("absence.cancel", by, absence, now, ip)
    _tell_everyone(absence, by, now)
    return absence


# -- reading ------------------------------------------------------------------------------------


def state_of(absence: Absence, today: date) -> str:
    """One word: cancelled, upcoming, current or ended."""
    if absence.cancelled_at is not None:
        return "cancelled"
    if absence.starts_on > today:
        return "upcoming"
    if absence.ends_on >= today:
        return "current"
    return "ended"


def can_change(absence: Absence, today: date) -> bool:
    """Whether the absence may still be ended early, extended or cancelled."""
    return absence.cancelled_at is None and absence.ends_on >= today


@dataclass
class Covering:
    """One absence the user covers today, and which classes (None: the whole caseload)."""

    absence: Absence
    classes: list[str | None] = field(default_factory=list)

    @property
    def counsellor(self) -> User:
        return self.absence.counsellor

    @property
    def whole_caseload(self) -> bool:
        return None in self.classes


def covering_today(user: User, today: date) -> list[Covering]:
    """The absences ``user`` covers on ``today`` (one query), by the absent counsellor's
    name."""
    rows = db.session.execute(
        select(Absence, AbsenceCover.class_name)
        .join(AbsenceCover, AbsenceCover.absence_id == Absence.id)
        .where(AbsenceCover.covering_id == user.id, absence_open_on(today))
        .order_by(Absence.id, AbsenceCover.class_name)
    ).all()
    found: dict[int, Covering] = {}
    for absence, class_name in rows:
        found.setdefault(absence.id, Covering(absence)).classes.append(class_name)
    return sorted(found.values(), key=lambda c: c.counsellor.display_name)


def current_absence(counsellor: User, today: date) -> Absence | None:
    """The counsellor's own absence that includes ``today``, if any."""
    return db.session.scalars(
        select(Absence).where(Absence.counsellor_id == counsellor.id, absence_open_on(today))
    ).first()


@dataclass
class AwaySummary:
    """What happened to a counsellor's caseload while they were away."""

    absence: Absence
    follow_ups: int = 0
    changes: int = 0
    referrals: int = 0
    statuses: int = 0
    open_rechecks: int = 0
    overdue_rechecks: int = 0
    entries: list[TimelineEntry] = field(default_factory=list)


#: Entry kinds the summary counts as "changes" of a student's case.
CHANGE_KINDS = (EntryKind.CATEGORY_CHANGE, EntryKind.CONCERN_CHANGE, EntryKind.NOTE,
                EntryKind.DELIVERY, EntryKind.RECHECK_CHANGE, EntryKind.CORRECTION)


def away_summary(counsellor: User, today: date, *, latest: int = 10) -> AwaySummary | None:
    """The "while you were away" summary of the counsellor's latest absence when it ended
    within the last :data:`SUMMARY_DAYS` days: what the covers recorded on the caseload
    (follow-ups, changes, referrals, statuses), the caseload's open re-checks now, and the
    latest entries. None otherwise. A constant number of queries."""
    absence = db.session.scalars(
        select(Absence).where(
            Absence.counsellor_id == counsellor.id, Absence.cancelled_at.is_(None),
            Absence.ends_on < today, Absence.ends_on >= today - timedelta(days=SUMMARY_DAYS),
        ).order_by(Absence.ends_on.desc())
    ).first()
    if absence is None:
        return None
    since, _ = day_bounds(absence.starts_on)
    recorded = [TimelineEntry.covering_for_id == counsellor.id,
                TimelineEntry.created_at >= since]
    counts = dict(db.session.execute(
        select(TimelineEntry.kind, func.count(TimelineEntry.id)).where(*recorded)
        .group_by(TimelineEntry.kind)
    ).all())
    rechecks = db.session.execute(
        select(func.count(Recheck.id),
               func.count(Recheck.id).filter(Recheck.due_on < today))
        .join(Student, Student.id == Recheck.student_id)
        .where(caseload_filter(counsellor), Recheck.state == RecheckState.OPEN)
    ).one()
    entries = list(db.session.scalars(
        select(TimelineEntry).where(*recorded, or_(
            TimelineEntry.kind != EntryKind.STATUS_CHANGE, TimelineEntry.body != ""))
        .options(joinedload(TimelineEntry.student))
        .order_by(TimelineEntry.created_at.desc(), TimelineEntry.id.desc()).limit(latest)
    ).unique())
    return AwaySummary(
        absence=absence,
        follow_ups=counts.get(EntryKind.FOLLOW_UP, 0),
        changes=sum(counts.get(k, 0) for k in CHANGE_KINDS),
        referrals=counts.get(EntryKind.REFERRAL, 0) + counts.get(EntryKind.REFERRAL_STEP, 0),
        statuses=counts.get(EntryKind.STATUS_CHANGE, 0),
        open_rechecks=rechecks[0], overdue_rechecks=rechecks[1],
        entries=entries,
    )
