"""The referral lifecycle: a counsellor brings a supervisor in for one student.

    open ──accept──> accepted ──respond (any number of times)──> accepted ──mark done──> done
      │ └──decline (with a reason)──> declined
      └──revoke (the referring counsellor or the deputy secretary)──> revoked

Every step is a timeline entry of the student (the referral itself: ``EntryKind.REFERRAL``,
each later step: ``EntryKind.REFERRAL_STEP``, both with ``referral_id`` set), an audit event
and a notification for the other side. A refused step raises :class:`ReferralError` and
changes nothing.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from caretrack.access import can_record_for
from caretrack.extensions import db
from caretrack.models import (
    EntryKind,
    Referral,
    ReferralState,
    Role,
    Student,
    TimelineEntry,
    Urgency,
    User,
    now_utc,
)
from caretrack.services.audit import record_event
from caretrack.services.notifications import notify
from caretrack.services.timeline import add_entry, check_not_recorded


class ReferralStep(StrEnum):
    """What a referral step entry records (its ``details["action"]``)."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    RESPONDED = "responded"
    DONE = "done"
    REVOKED = "revoked"


#: States in which the referral still asks something of the supervisor.
ACTIVE_STATES = (ReferralState.OPEN, ReferralState.ACCEPTED)


class ReferralError(ValueError):
    """A referral step the lifecycle refuses; the code names the reason shown to the user."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def referrals_of(student: Student) -> list[Referral]:
    """Return the student's referrals, newest first, with both people loaded."""
    return list(
        db.session.scalars(
            select(Referral)
            .where(Referral.student_id == student.id)
            .options(joinedload(Referral.supervisor), joinedload(Referral.referred_by))
            .order_by(Referral.created_at.desc(), Referral.id.desc())
        )
    )


def can_revoke(referral: Referral, user: User) -> bool:
    """Whether ``user`` may revoke ``referral`` now: its counsellor or the deputy, while open."""
    return referral.state == ReferralState.OPEN and (
        user.id == referral.referred_by_id or user.role == Role.DEPUTY_SECRETARY
    )


def _audit(action: str, by: User, referral: Referral, now: datetime, ip: str = "") -> None:
    event = record_event(action, by, referral.student_id, detail=f"referral:{referral.id}", ip=ip)
    event.occurred_at = now


def refer(
    student: Student,
    supervisor: User,
    by: User,
    *,
    reason: str,
    urgency: str = Urgency.NORMAL,
    now: datetime | None = None,
    ip: str = "",
    submission_key: str | None = None,
) -> Referral:
    """Refer the student to a supervisor (any supervisor; usually the student's own).

    :raise ReferralError: if ``by`` is not the student's counsellor, ``supervisor`` is not an
        active supervisor, the reason is empty, or the student has an open or accepted
        referral to the same supervisor.
    :raise DuplicateSubmission: if the form was recorded already.
    """
    now = now or now_utc()
    check_not_recorded(submission_key)
    if not can_record_for(by, student):
        raise ReferralError("not-allowed")
    if supervisor is None or supervisor.role != Role.SUPERVISOR or not supervisor.active:
        raise ReferralError("not-a-supervisor")
    if not reason.strip():
        raise ReferralError("no-reason")
    active = db.session.scalars(
        select(Referral.id).where(
            Referral.student_id == student.id,
            Referral.supervisor_id == supervisor.id,
            Referral.state.in_(ACTIVE_STATES),
        )
    ).first()
    if active is not None:
        raise ReferralError("already-referred")
    referral = Referral(
        student_id=student.id, referred_by_id=by.id, supervisor_id=supervisor.id,
        reason=reason, urgency=Urgency(urgency), state=ReferralState.OPEN,
        created_at=now, updated_at=now,
    )
    db.session.add(referral)
    db.session.flush()
    add_entry(
        student, EntryKind.REFERRAL, by, body=reason, now=now, referral_id=referral.id,
        submission_key=submission_key,
        details={"supervisor_id": supervisor.id, "urgency": str(referral.urgency)},
    )
    notify(supervisor.id, "referral.new", student_id=student.id, referral_id=referral.id, now=now)
    _audit("referral.create", by, referral, now, ip)
    return referral


def _step(
    referral: Referral,
    by: User,
    step: ReferralStep,
    *,
    body: str,
    to_state: str | None,
    notify_user_id: int,
    now: datetime,
    submission_key: str | None,
    ip: str = "",
) -> TimelineEntry:
    """Move the referral to ``to_state`` (None: unchanged) and record the step everywhere."""
    previous = referral.state
    if to_state is not None:
        referral.state = to_state
        if to_state in (ReferralState.DECLINED, ReferralState.DONE, ReferralState.REVOKED):
            referral.closed_at = now
    referral.updated_at = now
    db.session.flush()
    entry = add_entry(
        referral.student, EntryKind.REFERRAL_STEP, by, body=body, now=now,
        referral_id=referral.id, submission_key=submission_key,
        details={"action": str(step), "from": str(previous), "to": str(referral.state)},
    )
    kind = "referral.revoked" if step == ReferralStep.REVOKED else "referral.response"
    notify(notify_user_id, kind, student_id=referral.student_id, referral_id=referral.id, now=now)
    _audit(f"referral.{step}", by, referral, now, ip)
    return entry


def _check_supervisor(referral: Referral, by: User) -> None:
    if by.id != referral.supervisor_id:
        raise ReferralError("not-the-supervisor")


def _check_state(referral: Referral, *allowed: str) -> None:
    if referral.state not in allowed:
        raise ReferralError(f"not-{'-or-'.join(allowed)}")


def accept(
    referral: Referral,
    by: User,
    *,
    note: str = "",
    now: datetime | None = None,
    submission_key: str | None = None,
) -> TimelineEntry:
    """The supervisor takes the referral on.

    :raise ReferralError: if ``by`` is not its supervisor or it is not open.
    """
    now = now or now_utc()
    check_not_recorded(submission_key)
    _check_supervisor(referral, by)
    _check_state(referral, ReferralState.OPEN)
    return _step(referral, by, ReferralStep.ACCEPTED, body=note, to_state=ReferralState.ACCEPTED,
                 notify_user_id=referral.referred_by_id, now=now, submission_key=submission_key)


def decline(
    referral: Referral,
    by: User,
    *,
    reason: str,
    now: datetime | None = None,
    submission_key: str | None = None,
) -> TimelineEntry:
    """The supervisor declines the referral, saying why.

    :raise ReferralError: if ``by`` is not its supervisor, it is not open, or the reason is
        empty.
    """
    now = now or now_utc()
    check_not_recorded(submission_key)
    _check_supervisor(referral, by)
    _check_state(referral, ReferralState.OPEN)
    if not reason.strip():
        raise ReferralError("no-reason")
    return _step(referral, by, ReferralStep.DECLINED, body=reason,
                 to_state=ReferralState.DECLINED, notify_user_id=referral.referred_by_id,
                 now=now, submission_key=submission_key)


def respond(
    referral: Referral,
    by: User,
    *,
    body: str,
    now: datetime | None = None,
    submission_key: str | None = None,
) -> TimelineEntry:
    """The supervisor reports what they did (e.g. an online thesis session); as often as needed.

    :raise ReferralError: if ``by`` is not its supervisor, it is not accepted, or the text is
        empty.
    """
    now = now or now_utc()
    check_not_recorded(submission_key)
    _check_supervisor(referral, by)
    _check_state(referral, ReferralState.ACCEPTED)
    if not body.strip():
        raise ReferralError("empty")
    return _step(referral, by, ReferralStep.RESPONDED, body=body, to_state=None,
                 notify_user_id=referral.referred_by_id, now=now, submission_key=submission_key)


def mark_done(
    referral: Referral,
    by: User,
    *,
    note: str = "",
    now: datetime | None = None,
    submission_key: str | None = None,
) -> TimelineEntry:
    """The supervisor closes an accepted referral as done.

    :raise ReferralError: if ``by`` is not its supervisor or it is not accepted (a declined,
        revoked or open referral cannot be marked done).
    """
    now = now or now_utc()
    check_not_recorded(submission_key)
    _check_supervisor(referral, by)
    _check_state(referral, ReferralState.ACCEPTED)
    return _step(referral, by, ReferralStep.DONE, body=note, to_state=ReferralState.DONE,
                 notify_user_id=referral.referred_by_id, now=now, submission_key=submission_key)


def revoke(
    referral: Referral,
    by: User,
    *,
    reason: str = "",
    now: datetime | None = None,
    ip: str = "",
    submission_key: str | None = None,
) -> TimelineEntry:
    """Withdraw an open referral: only the referring counsellor or the deputy secretary.

    :raise ReferralError: if ``by`` may not revoke it or it is no longer open.
    """
    now = now or now_utc()
    check_not_recorded(submission_key)
    if by.id != referral.referred_by_id and by.role != Role.DEPUTY_SECRETARY:
        raise ReferralError("not-allowed")
    _check_state(referral, ReferralState.OPEN)
    return _step(referral, by, ReferralStep.REVOKED, body=reason, to_state=ReferralState.REVOKED,
                 notify_user_id=referral.supervisor_id, now=now, submission_key=submission_key,
                 ip=ip)
