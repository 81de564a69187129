"""The referral lifecycle: a counsellor brings a supervisor in for one student.

    open ──accept──> accepted ──respond (any number of times)──> accepted ──mark done──> done
      │ └──decline (with a reason)──> declined
      └──revoke (the referring counsellor or the deputy secretary)──> revoked

Every step is a timeline entry of the student (the referral itself: ``EntryKind.REFERRAL``,
each later step: ``EntryKind.REFERRAL_STEP``, both with ``referral_id`` set), an audit event
and a notification for the other side. A refused step raises :class:`RuleError` and changes
nothing.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from caretrack.access import (
    can_record_for,
    is_referral_revoker,
    is_referral_supervisor,
    is_supervisor_account,
    same_college,
)
from caretrack.extensions import db
from caretrack.models import (
    EntryKind,
    Referral,
    ReferralState,
    Student,
    TimelineEntry,
    Urgency,
    User,
    now_utc,
)
from caretrack.services.audit import record_event
from caretrack.services.errors import RuleError
from caretrack.services.notifications import mark_seen, notify
from caretrack.services.timeline import add_entry, refusal


class ReferralStep(StrEnum):
    """What a referral step entry records (its ``details["action"]``)."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    RESPONDED = "responded"
    DONE = "done"
    REVOKED = "revoked"


#: States in which the referral still asks something of the supervisor.
ACTIVE_STATES = (ReferralState.OPEN, ReferralState.ACCEPTED)


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


def _audit(action: str, by: User, referral: Referral, now: datetime, ip: str) -> None:
    record_event(action, by, referral.student_id, detail=f"referral:{referral.id}", now=now,
                 ip=ip)


def record_view(referral: Referral, user: User, *, now: datetime | None = None,
                ip: str = "") -> None:
    """Record that ``user`` opened the referral's thread: its notifications are seen, the
    audit has the view."""
    now = now or now_utc()
    mark_seen(user, referral_id=referral.id, now=now)
    _audit("referral.view", user, referral, now, ip)


def active_referrals(student: Student) -> list[Referral]:
    """The student's open or accepted referrals, newest first (the form names them at once)."""
    return list(db.session.scalars(
        select(Referral).where(Referral.student_id == student.id,
                               Referral.state.in_(ACTIVE_STATES))
        .options(selectinload(Referral.supervisor)).order_by(Referral.id.desc())
    ))


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

    :raise RuleError: if ``by`` is not the student's counsellor, ``supervisor`` is not an
        active supervisor of the student's college, the reason is empty, or the student has
        an open or accepted referral to the same supervisor.
    :raise DuplicateSubmission: if the form was recorded already.
    """
    now = now or now_utc()
    if not can_record_for(by, student):
        raise RuleError("not-allowed")
    if not is_supervisor_account(supervisor):
        raise RuleError("not-a-supervisor", "supervisor_id")
    if not same_college(supervisor, student):
        raise RuleError("supervisor-elsewhere", "supervisor_id")
    if not reason.strip():
        raise RuleError("no-reason", "reason")
    active = db.session.scalars(
        select(Referral.id).where(
            Referral.student_id == student.id,
            Referral.supervisor_id == supervisor.id,
            Referral.state.in_(ACTIVE_STATES),
        )
    ).first()
    if active is not None:
        raise refusal("already-referred", "supervisor_id", submission_key=submission_key)
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


#: Each step: the state it needs, the code that refuses it in another state, the state it
#: leads to (None: unchanged), and the form field its text is written in.
STEP_RULES = {
    ReferralStep.ACCEPTED: (ReferralState.OPEN, "referral-not-open", ReferralState.ACCEPTED,
                            "note"),
    ReferralStep.DECLINED: (ReferralState.OPEN, "referral-not-open", ReferralState.DECLINED,
                            "reason"),
    ReferralStep.RESPONDED: (ReferralState.ACCEPTED, "referral-not-accepted", None, "body"),
    ReferralStep.DONE: (ReferralState.ACCEPTED, "referral-not-accepted", ReferralState.DONE,
                        "note"),
    ReferralStep.REVOKED: (ReferralState.OPEN, "referral-not-open", ReferralState.REVOKED,
                           "reason"),
}
CLOSING_STATES = (ReferralState.DECLINED, ReferralState.DONE, ReferralState.REVOKED)


def may_take_step(user: User, referral: Referral, step: ReferralStep) -> bool:
    """Whether ``user`` is the one who takes ``step`` of the referral (in any state): its
    supervisor, or for revoking the counsellor who referred or the deputy secretary."""
    if step == ReferralStep.REVOKED:
        return is_referral_revoker(user, referral)
    return is_referral_supervisor(user, referral)


def take_step(
    referral: Referral,
    by: User,
    step: ReferralStep,
    *,
    text: str = "",
    now: datetime | None = None,
    ip: str = "",
    submission_key: str | None = None,
) -> TimelineEntry:
    """Take one step of the referral and record it everywhere: the timeline entry, the
    notification of the other side, the audit.

    :raise RuleError: "not-the-supervisor" / "not-allowed" if ``by`` does not take this step;
        "referral-not-open" / "referral-not-accepted" (a conflict: someone acted meanwhile)
        if the referral's state no longer allows it; "no-reason" / "no-response" for a
        decline or a response without text.
    :raise DuplicateSubmission: if the same form was recorded already.
    """
    now = now or now_utc()
    needed, not_in_state, to_state, field = STEP_RULES[step]
    if not may_take_step(by, referral, step):
        raise RuleError("not-allowed" if step == ReferralStep.REVOKED else "not-the-supervisor")
    if referral.state != needed:
        raise refusal(not_in_state, field, submission_key=submission_key, conflict=True)
    if step == ReferralStep.DECLINED and not text.strip():
        raise RuleError("no-reason", field)
    if step == ReferralStep.RESPONDED and not text.strip():
        raise RuleError("no-response", field)
    previous = referral.state
    entry = add_entry(
        referral.student, EntryKind.REFERRAL_STEP, by, body=text, now=now,
        referral_id=referral.id, submission_key=submission_key,
        details={"action": str(step), "from": str(previous), "to": str(to_state or previous)},
    )
    if to_state is not None:
        referral.state = to_state
        if to_state in CLOSING_STATES:
            referral.closed_at = now
    referral.updated_at = now
    db.session.flush()
    if step == ReferralStep.REVOKED:
        notify(referral.supervisor_id, "referral.revoked", student_id=referral.student_id,
               referral_id=referral.id, now=now)
    else:
        notify(referral.referred_by_id, "referral.response", student_id=referral.student_id,
               referral_id=referral.id, now=now)
    _audit(f"referral.{step}", by, referral, now, ip)
    return entry


def accept(referral: Referral, by: User, *, note: str = "", **options) -> TimelineEntry:
    """The supervisor takes the open referral on (see :func:`take_step`)."""
    return take_step(referral, by, ReferralStep.ACCEPTED, text=note, **options)


def decline(referral: Referral, by: User, *, reason: str, **options) -> TimelineEntry:
    """The supervisor declines the open referral, saying why (see :func:`take_step`)."""
    return take_step(referral, by, ReferralStep.DECLINED, text=reason, **options)


def respond(referral: Referral, by: User, *, body: str, **options) -> TimelineEntry:
    """The supervisor reports what they did (e.g. an online thesis session), as often as
    needed while the referral is accepted (see :func:`take_step`)."""
    return take_step(referral, by, ReferralStep.RESPONDED, text=body, **options)


def mark_done(referral: Referral, by: User, *, note: str = "", **options) -> TimelineEntry:
    """The supervisor closes the accepted referral as done (see :func:`take_step`)."""
    return take_step(referral, by, ReferralStep.DONE, text=note, **options)


def revoke(referral: Referral, by: User, *, reason: str = "", **options) -> TimelineEntry:
    """The referring counsellor or the deputy secretary withdraws the open referral (see
    :func:`take_step`)."""
    return take_step(referral, by, ReferralStep.REVOKED, text=reason, **options)
