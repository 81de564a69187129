"""Start a large roster import as a job, on a worker, and follow its progress.

    .venv/bin/python bench/import_job.py --database URL [--redis redis://127.0.0.1:6379/2]
        [--size 50000 | --file roster.xlsx] [--admin USERNAME] [--no-worker] [--queue NAME]

On the CareTrack database at ``--database`` (e.g. the load benchmark's), this makes the
50,000-student file of bench/roster_import.py (its 100 counsellors and 500 supervisors are
created when missing), keeps it as ``--admin``'s upload (the first admin by default), checks
it as the preview page does, and submits the confirmed import as a job – the very steps of
the import page's "Import" button. Unless ``--no-worker``, it starts one ``flask jobs worker``
on ``--redis`` for the run (stopped at the end); then it prints the job's progress each second
and, at the end, the time from submission to done, the stages' times and the result.

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


def ensure_accounts(accounts: list[dict]) -> int:
    """Create the file's counsellors and supervisors that the database lacks."""
    from sqlalchemy import select

    from caretrack.extensions import db
    from caretrack.models import User

    known = set(db.session.scalars(select(User.username)))
    missing = [a for a in accounts if a["username"] not in known]
    for account in missing:
        user = User(username=account["username"], display_name=account["display_name"],
                    role=account["role"], active=True)
        user.set_password(os.urandom(16).hex())
        db.session.add(user)
    db.session.commit()
    return len(missing)


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
    from caretrack.models import Job, Role, User, now_utc
    from caretrack.services.roster_import import preview_import
    from caretrack.services.uploads import stage_upload

    app = make_app(args.database, REDIS_URL=args.redis, JOBS_QUEUE=args.queue)
    worker = None
    with app.test_request_context("/?lang=zh_CN"):
        if args.file:
            path = args.file
        else:
            out = Path(tempfile.gettempdir()) / "caretrack-bench"
            out.mkdir(exist_ok=True)
            paths, accounts = large_files(out, args.size)
            path = paths["xlsx"]
            print(f"{ensure_accounts(accounts)} accounts created for the file")
        admin = db.session.scalars(
            select(User).where(User.role == Role.ADMIN,
                               *([User.username == args.admin] if args.admin else []))
            .order_by(User.id)).first()
        if admin is None:
            sys.exit("no admin account: create one (flask create-user ... --role admin)")
        data = path.read_bytes()
        started = time.perf_counter()
        preview = preview_import(path.name, data)
        print(f"preview of {path.name}: {len(preview.creates)} to create, "
              f"{len(preview.updates)} to update, {len(preview.errors)} errors, "
              f"{time.perf_counter() - started:.1f} s")
        if preview.errors:
            sys.exit("the file has errors; nothing imported")
        token = stage_upload(admin, path.name, data, now_utc())
        db.session.commit()

        if not args.no_worker:
            env = {**os.environ, "CARETRACK_CONFIG": "testing", "DATABASE_URL": args.database,
                   "REDIS_URL": args.redis, "CARETRACK_JOBS_QUEUE": args.queue}
            worker = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "caretrack", "jobs", "worker"],
                cwd=ROOT, env=env)
        submitted = time.perf_counter()
        job = submit("roster.import", admin, {"token": token, "fingerprint": preview.fingerprint,
                                              "sheet": None, "ip": "bench"},
                     key=f"roster.import:{token}")
        print(f"job #{job.id} submitted to queue {args.queue}")
        stages: dict[str, float] = {}
        try:
            while True:
                db.session.rollback()
                job = db.session.get(Job, job.id)
                db.session.refresh(job)
                elapsed = time.perf_counter() - submitted
                stages.setdefault(job.stage or job.state, elapsed)
                print(f"{elapsed:6.1f} s  {job.state:8} {job.stage:9} {job.done:>6} / "
                      f"{job.total:<6} {job.percent:3d} %", flush=True)
                if job.finished:
                    break
                time.sleep(1)
        finally:
            if worker is not None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=60)
        print(f"finished: {job.state} in {time.perf_counter() - submitted:.1f} s "
              f"({job.attempts} run{'s' if job.attempts > 1 else ''}); stages began at "
              + ", ".join(f"{name} {at:.1f} s" for name, at in stages.items()))
        print(f"result: {job.result or job.error}")
        print(f"load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
