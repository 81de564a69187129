"""Recording audit events. Service verbs write them; views never do."""

from datetime import datetime

from caretrack.extensions import db
from caretrack.models import AuditEvent, User, now_utc


def record_event(
    action: str,
    user: User | None,
    student_id: int | None = None,
    *,
    detail: str = "",
    now: datetime | None = None,
    ip: str = "",
) -> AuditEvent:
    """Add an audit event for ``action`` by ``user`` at ``now`` from the client address ``ip``."""
    event = AuditEvent(
        action=action,
        user_id=user.id if user is not None and user.is_authenticated else None,
        student_id=student_id,
        ip=(ip or "")[:45],
        detail=detail[:200],
        occurred_at=now or now_utc(),
    )
    db.session.add(event)
    return event
