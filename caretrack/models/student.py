"""Students, their care categories and their concern level."""

from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caretrack.extensions import db
from caretrack.models.base import UTCDateTime, now_utc
from caretrack.models.user import User


class Programme(StrEnum):
    UNDERGRADUATE = "undergraduate"
    MASTER = "master"
    PHD = "phd"
    MBA_FULL_TIME = "mba_full_time"
    MBA_PART_TIME = "mba_part_time"


class Gender(StrEnum):
    MALE = "M"
    FEMALE = "F"


class Leaving(StrEnum):
    """Why a student left the college (a roster field, with the leaving date)."""

    GRADUATED = "graduated"
    WITHDRAWN = "withdrawn"


class ConcernLevel(StrEnum):
    NORMAL = "normal"
    ELEVATED = "elevated"
    HIGH = "high"


class Student(db.Model):
    __tablename__ = "students"
    #: The review queue (high concern or flagged, in a college) found by index, not by a scan
    #: of the college's students.
    __table_args__ = (
        Index("ix_students_college_concern", "college_id", "concern_level"),
        Index("ix_students_college_flagged", "college_id", "flagged_for_review"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The college's student number, kept as text: leading zeros matter.
    student_number: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    #: One of :class:`Gender`.
    gender: Mapped[str] = mapped_column(String(1))
    #: One of :class:`Programme`.
    programme: Mapped[str] = mapped_column(String(20), index=True)
    #: Year the student entered, e.g. 2017 for the 2017 undergraduate cohort.
    cohort: Mapped[int] = mapped_column(Integer, index=True)
    class_name: Mapped[str] = mapped_column(String(100), index=True)
    #: The college the student belongs to (their counsellor's).
    college_id: Mapped[int] = mapped_column(ForeignKey("colleges.id"), index=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: The academic supervisor of a graduate student.
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    phone: Mapped[str] = mapped_column(String(32), default="")
    #: The student's e-mail address from the roster ("" for none): notices reach it.
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    province: Mapped[str] = mapped_column(String(50), default="")
    city: Mapped[str] = mapped_column(String(50), default="")
    #: GB/T 2260 codes of the province ("42") and city ("4201"); "" for a place the
    #: provinces-and-cities dataset does not have (see caretrack.services.places).
    province_code: Mapped[str] = mapped_column(String(6), default="")
    city_code: Mapped[str] = mapped_column(String(6), default="")
    on_campus: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    #: Employed while studying (most part-time MBA students, some PhD students).
    employed: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    #: One of :class:`Leaving` once the student graduated or withdrew; None while studying.
    leaving: Mapped[str | None] = mapped_column(String(10))
    #: The day the student left (college day); the retention policy counts from it.
    left_on: Mapped[date | None] = mapped_column(Date, index=True)
    #: Current level, one of :class:`ConcernLevel`; its history is in ConcernChange.
    concern_level: Mapped[str] = mapped_column(String(10), default=ConcernLevel.NORMAL, index=True)
    #: Set by a counsellor to put the student in the deputy secretary's review queue.
    flagged_for_review: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Set when the record was merged into another one (a duplicate): it is then only a
    #: pointer to that record, so old links resolve, and every list leaves it out.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"), index=True)
    #: When the deputy secretary last reviewed the student; orders the review queue.
    last_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)
    version_id: Mapped[int] = mapped_column(Integer, default=1)

    college: Mapped["College"] = relationship()  # noqa: F821
    counsellor: Mapped[User] = relationship(foreign_keys=[counsellor_id], lazy="joined")
    supervisor: Mapped[User | None] = relationship(foreign_keys=[supervisor_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version_id}

    def __repr__(self) -> str:
        return f"<Student {self.student_number} {self.name}>"

    @property
    def is_graduate(self) -> bool:
        return self.programme != Programme.UNDERGRADUATE


class CareCategory(db.Model):
    __tablename__ = "care_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable identifier used by code and imports, e.g. "hubei".
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    #: CSS colour of the category's badge, "#rrggbb".
    colour: Mapped[str] = mapped_column(String(7), default="#6c757d")
    #: Default days between re-checks for a student in this category (0 = none).
    cadence_days: Mapped[int] = mapped_column(Integer, default=7)
    #: Days of isolation from the assignment's start (Hubei contact: 14); None = no window.
    isolation_days: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<CareCategory {self.code}>"

    def name_for(self, locale: str) -> str:
        return self.name_zh if str(locale).startswith("zh") else self.name_en


class CategoryAssignment(db.Model):
    """One period during which a student held a care category; ended ones stay as history."""

    __tablename__ = "category_assignments"
    __table_args__ = (
        Index("ix_category_assignments_student_open", "student_id", "ended_on"),
        Index("ix_category_assignments_category_open", "category_id", "ended_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("care_categories.id"))
    started_on: Mapped[date] = mapped_column(Date)
    #: None while the student still holds the category.
    ended_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    end_reason: Mapped[str | None] = mapped_column(Text)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    student: Mapped[Student] = relationship()
    category: Mapped[CareCategory] = relationship(lazy="joined")
    set_by: Mapped[User] = relationship(foreign_keys=[set_by_id])
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id])

    @property
    def is_active(self) -> bool:
        return self.ended_on is None

    @property
    def isolation_ends_on(self) -> date | None:
        if self.category.isolation_days is None:
            return None
        return self.started_on + timedelta(days=self.category.isolation_days)


class ConcernChange(db.Model):
    """One change of a student's concern level, with its reason."""

    __tablename__ = "concern_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    level: Mapped[str] = mapped_column(String(10))
    previous_level: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    set_by: Mapped[User] = relationship()


class StudentMerge(db.Model):
    """Two records of one student made one: what moved from the merged record to the
    surviving one, so the merge can be undone while nothing new was written."""

    __tablename__ = "student_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: JSON: {table: [row ids moved]}, and "_last": {table: the highest row id at the merge}.
    moved: Mapped[str] = mapped_column(Text, default="{}")
    #: The surviving record's version at the merge: a later edit of it stops the undo.
    survivor_version: Mapped[int] = mapped_column(Integer)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    survivor: Mapped[Student] = relationship(foreign_keys=[survivor_id])
    merged: Mapped[Student] = relationship(foreign_keys=[merged_id])
    merged_by: Mapped[User | None] = relationship(foreign_keys=[merged_by_id])
