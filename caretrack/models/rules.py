"""The status rules: which daily status raises concern, suggests a care category and asks for
a re-check; the college's risk areas; the suggestions the rules leave on a student's page."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caretrack.extensions import db
from caretrack.models.base import UTCDateTime, now_utc
from caretrack.models.student import CareCategory, Student


class StatusTrigger(StrEnum):
    FEVER = "fever"
    SYMPTOMS = "symptoms"
    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"
    #: Arrived in Hubei (the status's province is Hubei, the one before was not).
    HUBEI = "hubei"
    #: Arrived in a place on the college's risk-area list.
    RISK_AREA = "risk_area"
    #: A contact with Hubei or a risk area, reported for the first time in 14 days.
    RISK_CONTACT = "risk_contact"


class StatusRule(db.Model):
    """What one trigger of a new daily status does; the admin edits the table."""

    __tablename__ = "status_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: One of :class:`StatusTrigger`.
    trigger: Mapped[str] = mapped_column(String(20), unique=True)
    #: The concern level it raises to (a :class:`ConcernLevel`); "normal" raises nothing.
    concern_level: Mapped[str] = mapped_column(String(10), default="high")
    #: Code of the care category it suggests; "" suggests none.
    category_code: Mapped[str] = mapped_column(String(40), default="")
    #: Whether it schedules a re-check due the same day for the counsellor.
    schedules_recheck: Mapped[bool] = mapped_column(Boolean, default=True)
    #: An inactive rule does nothing.
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RiskArea(db.Model):
    """A province or a city on the college's risk-area list, from one day (to another)."""

    __tablename__ = "risk_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short Chinese name of the province, as daily statuses store it ("湖北").
    province: Mapped[str] = mapped_column(String(50))
    #: "" for the whole province.
    city: Mapped[str] = mapped_column(String(50), default="")
    from_date: Mapped[date] = mapped_column(Date)
    #: Last day on the list; None while it stays on it.
    to_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class SuggestionKind(StrEnum):
    #: Give the student a care category (``category`` says which).
    CATEGORY = "category"
    #: The student is back to normal: lower the concern level.
    LOWER_CONCERN = "lower_concern"


class StatusSuggestion(db.Model):
    """A step the status rules suggest on the student's page, until applied or dismissed."""

    __tablename__ = "status_suggestions"
    __table_args__ = (Index("ix_status_suggestions_student_open", "student_id", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    #: One of :class:`SuggestionKind`.
    kind: Mapped[str] = mapped_column(String(20))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("care_categories.id"))
    #: The status that led to it, as the concern change's reason reads.
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: When it was applied or dismissed; None while it is shown.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: True when applied, False when dismissed (None while open).
    applied: Mapped[bool | None] = mapped_column(Boolean)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    student: Mapped[Student] = relationship()
    category: Mapped[CareCategory | None] = relationship(lazy="joined")
