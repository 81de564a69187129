"""In-app notifications: new items that need a user, cleared when seen."""

from datetime import datetime

from sqlalchemy import func, select, update

from caretrack.extensions import db
from caretrack.models import Notification, User, now_utc

#: Notification kind -> the navigation endpoint whose badge counts it.
KIND_ENDPOINT = {
    "referral.new": "referrals.index",
    "referral.response": "referrals.index",
    "referral.revoked": "referrals.index",
    "review.request": "rechecks.index",
    #: A status rule fired for a student of the counsellor (a re-check due today with it).
    "status.alert": "rechecks.index",
    #: A student of the counsellor asked to return early.
    "return.new": "returns.index",
    #: The counsellor recommended on a request: the deputy decides.
    "return.recommended": "returns.index",
    #: The deputy decided a request of the counsellor's student.
    "return.decided": "returns.index",
    #: An absence the user is away for or covers was recorded, ended early, extended or
    #: cancelled by someone else.
    "absence.changed": "absences.index",
    #: The college's report of the day reached the user's sign-off stage.
    "sign_off.turn": "reports.sign_off_page",
    #: The stage after the user's returned the college's report to it.
    "sign_off.returned": "reports.sign_off_page",
    #: The university office's deadline passed and the college's report is not signed off.
    "sign_off.missing": "reports.sign_off_page",
    #: Students were transferred to the counsellor's caseload, or out of it.
    "transfer.in": "students.index",
    "transfer.out": "students.index",
    #: Students of the counsellor have not checked in yet (the schedule's reminder).
    "checkin.missing": "reports.daily",
    #: The counsellor's daily report is not submitted and its deadline comes.
    "report.due": "reports.daily",
}


def notify(
    user_id: int,
    kind: str,
    *,
    student_id: int | None = None,
    referral_id: int | None = None,
    now: datetime | None = None,
) -> Notification:
    """Tell ``user_id`` that something new needs them."""
    if kind not in KIND_ENDPOINT:
        raise ValueError(f"unknown notification kind {kind!r}")
    notification = Notification(
        user_id=user_id, kind=kind, student_id=student_id, referral_id=referral_id,
        created_at=now or now_utc(),
    )
    db.session.add(notification)
    db.session.flush()
    return notification


def unseen_counts(user: User) -> dict[str, int]:
    """Unseen notifications of ``user`` per navigation endpoint, in one query."""
    rows = db.session.execute(
        select(Notification.kind, func.count(Notification.id))
        .where(Notification.user_id == user.id, Notification.seen_at.is_(None))
        .group_by(Notification.kind)
    ).all()
    counts: dict[str, int] = {}
    for kind, count in rows:
        endpoint = KIND_ENDPOINT.get(kind)
        if endpoint:
            counts[endpoint] = counts.get(endpoint, 0) + count
    return counts


def mark_seen(
    user: User,
    *,
    kinds: tuple[str, ...] | None = None,
    referral_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Clear the user's unseen notifications (of ``kinds``, or about one referral).

    Looks first, and writes only when there is something to clear: a page that clears its
    badge takes no write lock when the badge is already clear (most visits)."""
    conditions = [Notification.user_id == user.id, Notification.seen_at.is_(None)]
    if kinds is not None:
        conditions.append(Notification.kind.in_(kinds))
    if referral_id is not None:
        conditions.append(Notification.referral_id == referral_id)
    if db.session.scalar(select(Notification.id).where(*conditions).limit(1)) is None:
        return 0
    result = db.session.execute(
        update(Notification).where(*conditions).values(seen_at=now or now_utc()))
    return result.rowcount or 0
