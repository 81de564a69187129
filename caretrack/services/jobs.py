"""The user's jobs as their pages list them."""

from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlalchemy.orm import selectinload

from caretrack.access import visible_jobs
from caretrack.extensions import db
from caretrack.models import Job, JobState, User

#: How long a finished job stays in the user's list.
RECENT = timedelta(days=7)
#: How many jobs the list shows at most.
LIMIT = 50


def recent_jobs(user: User, now: datetime, *, limit: int = LIMIT) -> list[Job]:
    """Return the user's jobs still running or finished within :data:`RECENT`, newest first."""
    return list(db.session.scalars(
        visible_jobs(user)
        .where(or_(Job.state.in_((JobState.QUEUED, JobState.RUNNING)),
                   Job.created_at >= now - RECENT))
        .options(selectinload(Job.file))
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(limit)
    ))
