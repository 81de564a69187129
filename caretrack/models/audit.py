"""The audit log, notifications and the record of messages sent."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caretrack.extensions import db
from caretrack.models.base import UTCDateTime, now_utc
from caretrack.models.user import User


class AuditEvent(db.Model):
    """Who did or viewed what, to which student, when, from where. Never edited."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_student_occurred", "student_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: What happened, e.g. "student.view", "follow_up.create", "login.failed".
    action: Mapped[str] = mapped_column(String(50), index=True)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"))
    #: Remote address of the request.
    ip: Mapped[str] = mapped_column(String(45), default="")
    #: A short, non-sensitive qualifier (an entry id, an export's format); never free text.
    detail: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User | None] = relationship(lazy="joined")


class AuditEventStudent(db.Model):
    """One of the students an audit event concerns when it concerns several at once (a bulk
    action, a transfer): the event lists them here, one row each. Never edited."""

    __tablename__ = "audit_event_students"

    event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id"), primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), primary_key=True,
                                            index=True)


class Notification(db.Model):
    """Something new that needs the user; cleared when seen."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_seen", "user_id", "seen_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: e.g. "referral.new", "referral.response", "review.request".
    kind: Mapped[str] = mapped_column(String(30))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SentMessage(db.Model):
    """An email that was sent, keyed so the same message is never sent twice."""

    __tablename__ = "sent_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. "recheck-digest:2026-02-10:user:5".
    key: Mapped[str] = mapped_column(String(120), unique=True)
    recipient: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
