"""Lists of referrals: the supervisor's inbox, the counsellor's and the deputy secretary's view."""

from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from caretrack.access import visible_referrals
from caretrack.extensions import db
from caretrack.models import Notification, Referral, ReferralState, TimelineEntry, Urgency, User
from caretrack.services.dashboard import REFERRAL_AGES
from caretrack.services.referrals import ACTIVE_STATES

STATE_FILTERS = ("active", *[s.value for s in ReferralState])


def inbox_query(
    user: User, *, state: str = "", age: str = "", now: datetime | None = None
) -> Select[tuple[Referral]]:
    """The referrals ``user`` may see, filtered by state ("active" = open or accepted) and by
    age bucket (see REFERRAL_AGES), urgent and oldest active first."""
    query = visible_referrals(user).options(
        joinedload(Referral.student), joinedload(Referral.supervisor),
        joinedload(Referral.referred_by),
    )
    if state == "active":
        query = query.where(Referral.state.in_(ACTIVE_STATES))
    elif state in ReferralState.__members__.values():
        query = query.where(Referral.state == state)
    buckets = {key: (low, high) for key, low, high in REFERRAL_AGES}
    if age in buckets and now is not None:
        low, high = buckets[age]
        query = query.where(Referral.created_at <= now - timedelta(days=low))
        if high is not None:
            query = query.where(Referral.created_at > now - timedelta(days=high))
    return query.order_by(
        Referral.state.in_(ACTIVE_STATES).desc(),
        (Referral.urgency == Urgency.URGENT).desc(),
        Referral.created_at,
        Referral.id,
    )


def age_in_days(referral: Referral, now: datetime) -> int:
    """Return the whole days since the referral was made."""
    return int((now - referral.created_at).total_seconds() // 86400)


def thread(referral: Referral) -> list[TimelineEntry]:
    """The referral's own entries (the referral and each step), oldest first."""
    return list(
        db.session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.referral_id == referral.id)
            .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
        )
    )


def unseen_referral_ids(user: User, referral_ids: list[int]) -> set[int]:
    """Which of these referrals have a notification the user has not seen yet."""
    if not referral_ids:
        return set()
    return set(
        db.session.scalars(
            select(Notification.referral_id).where(
                Notification.user_id == user.id,
                Notification.seen_at.is_(None),
                Notification.referral_id.in_(referral_ids),
            )
        )
    )
