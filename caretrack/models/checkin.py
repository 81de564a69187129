"""Students' own daily check-ins, the links they come in by, and failed identity checks."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caretrack.extensions import db
from caretrack.models.base import UTCDateTime, now_utc
from caretrack.models.student import Student


class LinkKind(StrEnum):
    #: One student's own link (e-mail, private message, printed QR code).
    PERSONAL = "personal"
    #: A class's link, posted in its group; the student proves who they are.
    CLASS = "class"


class CheckinLink(db.Model):
    """The current generation of a personal or class check-in link.

    The link's token is derived from the secret key, the scope and the generation; only its
    SHA-256 digest is stored, so the table holds no usable copy. Rotating the link increments
    the generation: the old token no longer matches any digest. Revoking it leaves no working
    token at all until the next rotation.
    """

    __tablename__ = "checkin_links"
    __table_args__ = (UniqueConstraint("college_id", "class_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: One of :class:`LinkKind`.
    kind: Mapped[str] = mapped_column(String(10))
    #: The student of a personal link (None for a class link).
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"), unique=True)
    #: The college of a class link (None for a personal link): two colleges' classes of one
    #: name have a link each.
    college_id: Mapped[int | None] = mapped_column(ForeignKey("colleges.id"))
    #: The class of a class link (None for a personal link).
    class_name: Mapped[str | None] = mapped_column(String(100))
    #: Whether the token is derived from the class name alone, not the college and the class:
    #: a class link issued before colleges, whose token (posted in the group) keeps working
    #: until the link's next rotation.
    unscoped: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Incremented by each rotation; part of the token's derivation.
    generation: Mapped[int] = mapped_column(Integer, default=1)
    #: Hex SHA-256 of the current token.
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    rotated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: Set when the counsellor revoked the link: it answers like an unknown one until a new
    #: one is issued (a rotation, which clears it).
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CheckIn(db.Model):
    """One submission of a student's own check-in; every one is kept, the day's last counts."""

    __tablename__ = "checkins"
    __table_args__ = (Index("ix_checkins_student_day", "student_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    #: The college's calendar day the check-in is for.
    day: Mapped[date] = mapped_column(Date, index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    province: Mapped[str] = mapped_column(String(50), default="")
    city: Mapped[str] = mapped_column(String(50), default="")
    #: Outside mainland China; ``country`` then says where.
    abroad: Mapped[bool] = mapped_column(Boolean, default=False)
    country: Mapped[str] = mapped_column(String(60), default="")
    on_campus: Mapped[bool] = mapped_column(Boolean, default=False)
    #: One of :class:`caretrack.models.daily.Health`.
    health: Mapped[str] = mapped_column(String(20))
    #: Body temperature in °C, given when feverish.
    temperature: Mapped[Decimal | None] = mapped_column(Numeric(3, 1))
    #: Contact with someone from Hubei or a risk area in the last 14 days.
    risk_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The student's note to their counsellor (never written to the audit log).
    note: Mapped[str] = mapped_column(Text, default="")
    #: Submitted after the students' cut-off (CHECKIN_DEADLINE, college time).
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    #: One of :class:`LinkKind`: which link the student came in by.
    via: Mapped[str] = mapped_column(String(10))
    #: Whether it became the day's status (False when the counsellor's status of the day, or
    #: a submitted report, stands).
    applied: Mapped[bool] = mapped_column(Boolean, default=True)

    student: Mapped[Student] = relationship()


class CheckinAttempt(db.Model):
    """One failed identity check on a class link, counted by student number and by address."""

    __tablename__ = "checkin_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "number:<student number>" or "address:<ip>".
    key: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (Index("ix_checkin_attempts_key_at", "key", "at"),)
