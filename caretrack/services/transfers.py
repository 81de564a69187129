"""Moving students to another counsellor's caseload: one student, a selection, a class or a
cohort, from the deputy's or the admin's pages and from the roster import alike.

What moves with a student: their open re-checks (done and cancelled ones keep their owner) and
the counsellor side of their open or accepted supervisor referrals (the supervisor keeps them).
Each student's timeline says "transferred from 李老师 to 王老师" with the reason; each counsellor
who gives or receives students is told; one audit event lists the students.

The work is set-wise, in chunks of :data:`CHUNK` students, so a cohort of thousands is a few
statements per chunk; ``progress(done, total)`` is called after each chunk (for a job's
progress bar). No request object is read: ids, the user and the parameters come in.
"""

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update

from caretrack.access import in_college, keeps_caseload, same_college
from caretrack.extensions import db
from caretrack.models import (
    EntryKind,
    Recheck,
    RecheckState,
    Referral,
    Student,
    User,
    now_utc,
)
from caretrack.services.audit import record_event
from caretrack.services.errors import RuleError
from caretrack.services.notifications import notify
from caretrack.services.timeline import insert_entries

#: Students written per round of statements.
CHUNK = 500
#: Referral states whose counsellor side moves with the student (the supervisor's stay).
MOVING_REFERRAL_STATES = ("open", "accepted")
#: Where a transfer came from, as its timeline entry says.
SOURCE_TRANSFER = "transfer"
SOURCE_ROSTER_IMPORT = "roster_import"


def fingerprint_of(student_ids: Iterable[int]) -> str:
    """A digest of a set of students, so a confirmation can tell that the set it was shown
    is still the set it would change."""
    digest = hashlib.sha256(",".join(str(i) for i in sorted(set(student_ids))).encode())
    return digest.hexdigest()[:32]


def _chunks(ids: list[int], size: int | None = None):
    size = size or CHUNK
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


@dataclass
class TransferPreview:
    """What a transfer would move; nothing of it is written."""

    to: User
    #: The students that would move (those already with ``to`` are left out), sorted.
    student_ids: list[int] = field(default_factory=list)
    open_rechecks: int = 0
    open_referrals: int = 0
    #: (counsellor, number of their students that would move), largest first.
    from_counsellors: list[tuple[User, int]] = field(default_factory=list)
    fingerprint: str = ""

    @property
    def students(self) -> int:
        return len(self.student_ids)


def _check_target(to: User | None, by: User | None = None) -> User:
    """``to``, an active counsellor of ``by``'s college (any college's for the command
    line's roster import, whose students are of ``to``'s college anyway).

    :raise RuleError: "transfer-not-counsellor" (to_id), "counsellor-elsewhere" (to_id).
    """
    if to is None or not keeps_caseload(to):
        raise RuleError("transfer-not-counsellor", "to_id")
    if by is not None and by.college_id is not None and not same_college(by, to):
        raise RuleError("counsellor-elsewhere", "to_id")
    return to


def moving_students(student_ids: Iterable[int], to: User) -> list[int]:
    """The students among ``student_ids`` that a transfer to ``to`` would move: current
    records of ``to``'s college not in ``to``'s caseload already, sorted (a transfer stays
    within a college)."""
    ids = sorted(set(student_ids))
    found: list[int] = []
    for chunk in _chunks(ids, 1000):
        found += db.session.scalars(select(Student.id).where(
            Student.id.in_(chunk), Student.merged_into_id.is_(None),
            Student.counsellor_id != to.id, in_college(to))).all()
    return sorted(found)


def preview_transfer(student_ids: Iterable[int], to: User | None,
                     by: User | None = None) -> TransferPreview:
    """Work out what moving ``student_ids`` to ``to`` would move.

    :raise RuleError: "transfer-not-counsellor" (to_id) if ``to`` is not an active counsellor,
        "counsellor-elsewhere" (to_id) if ``to`` works in another college than ``by``.
    """
    to = _check_target(to, by)
    ids = moving_students(student_ids, to)
    preview = TransferPreview(to=to, student_ids=ids, fingerprint=fingerprint_of(ids))
    counsellors: Counter[int] = Counter()
    for chunk in _chunks(ids, 1000):
        preview.open_rechecks += db.session.scalar(select(func.count(Recheck.id)).where(
            Recheck.student_id.in_(chunk), Recheck.state == RecheckState.OPEN)) or 0
        preview.open_referrals += db.session.scalar(select(func.count(Referral.id)).where(
            Referral.student_id.in_(chunk), Referral.state.in_(MOVING_REFERRAL_STATES))) or 0
        counsellors.update(dict(db.session.execute(
            select(Student.counsellor_id, func.count(Student.id))
            .where(Student.id.in_(chunk)).group_by(Student.counsellor_id)).all()))
    people = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_(list(counsellors))))} if counsellors else {}
    preview.from_counsellors = [(people[i], n) for i, n in counsellors.most_common()]
    return preview


@dataclass
class TransferResult:
    to_id: int
    students: int = 0
    rechecks: int = 0
    referrals: int = 0
    #: Counsellor id -> number of their students that moved.
    from_counsellors: dict[int, int] = field(default_factory=dict)


def transfer_students(
    student_ids: Iterable[int],
    to: User | None,
    by: User | None,
    *,
    reason: str,
    now: datetime | None = None,
    ip: str = "",
    fingerprint: str | None = None,
    source: str = SOURCE_TRANSFER,
    progress: Callable[[int, int], None] | None = None,
) -> TransferResult:
    """Move the students to ``to``'s caseload, with what moves with them (see the module), in
    the caller's transaction. ``by`` is None for the command-line roster import (the entries
    are then written in the receiving counsellor's name). Who may ask is the caller's check
    (:func:`caretrack.access.transfer_filter`).

    :raise RuleError: "transfer-not-counsellor" (to_id), "counsellor-elsewhere" (to_id) for a
        counsellor of another college than ``by``'s, "transfer-no-reason" (reason) for a
        transfer asked by hand without a reason, "transfer-none" when no student would move,
        "transfer-stale" (a conflict: 409) when ``fingerprint`` is not the one of the students
        that would move now.
    """
    now = now or now_utc()
    to = _check_target(to, by)
    reason = (reason or "").strip()
    if source == SOURCE_TRANSFER and not reason:
        raise RuleError("transfer-no-reason", "reason")
    ids = moving_students(student_ids, to)
    if fingerprint is not None and fingerprint != fingerprint_of(ids):
        raise RuleError("transfer-stale", conflict=True)
    if not ids:
        raise RuleError("transfer-none")
    result = TransferResult(to_id=to.id)
    names = dict(db.session.execute(select(User.id, User.display_name)).all())
    author_id = by.id if by is not None else to.id
    done = 0
    for chunk in _chunks(ids):
        rows = db.session.execute(select(Student.id, Student.counsellor_id).where(
            Student.id.in_(chunk))).all()
        db.session.execute(
            update(Student).where(Student.id.in_(chunk))
            .values(counsellor_id=to.id, updated_at=now, version_id=Student.version_id + 1)
            .execution_options(synchronize_session=False))
        result.rechecks += db.session.execute(
            update(Recheck).where(Recheck.student_id.in_(chunk),
                                  Recheck.state == RecheckState.OPEN)
            .values(owner_id=to.id).execution_options(synchronize_session=False)).rowcount or 0
        result.referrals += db.session.execute(
            update(Referral).where(Referral.student_id.in_(chunk),
                                   Referral.state.in_(MOVING_REFERRAL_STATES))
            .values(referred_by_id=to.id, updated_at=now,
                    version_id=Referral.version_id + 1)
            .execution_options(synchronize_session=False)).rowcount or 0
        insert_entries([{
            "student_id": student_id, "kind": EntryKind.TRANSFER, "author_id": author_id,
            "body": reason, "occurred_at": now, "created_at": now,
            "details": {"from_id": old, "from": names.get(old, ""), "to_id": to.id,
                        "to": to.display_name, "source": source},
        } for student_id, old in rows])
        for _student, old in rows:
            result.from_counsellors[old] = result.from_counsellors.get(old, 0) + 1
        result.students += len(rows)
        done += len(chunk)
        if progress is not None:
            progress(done, len(ids))
    single = ids[0] if len(ids) == 1 else None
    for old in result.from_counsellors:
        notify(old, "transfer.out", student_id=single, now=now)
    notify(to.id, "transfer.in", student_id=single, now=now)
    record_event("student.transfer", by, single,
                 detail=f"to:{to.id} students:{result.students} source:{source}", now=now,
                 ip=ip, students=ids)
    # The rows changed under the session's objects: read them again when next used.
    db.session.expire_all()
    return result
