"""Recording audit events. Service verbs write them; views never do."""

import unicodedata
from datetime import datetime

from sqlalchemy import insert

from caretrack.extensions import db
from caretrack.models import AuditEvent, AuditEventStudent, User, now_utc


def clean_text(text: str) -> str:
    """``text`` without control or format characters (CR, LF, NUL, escapes, bidi marks), so an
    audit line is always one line that says what it shows."""
    return "".join(ch for ch in text or "" if unicodedata.category(ch)[0] != "C")


def record_event(
    action: str,
    user: User | None,
    student_id: int | None = None,
    *,
    detail: str = "",
    now: datetime | None = None,
    ip: str = "",
    students: list[int] | None = None,
) -> AuditEvent:
    """Add an audit event for ``action`` by ``user`` at ``now`` from the client address ``ip``;
    an event about several students (a bulk action, a transfer) lists them in ``students``."""
    event = AuditEvent(
        action=action,
        user_id=user.id if user is not None and user.is_authenticated else None,
        student_id=student_id,
        ip=clean_text(ip)[:45],
        detail=clean_text(detail)[:200],
        occurred_at=now or now_utc(),
    )
    db.session.add(event)
    if students:
        db.session.flush()
        ids = list(dict.fromkeys(students))
        for start in range(0, len(ids), 1000):
            db.session.execute(insert(AuditEventStudent), [
                {"event_id": event.id, "student_id": i} for i in ids[start:start + 1000]])
    return event


def record_refusal(user: User | None, student_id: int | None, *, detail: str,
                   ip: str = "") -> None:
    """Keep, whatever the request does next, that ``user`` was refused a look at a student
    (the 404 of the access rule). The request's own work is rolled back, as the 404 would do,
    and the event is committed on its own. ``student_id`` is kept only for a student that
    exists; ``detail`` says what was asked for (e.g. "student:12")."""
    from caretrack.models import Student

    db.session.rollback()
    if student_id is not None and db.session.get(Student, student_id) is None:
        student_id = None
    record_event("student.refused", user, student_id, detail=detail, ip=ip)
    db.session.commit()
