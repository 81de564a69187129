"""The schedule, in one place: which job runs at which time of the college's day.

One cron entry (or timer) runs ``flask jobs tick`` every few minutes. Each tick submits, for
every entry whose time (college time, ``CARETRACK_TIMEZONE``) has come since its last run, one
job – queued for the workers with ``REDIS_URL``, run by the tick itself without. The last run
of each entry is kept in the database (``schedule_runs``): a tick finds an entry due only
for its latest time, so runs missed while nothing ticked (a host down for three days) are
made up once, not once each; two ticks at once submit one job (the job's key is the entry
and its time).

Times are settings (``SCHEDULE_TIMES``, from ``CARETRACK_*_AT``, "HH:MM"). An entry whose task
is not registered (its module not in :data:`caretrack.jobs.TASK_MODULES`) is skipped.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from flask import current_app
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from caretrack.extensions import db
from caretrack.jobs import load_tasks, submit
from caretrack.models import Job, ScheduleRun
from caretrack.services.channels import due_messages
from caretrack.services.clock import college_tz


@dataclass(frozen=True)
class Entry:
    #: The entry's name, also the key of its time in SCHEDULE_TIMES.
    name: str
    #: The task it submits (given ``{"day": the college day of the run}``).
    task: str


#: Everything CareTrack does on its own, by time of day.
ENTRIES = (
    #: The new day's numbers per counsellor counted before its first check-in, the day
    #: before's checked against a full count.
    Entry("daily.tallies", "daily.tallies"),
    #: Each counsellor's overdue and due-today re-checks (by e-mail).
    Entry("rechecks.digest", "rechecks.digest"),
    #: The counsellors told which students have not checked in yet, before the cut-off.
    Entry("checkin.reminders", "checkin.reminders"),
    #: The counsellors whose daily report is not submitted, before the deadline.
    Entry("reports.deadline", "reports.deadline"),
    #: The college's daily report to CARETRACK_REPORT_RECIPIENTS once every report is approved.
    Entry("reports.send", "reports.send"),
    #: What the retention policy says is due (caretrack/services/retention.py).
    Entry("retention.purge", "retention.purge"),
)


def entry_time(entry: Entry) -> time:
    """The college time of day at which ``entry`` runs."""
    hours, minutes = current_app.config["SCHEDULE_TIMES"][entry.name].split(":")
    return time(int(hours), int(minutes))


def latest_due(at: time, now: datetime) -> datetime:
    """The latest instant at or before ``now`` that is ``at`` in the college's timezone."""
    local = now.astimezone(college_tz())
    slot = datetime.combine(local.date(), at, tzinfo=college_tz())
    if slot > local:
        slot = datetime.combine(local.date() - timedelta(days=1), at, tzinfo=college_tz())
    return slot.astimezone(UTC)


def due_entries(now: datetime) -> list[tuple[Entry, datetime]]:
    """The entries due at ``now``, each with the time it is due for."""
    tasks = load_tasks()
    last = {run.name: run.last_slot for run in db.session.scalars(db.select(ScheduleRun))}
    due = []
    for entry in ENTRIES:
        if entry.task not in tasks:
            continue
        slot = latest_due(entry_time(entry), now)
        if entry.name not in last or last[entry.name] < slot:
            due.append((entry, slot))
    return due


def _claim(entry: Entry, slot: datetime, now: datetime) -> bool:
    """Record that ``entry`` runs for ``slot``; False when another tick did first."""
    claimed = db.session.execute(
        update(ScheduleRun).where(ScheduleRun.name == entry.name, ScheduleRun.last_slot < slot)
        .values(last_slot=slot, ran_at=now)
    ).rowcount
    if claimed:
        return True
    if db.session.get(ScheduleRun, entry.name) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(ScheduleRun(name=entry.name, last_slot=slot, ran_at=now))
    except IntegrityError:
        return False
    return True


def tick(now: datetime) -> list[Job]:
    """Submit the job of every entry due at ``now``, and the delivery of the messages due
    for another try (each commits); return the jobs."""
    submitted = []
    for entry, slot in due_entries(now):
        if not _claim(entry, slot, now):
            db.session.rollback()
            continue
        day = slot.astimezone(college_tz()).date()
        job = submit(entry.task, None, {"day": day.isoformat()}, now=now,
                     key=f"schedule:{entry.name}:{slot:%Y-%m-%dT%H:%MZ}")
        db.session.execute(update(ScheduleRun).where(ScheduleRun.name == entry.name)
                           .values(last_job_id=job.id))
        db.session.commit()
        submitted.append(job)
    if due_messages(now):  # messages waiting for their next try
        submitted.append(submit("messages.send", None, {"at": now.isoformat()}, now=now,
                                key=f"messages.send:{now:%Y-%m-%dT%H:%MZ}"))
    return submitted
