"""Tasks the job tests run (the worker of tests/test_jobs_worker.py loads this module too).

``tests.roster_import_paused`` is the real roster import, stopped half-way through a stage
(``pause_stage``: "writing", once its first 1,000 students are staged; "publishing", once
1,000 are in the roster) until the test kills the process: it leaves a file naming its
process id, then waits. ``tests.flaky_write`` writes an audit row,
then fails on its first run.
"""

import os
import time
from pathlib import Path

from caretrack.jobs import task
from caretrack.models import now_utc
from caretrack.services.audit import record_event
from caretrack.services.roster_import import after_import, import_roster_job, take_back_import

#: Longest a paused run waits to be killed before it gives up (the test has failed then).
PAUSE_LIMIT = 60


class PausingProgress:
    """The job's progress, pausing once ``pause_after`` units of the writing stage are done."""

    def __init__(self, progress, signal: Path, pause_after: int, stage: str = "writing"):
        self.progress, self.signal, self.pause_after = progress, signal, pause_after
        self.stage = stage

    def start(self, total: int, stage: str = "") -> None:
        self.progress.start(total, stage)

    def __call__(self, units: int = 1) -> None:
        self.progress(units)
        if self.progress.stage == self.stage and self.progress.done >= self.pause_after:
            self.signal.write_text(str(os.getpid()))
            deadline = time.monotonic() + PAUSE_LIMIT
            while time.monotonic() < deadline:
                time.sleep(0.05)
            raise RuntimeError("the paused run was not killed")


@task("tests.roster_import_paused", max_attempts=2, after=after_import,
      on_failure=take_back_import)
def roster_import_paused(job, params, progress):
    """``params``: the roster import's, and ``signal_dir``, ``pause_on`` (the runs to pause),
    ``pause_stage``."""
    if job.attempts in params.get("pause_on", [1]):
        signal = Path(params["signal_dir"]) / f"halfway-{job.attempts}"
        progress = PausingProgress(progress, signal, pause_after=1000,
                                   stage=params.get("pause_stage", "writing"))
    return import_roster_job(job, params, progress)


@task("tests.flaky_write", max_attempts=2)
def flaky_write(job, params, progress):
    """Write an audit row, then fail on the first run (the retry succeeds)."""
    progress.start(2, stage="writing")
    record_event("roster.import", job.owner, detail=f"flaky:{job.attempts}", now=now_utc())
    progress(1)
    if job.attempts == 1:
        raise RuntimeError("the first run fails after writing")
    progress(1)
    return {"runs": job.attempts}


@task("tests.refused")
def refused(job, params, progress):
    """Refuse at once, as a task does when a rule says no."""
    from caretrack.jobs import JobError

    raise JobError("upload-gone")


@task("tests.progress_probe")
def progress_probe(job, params, progress):
    """Report progress, and read it back as the status page would, from another connection."""
    from sqlalchemy import select

    from caretrack.extensions import db
    from caretrack.models import Job

    progress.start(10, stage="checking")
    progress(4)
    with db.engine.connect() as connection:
        seen = connection.execute(select(Job.done, Job.total, Job.stage, Job.state)
                                  .where(Job.id == job.id)).one()
    return {"seen": list(seen)}
