"""Long work outside the request: jobs on a Redis queue (RQ), or in-process without Redis.

Register a task – a function of the job, its parameters and a progress reporter that returns
what came of it (JSON)::

    from caretrack.jobs import JobError, task

    @task("students.bulk_close", max_attempts=3)
    def bulk_close(job, params, progress):
        progress.start(len(params["ids"]), stage="writing")
        for chunk in chunks(params["ids"]):
            ...                       # write through db.session; never commit
            progress(len(chunk))      # units done
        return {"closed": len(params["ids"])}

and list its module in :data:`TASK_MODULES`. Submit it from a view::

    job = submit("students.bulk_close", owner=current_user, params={"ids": [...]})
    return redirect(url_for("jobs.show", job_id=job.id))

:func:`submit` commits the new job (a worker must be able to read it). Without ``REDIS_URL``
the task runs at once in this process, and ``submit`` returns the finished job (the page
waits). With ``REDIS_URL`` the job waits on the RQ queue ``JOBS_QUEUE`` for any
``flask jobs worker`` on any host.

What a task may count on, and must keep to:

- **All or nothing.** The runner commits the task's writes together with the job's "done"
  state, in one transaction; an exception rolls both back. A run killed half-way wrote
  nothing, and a retry of a job that had finished finds it done and does nothing: nothing is
  ever written twice. A task therefore never commits what the pages read, and never changes
  ``job`` itself – with two exceptions. A task that sends messages: a sent message cannot be
  rolled back, so it commits each keyed (or logged) send as soon as it is made, and a run
  again skips what was sent. A task that writes much (the roster import): it may commit its
  work in short transactions into rows of its own that no page reads (staged rows, keyed by
  the job), so that no transaction holds the database's locks for long, and then write what
  the pages read from them in the runner's one transaction; a run starts by discarding a
  previous run's rows, and ``on_failure(job)`` discards them when the job fails.
- **Retries.** ``max_attempts`` > 1 only where running again is safe (it is, under the rule
  above, for a task whose writes are all in its transaction; sending a message is not). A
  crashed run (an exception, or the worker's process killed) is run again until
  ``max_attempts`` runs started; then the job fails with the error "internal" or
  "worker-lost" (``flask jobs tick`` also fails a run silent for longer than
  :data:`JOB_TIMEOUT`: its whole worker died).
- **Files.** A task that makes a file to download keeps it with
  :func:`caretrack.services.uploads.keep_file` and returns its id as ``file_id``: the job
  holds it (its page and the user's imports and exports offer the download while it is kept).
- **Refusals.** ``raise JobError(code, **detail)`` ends the job at once as failed, without a
  retry; the code's sentence is in :data:`ERRORS`, ``detail`` is kept in ``job.result``.
- **Progress.** ``progress(n)`` adds ``n`` units done, ``progress.start(total, stage)`` begins
  a stage. It is written on a connection of its own, so the page's status endpoint sees it
  while the task's transaction is open (on SQLite, whose writers wait for each other, the
  steps taken while the task writes are skipped: the bar moves again when the task is done).
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from caretrack.extensions import db
from caretrack.models import Job, JobState, User, now_utc

log = logging.getLogger(__name__)

#: The modules whose tasks a worker must know (each registers its own with ``@task``).
TASK_MODULES = (
    "caretrack.services.roster_import",
    "caretrack.services.roster_preview",
    "caretrack.services.reminders",
    "caretrack.services.channels",
    "caretrack.services.retention",
    "caretrack.services.bulk",
    "caretrack.services.daily.tallies",
    "caretrack.services.export_jobs",
    "caretrack.services.notice_mail",
)

#: The sentence of each error that can end a job.
ERRORS = {
    "internal": _l("Something went wrong while doing this. Nothing was saved; try again."),
    "worker-lost": _l("The worker doing this stopped before it finished. Nothing was saved; "
                      "try again."),
    "unknown-task": _l("CareTrack no longer knows this kind of work."),
    "upload-gone": _l("This upload has expired or was imported already. Upload the file "
                      "again."),
    "report-not-ready": _l("The college's report is not ready: not every counsellor's report "
                           "is approved."),
    "roster-changed": _l("The roster changed since this preview. Check the new preview and "
                         "confirm again."),
}

#: Longest a job may run on a worker before RQ stops it.
JOB_TIMEOUT = 3600
#: How long past JOB_TIMEOUT a run without a sign of life is taken for dead.
STALE_MARGIN = timedelta(minutes=10)
#: Least time between two progress writes of one job.
PROGRESS_INTERVAL = 0.5

TaskFunction = Callable[[Job, dict, "Progress"], dict]


@dataclass(frozen=True)
class Task:
    name: str
    function: TaskFunction
    max_attempts: int
    #: Run once the task's writes are committed (e.g. fresh planner statistics); a failure
    #: there is logged and leaves the job done.
    after: Callable[[Job], None] | None = None
    #: Run when the job fails, to discard what its runs committed for themselves (staged
    #: rows); the caller commits.
    on_failure: Callable[[Job], None] | None = None


TASKS: dict[str, Task] = {}


class JobError(Exception):
    """A refusal that ends the job without a retry; ``code`` is a key of :data:`ERRORS` or of
    the rules' messages (:data:`caretrack.messages.MESSAGES`)."""

    def __init__(self, code: str, **detail):
        super().__init__(code)
        self.code = code
        self.detail = detail


def task(name: str, *, max_attempts: int = 1, after: Callable[[Job], None] | None = None,
         on_failure: Callable[[Job], None] | None = None):
    """Register ``function(job, params, progress) -> dict`` as the task ``name`` (and
    ``after(job)``, run once its writes are committed; ``on_failure(job)``, run when it
    fails)."""

    def register(function: TaskFunction) -> TaskFunction:
        TASKS[name] = Task(name, function, max_attempts, after, on_failure)
        return function

    return register


def load_tasks() -> dict[str, Task]:
    """Import every module of :data:`TASK_MODULES` (and of the setting
    ``JOBS_TASK_MODULES``), so that its tasks are registered."""
    extra = current_app.config.get("JOBS_TASK_MODULES", ()) if has_app_context() else ()
    for module in (*TASK_MODULES, *extra):
        importlib.import_module(module)
    return TASKS


def error_message(job: Job) -> str:
    """Return the sentence that says why ``job`` failed: its :data:`ERRORS` sentence, or the
    rule's (a task that raised ``JobError`` with a rule error's code)."""
    from caretrack.messages import MESSAGES

    code = job.error or ""
    return str(ERRORS.get(code) or MESSAGES.get(code) or ERRORS["internal"])


# -- submitting -------------------------------------------------------------------------------


def submit(kind: str, owner: User | None, params: dict | None = None, *, total: int = 0,
           key: str | None = None, now: datetime | None = None) -> Job:
    """Create the job ``kind`` for ``owner`` and commit it; queue it when Redis is set up,
    else run it now. A second submission with the same ``key`` returns the first job, unless
    that one failed.

    :raise KeyError: no task is registered as ``kind``.
    """
    registered = load_tasks()[kind]
    if key is not None:
        existing = db.session.scalars(select(Job).where(Job.key == key)).one_or_none()
        if existing is not None and existing.state != JobState.FAILED:
            return existing
        if existing is not None:  # a failed job does not stand in the way of a new try
            existing.key = None
            db.session.flush()
    job = Job(owner=owner, kind=kind, params=params or {}, total=total, key=key,
              max_attempts=registered.max_attempts, created_at=now or now_utc())
    db.session.add(job)
    try:
        db.session.commit()
    except IntegrityError:  # the same key submitted at the same moment
        db.session.rollback()
        return db.session.scalars(select(Job).where(Job.key == key)).one()
    if uses_queue():
        _enqueue(job)
    else:
        run_in_process(job.id)
        db.session.refresh(job)
    return job


def uses_queue() -> bool:
    """Whether jobs go to workers (``REDIS_URL`` is set) rather than run in the request."""
    return bool(current_app.config.get("REDIS_URL"))


def queue_name() -> str:
    return current_app.config.get("JOBS_QUEUE") or "caretrack"


def redis_connection():
    from redis import Redis

    return Redis.from_url(current_app.config["REDIS_URL"])


def _enqueue(job: Job) -> None:
    from rq import Queue, Retry

    retries = job.max_attempts - 1
    Queue(queue_name(), connection=redis_connection()).enqueue(
        perform, job.id, job_timeout=JOB_TIMEOUT, result_ttl=3600, failure_ttl=7 * 86400,
        retry=Retry(max=retries) if retries > 0 else None,
        description=f"{job.kind} #{job.id}",
    )


def run_in_process(job_id: int) -> None:
    """Run the job here and now, retrying a crashed run as the task allows."""
    job = db.session.get(Job, job_id)
    for _run in range(max(1, job.max_attempts if job is not None else 1)):
        try:
            run_job(job_id)
            return
        except Exception:  # noqa: BLE001 - run_job recorded it; retry or stop as it decided
            db.session.rollback()
            job = db.session.get(Job, job_id)
            if job is None or job.finished:
                return


# -- running ----------------------------------------------------------------------------------


def perform(job_id: int) -> None:
    """Run the job ``job_id`` on a worker (what RQ calls)."""
    if has_app_context():
        db.engine.dispose(close=False)  # a forked worker never shares its parent's sockets
        db.session.remove()
        try:
            run_job(job_id)
        finally:
            db.session.remove()
        return
    from caretrack import create_app

    with create_app().app_context():
        run_job(job_id)
        db.session.remove()


def run_job(job_id: int, now: datetime | None = None) -> None:
    """Run the job's task once: its writes and the job's "done" state are committed together.

    A job already finished is left alone. A refusal (:class:`JobError`) fails the job; any
    other exception rolls back, marks the job queued again (attempts left) or failed, and is
    raised again, so that the queue retries.
    """
    job = db.session.get(Job, job_id)
    if job is None or job.finished:
        return
    registered = load_tasks().get(job.kind)
    if registered is None:
        _finish(job, JobState.FAILED, error="unknown-task", now=now)
        db.session.commit()
        return
    started = now or now_utc()
    job.state, job.started_at, job.heartbeat_at = JobState.RUNNING, started, started
    job.attempts += 1
    db.session.commit()
    progress = Progress(job.id, job.total)
    try:
        result = registered.function(job, dict(job.params or {}), progress)
    except JobError as exc:
        db.session.rollback()
        job = db.session.get(Job, job_id)
        _finish(job, JobState.FAILED, error=exc.code, result=exc.detail or None, now=now)
        db.session.commit()
        return
    except Exception:
        log.exception("job %s (%s) failed", job_id, registered.name)
        db.session.rollback()
        job = db.session.get(Job, job_id)
        if job.attempts < job.max_attempts:
            job.state = JobState.QUEUED
        else:
            _finish(job, JobState.FAILED, error="internal", now=now)
        db.session.commit()
        raise
    job = db.session.get(Job, job_id)
    job.total = progress.total or job.total
    job.done = job.total
    job.file_id = (result or {}).get("file_id", job.file_id)
    _finish(job, JobState.DONE, result=result or {}, now=now)
    db.session.commit()
    if registered.after is not None:
        try:
            registered.after(job)
        except Exception:  # noqa: BLE001 - the job's work is committed: it stays done
            log.exception("after job %s (%s)", job_id, registered.name)
            db.session.rollback()


def _finish(job: Job, state: str, *, error: str | None = None, result: dict | None = None,
            now: datetime | None = None) -> None:
    if state == JobState.FAILED:  # first: its commits must not show the job failed yet
        registered = load_tasks().get(job.kind)
        if registered is not None and registered.on_failure is not None:
            try:
                registered.on_failure(job)
            except Exception:  # noqa: BLE001 - the job fails all the same; say what is left
                log.exception("job %s (%s): cleaning up after it failed", job.id, job.kind)
                db.session.rollback()
    job.state, job.error, job.result = state, error, result
    job.finished_at = now or now_utc()


def worker_lost(job_id: int, *, retrying: bool, now: datetime | None = None) -> None:
    """Record that the process running the job died (SIGKILL, out of memory): queued again
    when the queue retries it, else failed."""
    job = db.session.get(Job, job_id)
    if job is None or job.finished:
        return
    if retrying:
        job.state = JobState.QUEUED
    else:
        _finish(job, JobState.FAILED, error="worker-lost", now=now)
    db.session.commit()


def fail_stale_jobs(now: datetime) -> int:
    """Fail the jobs still "running" without a sign of life for longer than a run may take
    (their worker died with no retry left, or its host went away): "worker-lost".

    :return: how many.
    """
    stale = list(db.session.scalars(select(Job).where(
        Job.state == JobState.RUNNING,
        Job.heartbeat_at < now - timedelta(seconds=JOB_TIMEOUT) - STALE_MARGIN)))
    for job in stale:
        _finish(job, JobState.FAILED, error="worker-lost", now=now)
    db.session.flush()
    return len(stale)


class Progress:
    """How far a job got, written on a connection of its own at most every
    :data:`PROGRESS_INTERVAL` seconds (and at each new stage)."""

    def __init__(self, job_id: int, total: int = 0):
        self.job_id, self.total, self.done, self.stage = job_id, total, 0, ""
        self._written_at = 0.0

    def start(self, total: int, stage: str = "") -> None:
        """Begin a stage of ``total`` units."""
        self.total, self.done, self.stage = total, 0, stage
        self._write(force=True)

    def __call__(self, units: int = 1) -> None:
        self.done += units
        self._write()

    def _write(self, force: bool = False) -> None:
        moment = time.monotonic()
        if not force and moment - self._written_at < PROGRESS_INTERVAL:
            return
        self._written_at = moment
        engine = db.engine
        if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
            return  # one shared connection: a write of its own would commit the task's work
        statement = update(Job).where(Job.id == self.job_id).values(
            done=self.done, total=self.total, stage=self.stage, heartbeat_at=now_utc())
        try:
            with engine.connect() as connection:
                _wait_briefly(connection)
                try:
                    connection.execute(statement)
                    connection.commit()
                finally:
                    _wait_briefly(connection, restore=True)
        except OperationalError:  # the database is busy with the task's own writes
            log.debug("progress of job %s skipped: database busy", self.job_id)


def _wait_briefly(connection, restore: bool = False) -> None:
    """Make the progress connection give up at once on a lock the task's transaction holds
    (``restore``: wait as long as every other connection again)."""
    from sqlalchemy import text

    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA busy_timeout={10000 if restore else 50}")
    elif not restore:
        connection.execute(text("SET LOCAL lock_timeout = '200ms'"))
