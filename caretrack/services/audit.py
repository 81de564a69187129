"""Recording audit events."""

from flask import has_request_context, request

from caretrack.extensions import db
from caretrack.models import AuditEvent, User


def record_event(
    action: str, user: User | None, student_id: int | None = None, detail: str = ""
) -> AuditEvent:
    """Add an audit event for ``action`` by ``user``; the request gives the address."""
    ip = ""
    if has_request_context():
        ip = (request.remote_addr or "")[:45]
    event = AuditEvent(
        action=action,
        user_id=user.id if user is not None and user.is_authenticated else None,
        student_id=student_id,
        ip=ip,
        detail=detail[:200],
    )
    db.session.add(event)
    return event
