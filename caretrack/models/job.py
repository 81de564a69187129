"""Long work done outside the request (a job), and the files every worker can reach."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caretrack.extensions import db
from caretrack.models.base import UTCDateTime, now_utc
from caretrack.models.user import User


class JobState(StrEnum):
    #: Waiting for a worker (or for its retry).
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class StoredFile(db.Model):
    """A file kept in the database, so every worker on every host reaches it: an upload
    waiting for its preview to be confirmed, the file a job reads, a finished export."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random name of the file in links (an upload's preview page).
    token: Mapped[str] = mapped_column(String(32), unique=True)
    #: Who uploaded it, or for whom a job made it: nobody else may read it.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: "roster-upload", "export", ...
    purpose: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: After this the cleanup deletes it.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    owner: Mapped[User | None] = relationship()


class Job(db.Model):
    """One piece of long work (a roster import, an export, reminders): who asked for it, how
    far it got, and what came of it."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who asked for it; only they see it. None for scheduled work.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: The registered task's name, e.g. "roster.import".
    kind: Mapped[str] = mapped_column(String(40))
    #: What makes two submissions the same job (e.g. "roster.import:<upload token>"): a
    #: second submission finds the first job instead of starting another.
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    #: One of :class:`JobState`.
    state: Mapped[str] = mapped_column(String(10), default=JobState.QUEUED)
    #: What the task is given (JSON: ids, names; never a file's bytes).
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Units done of ``total`` (rows checked and written, messages sent, ...).
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    #: What the job is doing now, for the progress bar ("checking", "writing").
    stage: Mapped[str] = mapped_column(String(20), default="")
    #: What came of it (JSON), once done.
    result: Mapped[dict | None] = mapped_column(JSON)
    #: The code of the error that ended it (see ``caretrack.jobs.ERRORS``), once failed.
    error: Mapped[str | None] = mapped_column(String(40))
    #: Runs started so far; a run the worker did not finish counts.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Runs allowed: 1 for a job a retry could not make safe.
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    #: The file it made, to download (an export), while it is kept.
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Last sign of life of the run (each progress step).
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[User | None] = relationship()
    file: Mapped[StoredFile | None] = relationship()

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)

    @property
    def percent(self) -> int:
        if self.state == JobState.DONE:
            return 100
        return min(100, self.done * 100 // self.total) if self.total else 0


class ScheduleRun(db.Model):
    """The last run of one entry of the schedule (``caretrack.services.schedule``), so that
    a run missed while nothing ticked is made up once, not once per missed day."""

    __tablename__ = "schedule_runs"

    #: The entry's name, e.g. "rechecks.digest".
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: The instant the entry was last due and run for.
    last_slot: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The job that run was.
    last_job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class StagedStudent(db.Model):
    """One student a roster import job writes, staged in short transactions once the file is
    checked, then written into the roster a chunk a transaction (``published``); an updated
    student also has a ``before`` row, with what the roster held, to put back if the job
    fails half-way through. No page reads them; they go with their job."""

    __tablename__ = "staged_students"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    #: The file's row.
    row: Mapped[int] = mapped_column(Integer)
    #: The student updated (None: a new student).
    student_id: Mapped[int | None] = mapped_column(Integer)
    #: The stored version the check saw: the update writes only if it is still the same.
    version_id: Mapped[int | None] = mapped_column(Integer)
    #: The row holds the updated student's values before the import.
    before: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Written into the roster.
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The counsellor the file moves the student to (None: no move), once the rows are in.
    moves_to_id: Mapped[int | None] = mapped_column(Integer)
    student_number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str] = mapped_column(String(1))
    programme: Mapped[str] = mapped_column(String(20))
    cohort: Mapped[int] = mapped_column(Integer)
    class_name: Mapped[str] = mapped_column(String(100))
    college_id: Mapped[int] = mapped_column(Integer)
    #: In an update that moves the student, the counsellor they have now: the move itself
    #: goes through the transfer service.
    counsellor_id: Mapped[int] = mapped_column(Integer)
    supervisor_id: Mapped[int | None] = mapped_column(Integer)
    phone: Mapped[str] = mapped_column(String(32))
    email: Mapped[str] = mapped_column(String(254))
    province: Mapped[str] = mapped_column(String(50))
    city: Mapped[str] = mapped_column(String(50))
    province_code: Mapped[str] = mapped_column(String(6))
    city_code: Mapped[str] = mapped_column(String(6))
    on_campus: Mapped[bool] = mapped_column(Boolean)
    employed: Mapped[bool] = mapped_column(Boolean)
    leaving: Mapped[str | None] = mapped_column(String(10))
    left_on: Mapped[date | None] = mapped_column(Date)
