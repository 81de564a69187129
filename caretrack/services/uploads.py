"""Uploaded files kept between their preview and their confirmation.

A file waits on disk under a random token, so any worker of any process finds it (set
ROSTER_IMPORT_FOLDER to a shared folder for several hosts); it is deleted once used, or after
:data:`PENDING_MAX_AGE`.
"""

import json
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app

from caretrack.extensions import db
from caretrack.models import User
from caretrack.services.audit import record_event

#: How long an uploaded file waits for its confirmation.
PENDING_MAX_AGE = timedelta(days=1)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass
class PendingUpload:
    """An uploaded file kept between its preview and its confirmation."""

    token: str
    filename: str
    data: bytes


def _pending_folder() -> Path:
    """Return the folder of uploaded files awaiting confirmation."""
    configured = current_app.config.get("ROSTER_IMPORT_FOLDER")
    folder = Path(configured or Path(current_app.instance_path) / "roster-imports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _pending_paths(user: User, token: str) -> tuple[Path, Path] | None:
    if not _TOKEN.match(token or ""):
        return None
    base = _pending_folder() / f"{user.id}-{token}"
    return base.with_name(base.name + ".upload"), base.with_name(base.name + ".json")


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
    discard_expired_uploads(now)
    token = secrets.token_urlsafe(18)
    data_path, meta_path = _pending_paths(user, token)
    for path, body in ((data_path, data),
                       (meta_path, json.dumps({"filename": Path(filename).name[:200]}).encode())):
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(body)
        os.replace(partial, path)
    return token


def load_upload(user: User, token: str) -> PendingUpload | None:
    """Return the file ``user`` uploaded under ``token``, or None if there is none."""
    paths = _pending_paths(user, token)
    if paths is None or not paths[0].exists() or not paths[1].exists():
        return None
    filename = json.loads(paths[1].read_text()).get("filename", "")
    return PendingUpload(token, filename, paths[0].read_bytes())


def discard_upload(user: User, token: str) -> None:
    """Delete a kept upload (after its import, or when the admin starts again)."""
    for path in _pending_paths(user, token) or ():
        path.unlink(missing_ok=True)


def record_refused_upload(user: User, kind: str, filename: str, reason: str, *,
                          now: datetime | None = None, ip: str = "") -> None:
    """Audit an upload refused before anything was kept or written: who (the user), when,
    what (``kind``: "roster" or "sheet", and the file's name) and why (the reason's code)."""
    record_event("upload.refused", user, detail=f"{kind}:{Path(filename).name[:60]}:{reason}",
                 now=now, ip=ip)


def discard_expired_uploads(now: datetime) -> None:
    """Delete uploads older than :data:`PENDING_MAX_AGE`; each one never imported is audited
    as abandoned ("upload.abandoned", by the user who uploaded it)."""
    oldest = now.timestamp() - PENDING_MAX_AGE.total_seconds()
    # each kept file before its description, which names the file for the audit
    for path in sorted(_pending_folder().iterdir(), key=lambda p: p.suffix != ".upload"):
        try:
            if path.stat().st_mtime < oldest:
                if path.suffix == ".upload":
                    _record_abandoned(path, now)
                path.unlink(missing_ok=True)
        except FileNotFoundError:  # deleted by another worker meanwhile
            continue


def _record_abandoned(path: Path, now: datetime) -> None:
    user_id, _, _token = path.stem.partition("-")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    meta = path.with_suffix(".json")
    filename = json.loads(meta.read_text()).get("filename", "") if meta.exists() else ""
    record_event("upload.abandoned", user, detail=f"roster:{filename}"[:200], now=now)
