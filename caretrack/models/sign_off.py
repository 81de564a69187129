"""The college's daily sign-off: an ordered list of stages, each approving what the stage
before it passed on, or returning it."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caretrack.extensions import db
from caretrack.models.base import UTCDateTime, now_utc
from caretrack.models.user import Role, User


class Stage(StrEnum):
    #: The counsellors' daily reports (each approved or returned by the next stage).
    REPORTS = "reports"
    #: The league secretary merges the approved reports and passes them on.
    MERGE = "merge"
    #: The deputy secretary checks them.
    CHECK = "check"
    #: The secretary approves and sends the college's report to the university office.
    APPROVE = "approve"
    #: Not a stage: every stage has passed on, the report went to the university office.
    DONE = "done"


#: Who acts at each stage.
STAGE_ROLES = {
    Stage.REPORTS: Role.COUNSELLOR,
    Stage.MERGE: Role.LEAGUE_SECRETARY,
    Stage.CHECK: Role.DEPUTY_SECRETARY,
    Stage.APPROVE: Role.SECRETARY,
}
#: The account's chain: each stage with its deadline (college time).
DEFAULT_STAGES = [
    {"stage": Stage.REPORTS.value, "deadline": "11:00"},
    {"stage": Stage.MERGE.value, "deadline": "11:30"},
    {"stage": Stage.CHECK.value, "deadline": "12:00"},
    {"stage": Stage.APPROVE.value, "deadline": "13:00"},
]
#: The chain of a college without the merge stage: the deputy approves the counsellors'
#: reports directly (an install from before colleges keeps this one).
WITHOUT_MERGE = [s for s in DEFAULT_STAGES if s["stage"] != Stage.MERGE.value]


class CollegeSignOff(db.Model):
    """One college's sign-off of one day: whose turn it is."""

    __tablename__ = "college_sign_offs"
    __table_args__ = (UniqueConstraint("college_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    college_id: Mapped[int] = mapped_column(ForeignKey("colleges.id"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    #: The :class:`Stage` whose turn it is (``done`` once the last stage passed on).
    stage: Mapped[str] = mapped_column(String(10))
    #: Raised by every step, so a step taken on an old page is refused (409).
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    #: When the last stage approved and the report went to the university office.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    steps: Mapped[list["SignOffStep"]] = relationship(
        order_by="SignOffStep.id", back_populates="sign_off")

    __mapper_args__ = {"version_id_col": version_id}


class SignOffStep(db.Model):
    """A stage passing the day's report on, or returning it to the stage before; kept."""

    __tablename__ = "sign_off_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    sign_off_id: Mapped[int] = mapped_column(ForeignKey("college_sign_offs.id"), index=True)
    #: The :class:`Stage` that took the step.
    stage: Mapped[str] = mapped_column(String(10))
    #: "pass" or "return".
    action: Mapped[str] = mapped_column(String(10))
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: Taken after the stage's deadline.
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    #: What a "pass" passed on: the totals, the changes and the unconfirmed students, as the
    #: next stage sees and signs them.
    snapshot: Mapped[dict | None] = mapped_column(JSON)

    sign_off: Mapped[CollegeSignOff] = relationship(back_populates="steps")
    by: Mapped[User] = relationship()
