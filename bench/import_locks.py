"""How long the roster import holds the database's write lock: in one transaction (the
import in a request, `flask import-students`) and as the job does it (staged, then written a
chunk a transaction).

    .venv/bin/python bench/import_locks.py --database sqlite:////path/to/college.db [--size 20000]

On two copies of the SQLite database (the load benchmark's kept college), imports the
generated file of bench/roster_import.py each way, in this process, and prints for each the
write transactions, the longest, and their total: what a page's write waits at most, and in
all, while the import runs.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def watch_writes(engine) -> list[float]:
    """Record the length of every transaction that writes, from its first write to its
    commit (SQLite takes the write lock at the first write)."""
    from sqlalchemy import event

    lengths: list[float] = []
    began: dict[int, float] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def first_write(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            began.setdefault(id(connection.connection.dbapi_connection), time.perf_counter())

    @event.listens_for(engine, "commit")
    def committed(connection):
        start = began.pop(id(connection.connection.dbapi_connection), None)
        if start is not None:
            lengths.append(time.perf_counter() - start)

    @event.listens_for(engine, "rollback")
    def rolled_back(connection):
        began.pop(id(connection.connection.dbapi_connection), None)

    return lengths


def run(url: str, data: bytes, job: bool) -> None:
    from sqlalchemy import select

    from bench.databases import make_app
    from bench.import_job import ensure_accounts
    from bench.roster_import import large_files
    from caretrack.extensions import db
    from caretrack.jobs import submit
    from caretrack.models import Role, User, now_utc
    from caretrack.services.roster_import import apply_import, preview_import
    from caretrack.services.uploads import stage_upload

    app = make_app(url, REDIS_URL="")
    with app.test_request_context("/?lang=zh_CN"):
        admin = db.session.scalars(select(User).where(User.role == Role.ADMIN)
                                   .order_by(User.id)).first()
        _paths, accounts = large_files(Path(tempfile.gettempdir()) / "caretrack-bench", 0)
        ensure_accounts(accounts, admin.college_id)
        preview = preview_import("roster.xlsx", data, college=admin.college_id)
        lengths = watch_writes(db.engine)
        started = time.perf_counter()
        if job:
            token = stage_upload(admin, "roster.xlsx", data, now_utc())
            db.session.commit()
            done = submit("roster.import", admin, {"token": token,
                          "fingerprint": preview.fingerprint, "sheet": None, "ip": "bench"})
            outcome = f"{done.state} {done.result}"
        else:
            outcome = str(apply_import(preview, admin, now_utc()))
            db.session.commit()
        took = time.perf_counter() - started
        print(f"{'as the job' if job else 'one transaction'}: {outcome} in {took:.1f} s; "
              f"{len(lengths)} write transactions, longest {max(lengths) * 1000:,.0f} ms, "
              f"in all {sum(lengths):.1f} s", flush=True)
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="a SQLite database's URL (copied)")
    parser.add_argument("--size", type=int, default=20_000)
    args = parser.parse_args()

    from bench.roster_import import large_files

    source = Path(args.database.removeprefix("sqlite:///"))
    scratch = Path(tempfile.mkdtemp(prefix="caretrack-locks-"))
    paths, _accounts = large_files(scratch, args.size)
    data = paths["xlsx"].read_bytes()
    try:
        for job in (False, True):
            copy = scratch / f"college-{int(job)}.db"
            shutil.copy(source, copy)
            run(f"sqlite:///{copy}", data, job)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
