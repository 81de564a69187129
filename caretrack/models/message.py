"""Messages that leave CareTrack: a class group's robot, and the log of every message sent."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caretrack.extensions import db
from caretrack.models.base import UTCDateTime, now_utc
from caretrack.models.user import User


class GroupService(StrEnum):
    WECOM = "wecom"
    DINGTALK = "dingtalk"


class MessageState(StrEnum):
    #: Not tried yet, or failed and waiting for its next try (``next_attempt_at``).
    PENDING = "pending"
    DELIVERED = "delivered"
    #: Given up: shown to the counsellor.
    FAILED = "failed"


class ClassGroup(db.Model):
    """A class's group robot (企业微信 or DingTalk): its webhook address, kept encrypted and
    never shown again; set by the class's counsellor."""

    __tablename__ = "class_groups"
    __table_args__ = (UniqueConstraint("college_id", "class_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The college of the class (two colleges' classes of one name have a group each).
    college_id: Mapped[int] = mapped_column(ForeignKey("colleges.id"))
    class_name: Mapped[str] = mapped_column(String(100))
    #: One of :class:`GroupService`.
    service: Mapped[str] = mapped_column(String(10))
    #: The webhook address, encrypted (Fernet, keyed from SECRET_KEY).
    webhook_encrypted: Mapped[str] = mapped_column(Text)
    #: DingTalk's signing secret ("加签"), encrypted; None when the robot does not sign.
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    #: The end of the address, so the counsellor can tell which robot it is.
    hint: Mapped[str] = mapped_column(String(12), default="")
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    set_by: Mapped[User] = relationship()


class MessageLog(db.Model):
    """One message sent (or tried) through a channel: who sent it, to whom, which students it
    named, and whether it was delivered."""

    __tablename__ = "message_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who sent it; None for the schedule's reminders.
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: "email", "wecom" or "dingtalk".
    channel: Mapped[str] = mapped_column(String(10))
    #: What it is: "notice", "notice.coverage", "checkin.reminder", ...
    kind: Mapped[str] = mapped_column(String(30))
    #: The class whose group it went to (group robots), or the e-mail address.
    recipient: Mapped[str] = mapped_column(String(200), index=True)
    #: The college of the class whose group it went to (None for an e-mail).
    college_id: Mapped[int | None] = mapped_column(ForeignKey("colleges.id"))
    #: The counsellor it is shown to when it fails (the class's).
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    #: Ids of the students the message names.
    student_ids: Mapped[list] = mapped_column(JSON, default=list)
    #: One of :class:`MessageState`.
    state: Mapped[str] = mapped_column(String(10), default=MessageState.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Why the last try failed ("rate-limited", "bad-key", "timeout", ...).
    error: Mapped[str | None] = mapped_column(String(40))
    #: The service's own answer to the last try (its error code and message).
    answer: Mapped[str | None] = mapped_column(String(200))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sent_by: Mapped[User | None] = relationship(foreign_keys=[sent_by_id])
