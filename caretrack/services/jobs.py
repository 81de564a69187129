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
    """Return the user's jobs still running or finished within :data:`RECENT`, newest first,
    without the checks of roster files that were gone on from (imported, or checked again):
    the import stands for them."""
    jobs = db.session.scalars(
        visible_jobs(user)
        .where(or_(Job.state.in_((JobState.QUEUED, JobState.RUNNING)),
                   Job.created_at >= now - RECENT))
        .options(selectinload(Job.file))
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(2 * limit)
    )
    shown, later_uploads = [], set()
    for job in jobs:  # newest first: a check's import or newer check comes before it
        token = (job.params or {}).get("token")
        if job.kind == "roster.preview" and token in later_uploads and job.finished:
            continue
        if job.kind in ("roster.preview", "roster.import") and token:
            later_uploads.add(token)
        shown.append(job)
    return shown[:limit]
