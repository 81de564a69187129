"""A counsellor's absence and the colleagues who cover their caseload meanwhile."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caretrack.extensions import db
from caretrack.models.base import UTCDateTime, now_utc
from caretrack.models.user import User


class Absence(db.Model):
    """A counsellor away from ``starts_on`` to ``ends_on`` (college days, both included).

    Covering is not a copy of the caseload: while the window is open, ``access.py`` lets the
    covers see and record for the absent counsellor's students; once it closes (or is
    cancelled) nothing needs undoing.
    """

    __tablename__ = "absences"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The counsellor who is away.
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: First day away, in the college's timezone.
    starts_on: Mapped[date] = mapped_column(Date)
    #: Last day away (included), in the college's timezone; moved by ending early or extending.
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: Set when the absence was cancelled before it started: it never applied.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version_id: Mapped[int] = mapped_column(Integer, default=1)

    counsellor: Mapped[User] = relationship(foreign_keys=[counsellor_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    covers: Mapped[list["AbsenceCover"]] = relationship(
        back_populates="absence", order_by="AbsenceCover.class_name",
        cascade="all, delete-orphan",
    )

    __mapper_args__ = {"version_id_col": version_id}


class AbsenceCover(db.Model):
    """One colleague covering an absent counsellor's whole caseload, or one class of it."""

    __tablename__ = "absence_covers"
    __table_args__ = (UniqueConstraint("absence_id", "class_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    absence_id: Mapped[int] = mapped_column(ForeignKey("absences.id"), index=True)
    #: The counsellor who covers.
    covering_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: The class covered; None: the whole caseload (then it is the absence's only cover).
    class_name: Mapped[str | None] = mapped_column(String(100))

    absence: Mapped[Absence] = relationship(back_populates="covers")
    covering: Mapped[User] = relationship(lazy="joined")
