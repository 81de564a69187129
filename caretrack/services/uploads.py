"""Files kept in the database, where every worker on every host reaches them: an upload
between its preview and its confirmation (and while a job imports it), a finished export
waiting for its download.

An upload is named by a random token and readable only by who uploaded it; it is deleted once
imported, or after :data:`PENDING_MAX_AGE`. A job's finished file is kept for
:data:`DOWNLOAD_MAX_AGE`. :func:`discard_expired_files` (run by ``flask jobs tick``, and on
each new upload) deletes what has expired.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import undefer

from caretrack.extensions import db
from caretrack.models import Job, StoredFile, User
from caretrack.services.audit import record_event

#: How long an uploaded file waits for its confirmation.
PENDING_MAX_AGE = timedelta(days=1)
#: How long a finished file (an export a job made) waits for its download.
DOWNLOAD_MAX_AGE = timedelta(days=1)
#: What an upload waiting for its confirmation is kept as.
ROSTER_UPLOAD = "roster-upload"


@dataclass
class PendingUpload:
    """An uploaded file kept between its preview and its confirmation."""

    token: str
    filename: str
    data: bytes
    id: int = 0


def stage_upload(
    user: User, filename: str, data: bytes, now: datetime,
    check: Callable[[str, bytes], object] | None = None,
) -> str:
    """Keep ``user``'s uploaded file for its preview and its confirmation, once ``check``
    (given the filename and the data) has accepted it.

    :return: the token that names the kept file.
    :raise: whatever ``check`` raises for a file it refuses; nothing is kept then.
    """
    if check is not None:
        check(filename, data)
    discard_expired_files(now)
    kept = keep_file(user, ROSTER_UPLOAD, Path(filename).name[:200], data, now,
                     expires_at=now + PENDING_MAX_AGE)
    return kept.token


def keep_file(owner: User | None, purpose: str, filename: str, data: bytes, now: datetime, *,
              expires_at: datetime, content_type: str = "application/octet-stream"
              ) -> StoredFile:
    """Store ``data`` for ``owner`` until ``expires_at``."""
    kept = StoredFile(token=secrets.token_urlsafe(18), owner_id=getattr(owner, "id", None),
                      purpose=purpose, filename=filename[:200], content_type=content_type,
                      size=len(data), data=data, created_at=now, expires_at=expires_at)
    db.session.add(kept)
    db.session.flush()
    return kept


def load_upload(user: User, token: str) -> PendingUpload | None:
    """Return the file ``user`` uploaded under ``token``, or None if there is none."""
    if not token or len(token) > 32:
        return None
    kept = db.session.scalars(
        select(StoredFile).options(undefer(StoredFile.data)).where(
            StoredFile.token == token, StoredFile.owner_id == user.id,
            StoredFile.purpose == ROSTER_UPLOAD)
    ).one_or_none()
    if kept is None:
        return None
    return PendingUpload(kept.token, kept.filename, kept.data, kept.id)


def discard_upload(user: User, token: str) -> None:
    """Delete a kept upload (after its import, or when the admin starts again)."""
    db.session.execute(delete(StoredFile).where(
        StoredFile.token == token, StoredFile.owner_id == user.id,
        StoredFile.purpose == ROSTER_UPLOAD))


def record_refused_upload(user: User, kind: str, filename: str, reason: str, *,
                          now: datetime | None = None, ip: str = "") -> None:
    """Audit an upload refused before anything was kept or written: who (the user), when,
    what (``kind``: "roster" or "sheet", and the file's name) and why (the reason's code)."""
    record_event("upload.refused", user, detail=f"{kind}:{Path(filename).name[:60]}:{reason}",
                 now=now, ip=ip)


def discard_expired_files(now: datetime) -> int:
    """Delete the kept files whose time is up; each upload never imported is audited as
    abandoned ("upload.abandoned", by the user who uploaded it).

    :return: how many files were deleted.
    """
    expired = db.session.execute(
        select(StoredFile.id, StoredFile.owner_id, StoredFile.purpose, StoredFile.filename)
        .where(StoredFile.expires_at <= now)
    ).all()
    if not expired:
        return 0
    owners = {user.id: user for user in db.session.scalars(
        select(User).where(User.id.in_({row.owner_id for row in expired if row.owner_id})))}
    for row in expired:
        if row.purpose == ROSTER_UPLOAD:
            record_event("upload.abandoned", owners.get(row.owner_id),
                         detail=f"roster:{row.filename}"[:200], now=now)
    ids = [row.id for row in expired]
    db.session.execute(update(Job).where(Job.file_id.in_(ids)).values(file_id=None))
    db.session.execute(delete(StoredFile).where(StoredFile.id.in_(ids)))
    return len(ids)
