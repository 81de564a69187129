"""flask jobs worker: an RQ worker for CareTrack's jobs; flask jobs tick: the schedule;
flask jobs cleanup: expired files."""

import os

import click
from flask import current_app
from flask.cli import AppGroup

from caretrack.extensions import db
from caretrack.jobs import load_tasks, queue_name, redis_connection, worker_lost
from caretrack.models import now_utc
from caretrack.services.roster_import import discard_finished_staging
from caretrack.services.uploads import discard_expired_files

jobs_cli = AppGroup("jobs", help="Jobs: the worker, the schedule's tick, expired files.")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
@click.option("--name", default=None, help="The worker's name (default: host and process).")
def worker_command(burst, name):
    """Take jobs from the queue (REDIS_URL, JOBS_QUEUE) and run them, each in a process of its
    own, at a lower CPU priority than the web's (JOBS_NICE); a process killed mid-job makes
    the job run again while its retries last."""
    from rq import Worker

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: without it jobs run in the web "
                                   "process and need no worker")
    load_tasks()
    db.engine.dispose()  # each job's process opens its own connections
    if current_app.config.get("JOBS_NICE", 0) > 0:
        os.nice(current_app.config["JOBS_NICE"])  # the work horses it forks inherit it

    def horse_killed(job, retpid, ret_val, rusage):
        worker_lost(int(job.args[0]), retrying=bool(job.should_retry))
        db.session.remove()

    worker = Worker([queue_name()], connection=redis_connection(), name=name,
                    work_horse_killed_handler=horse_killed)
    worker.work(burst=burst)


@jobs_cli.command("tick")
def tick_command():
    """Submit the scheduled jobs that are due (run this every few minutes from cron), delete
    the expired files, and fail the jobs whose worker died with them."""
    from caretrack.jobs import fail_stale_jobs
    from caretrack.services.schedule import tick

    now = now_utc()
    for job in tick(now):
        click.echo(f"{job.kind}: job #{job.id} {job.state}")
    discard_expired_files(now)
    fail_stale_jobs(now)
    discard_finished_staging()
    db.session.commit()


@jobs_cli.command("cleanup")
def cleanup_command():
    """Delete the kept files whose day is over (uploads never confirmed, old downloads), and
    what finished imports left staged."""
    deleted = discard_expired_files(now_utc())
    staged = discard_finished_staging()
    db.session.commit()
    click.echo(f"{deleted} expired files deleted, {staged} staged students of finished "
               "imports")
