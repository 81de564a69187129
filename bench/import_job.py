"""A large roster import entirely as jobs, on a worker: upload → check (preview) → import.

    .venv/bin/python bench/import_job.py --database URL [--redis redis://127.0.0.1:6379/2]
        [--size 50000 | --file roster.xlsx] [--admin USERNAME] [--no-worker] [--queue NAME]

On the CareTrack database at ``--database`` (e.g. the load benchmark's), this makes the
50,000-student file of bench/roster_import.py (its 100 counsellors and 500 supervisors are
created when missing), then takes the import page's steps: the upload keeps the file as
``--admin``'s (the first admin by default) and submits its check (the job "roster.preview"),
whose result is the preview; the confirmation submits the import (the job "roster.import")
with the preview's fingerprint. Unless ``--no-worker``, it starts one ``flask jobs worker`` on
``--redis`` for the run (stopped at the end). It prints each job's progress each second and,
for each step, the time the request itself took (keeping the file, submitting the job), the
time from submission to done, the stages' times and the result.

Run the load benchmark's page timings at the same time (another shell) to compare the
counsellor pages' p95 during the import with a run without it.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def ensure_accounts(accounts: list[dict], college_id: int | None) -> int:
    """Create the file's counsellors and supervisors that the database lacks, in the importing
    admin's college."""
    from sqlalchemy import select

    from caretrack.extensions import db
    from caretrack.models import User

    known = set(db.session.scalars(select(User.username)))
    missing = [a for a in accounts if a["username"] not in known]
    for account in missing:
        user = User(username=account["username"], display_name=account["display_name"],
                    role=account["role"], active=True, college_id=college_id)
        user.set_password(os.urandom(16).hex())
        db.session.add(user)
    db.session.commit()
    return len(missing)


def follow(job):
    """Print the job's progress each second until it has finished, then its times."""
    from caretrack.extensions import db
    from caretrack.models import Job

    submitted = time.perf_counter()
    stages: dict[str, float] = {}
    while True:
        db.session.rollback()
        job = db.session.get(Job, job.id)
        db.session.refresh(job)
        elapsed = time.perf_counter() - submitted
        stages.setdefault(job.stage or job.state, elapsed)
        print(f"{elapsed:6.1f} s  {job.kind:14} {job.state:8} {job.stage:9} {job.done:>6} / "
              f"{job.total:<6} {job.percent:3d} %", flush=True)
        if job.finished:
            break
        time.sleep(1)
    print(f"{job.kind} finished: {job.state} in {time.perf_counter() - submitted:.1f} s "
          f"({job.attempts} run{'s' if job.attempts > 1 else ''}); stages began at "
          + ", ".join(f"{name} {at:.1f} s" for name, at in stages.items()))
    return job


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="SQLAlchemy URL of the database")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/2")
    parser.add_argument("--queue", default=f"caretrack-bench-{os.getpid()}")
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--file", type=Path, help="import this file instead of a generated one")
    parser.add_argument("--admin", help="the admin who imports (default: the first admin)")
    parser.add_argument("--no-worker", action="store_true",
                        help="do not start a worker (one is running on --redis and --queue)")
    args = parser.parse_args()

    from sqlalchemy import select

    from bench.databases import make_app
    from bench.roster_import import large_files
    from caretrack.extensions import db
    from caretrack.jobs import submit
    from caretrack.models import Role, User, now_utc
    from caretrack.services.roster_preview import preview_params
    from caretrack.services.uploads import stage_upload

    app = make_app(args.database, REDIS_URL=args.redis, JOBS_QUEUE=args.queue)
    worker = None
    with app.test_request_context("/?lang=zh_CN"):
        admin = db.session.scalars(
            select(User).where(User.role == Role.ADMIN,
                               *([User.username == args.admin] if args.admin else []))
            .order_by(User.id)).first()
        if admin is None:
            sys.exit("no admin account: create one (flask create-user ... --role admin)")
        if args.file:
            path = args.file
        else:
            out = Path(tempfile.gettempdir()) / "caretrack-bench"
            out.mkdir(exist_ok=True)
            paths, accounts = large_files(out, args.size)
            path = paths["xlsx"]
            print(f"{ensure_accounts(accounts, admin.college_id)} accounts created for the file")
        data = path.read_bytes()
        if not args.no_worker:
            env = {**os.environ, "CARETRACK_CONFIG": "testing", "DATABASE_URL": args.database,
                   "REDIS_URL": args.redis, "CARETRACK_JOBS_QUEUE": args.queue}
            worker = subprocess.Popen(  # noqa: S603 - our own command
                [sys.executable, "-m", "flask", "--app", "caretrack", "jobs", "worker"],
                cwd=ROOT, env=env)
        try:
            # the upload's request: keep the file, submit its check
            started = time.perf_counter()
            token = stage_upload(admin, path.name, data, now_utc())
            db.session.commit()
            check = submit("roster.preview", admin,
                           preview_params(token, None, "zh_Hans_CN", "bench"))
            print(f"upload of {path.name} ({len(data) / 1e6:.1f} MB): request "
                  f"{time.perf_counter() - started:.2f} s, check #{check.id} submitted")
            check = follow(check)
            if check.state != "done" or "preview" not in (check.result or {}):
                sys.exit(f"the check did not give a preview: {check.result or check.error}")
            preview = check.result["preview"]
            print(f"preview: {preview['create_count']} to create, {preview['update_count']} "
                  f"to update, {preview['error_count']} errors")
            if preview["error_count"]:
                sys.exit("the file has errors; nothing imported")
            # the confirmation's request: submit the import
            started = time.perf_counter()
            job = submit("roster.import", admin, {
                "token": token, "fingerprint": preview["fingerprint"], "sheet": None,
                "ip": "bench"}, key=f"roster.import:{token}")
            print(f"confirm: request {time.perf_counter() - started:.2f} s, "
                  f"import #{job.id} submitted to queue {args.queue}")
            job = follow(job)
        finally:
            if worker is not None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=60)
        print(f"result: {job.result or job.error}")
        print(f"load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
