"""The retention policy, the purges it ran, and the daily numbers kept after a purge."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caretrack.extensions import db
from caretrack.models.base import UTCDateTime, now_utc
from caretrack.models.user import User

#: Days the data is kept after the emergency ended (or the student left), unless a data class
#: has its own period.
DEFAULT_RETENTION_DAYS = 90


class DataClass(StrEnum):
    """What the policy deletes, each with its own retention period."""

    #: Daily statuses, the students' own check-ins, and the status changes on the timeline.
    STATUSES = "statuses"
    #: The health a counsellor observed in a follow-up.
    FOLLOW_UP_HEALTH = "follow_up_health"
    #: What was written in follow-ups, notes, supply deliveries and their corrections.
    FREE_TEXT = "free_text"
    #: Personal and class check-in links (and so the phones' remembered identity).
    CHECKIN_LINKS = "checkin_links"
    #: Who a notice went to and who acknowledged it.
    ACKNOWLEDGEMENTS = "acknowledgements"
    #: Early-return requests' texts and their timeline steps' texts.
    RETURN_REQUESTS = "return_requests"


class RetentionPolicy(db.Model):
    """A college's one retention policy: when its emergency ended and how long each data
    class of its students is kept after it (and after a student left)."""

    __tablename__ = "retention_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    college_id: Mapped[int] = mapped_column(ForeignKey("colleges.id"), unique=True)
    #: The last day of the emergency (college day); None while it goes on.
    emergency_ended_on: Mapped[date | None] = mapped_column(Date)
    #: Days kept after the emergency ended, for every class without its own period.
    retention_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_RETENTION_DAYS)
    #: {data class: days} for the classes with their own period.
    class_days: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    version_id: Mapped[int] = mapped_column(Integer, default=1)

    updated_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version_id}

    def days_for(self, data_class: str) -> int:
        """The retention period of ``data_class``, in days."""
        return int((self.class_days or {}).get(str(data_class), self.retention_days))


class RetentionPurge(db.Model):
    """One run of a college's purge that deleted something: when, and how much of each
    class."""

    __tablename__ = "retention_purges"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The college whose policy ran; None for a purge of the whole installation, run before
    #: each college had a policy of its own.
    college_id: Mapped[int | None] = mapped_column(ForeignKey("colleges.id"), index=True)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
    #: The college day of the run; the purged texts say it.
    purged_on: Mapped[date] = mapped_column(Date)
    #: {data class: rows deleted or emptied}.
    counts: Mapped[dict] = mapped_column(JSON, default=dict)


class RetainedDayTotals(db.Model):
    """A counsellor's numbers of one day, as the college's report showed them, kept when the
    day's statuses are purged: no names, only counts (the fields of ``Totals``)."""

    __tablename__ = "retained_day_totals"
    __table_args__ = (UniqueConstraint("day", "counsellor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: {"students": n, "confirmed": n, ..., "health": {...}, "by_source": {...}}.
    totals: Mapped[dict] = mapped_column(JSON, default=dict)
