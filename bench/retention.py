"""Time the retention purge of the demo college's 21 days.

    .venv/bin/python bench/retention.py [--postgres] [--batch 500] [--keep]

Builds a fresh database: SQLite by default (a file in a scratch directory, WAL and
secure_delete on, as the app opens it), or with --postgres a new database on
postgresql+psycopg://postgres@127.0.0.1:5432 (named ``$BENCH_PG_PREFIX_retention_...``, default
prefix "caretrack"; dropped at the end). It seeds the demo college (2,458 students, 21 days of
statuses, check-ins, follow-ups, notes, deliveries, notices, early-return requests) with the
season ending today, records that the emergency ended today with the default period (90 days),
and on the day the data is due runs:

1. the dry run (counts only),
2. the purge, in batches of --batch rows, each its own transaction,
3. the purge again (it must purge nothing more).

It prints the rows per data class, the total time, the number of transactions and the longest
single transaction (what a page or a check-in would wait for at most), and checks that the
board of a purged day shows the numbers it showed before. Exits 1 if a check fails.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import PG_SERVER, drop_pg_database, make_app  # noqa: E402


def create_database(server: str) -> tuple[str, str]:
    """A new, empty PostgreSQL database for this run: (its URL, its name)."""
    import sqlalchemy

    prefix = os.environ.get("BENCH_PG_PREFIX", "caretrack")
    name = f"{prefix}_retention_{os.getpid()}_{int(time.time())}"
    engine = sqlalchemy.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{server}/{name}", name


def run(app, batch: int) -> bool:
    from sqlalchemy import func, select

    from caretrack.demo import seed_demo
    from caretrack.extensions import db
    from caretrack.models import DailyReport, DataClass, User
    from caretrack.services import retention
    from caretrack.services.clock import local_datetime, local_today
    from caretrack.services.daily import board

    ok = True
    with app.app_context():
        db.create_all()
        now = datetime.now(UTC)
        today = local_today(now)
        seeded_at = local_datetime(today, clock(10, 30)).astimezone(UTC)
        start = time.perf_counter()
        seed_demo(now=seeded_at)
        db.session.commit()
        print(f"demo seeded in {time.perf_counter() - start:.0f} s")
        deputy = db.session.scalars(select(User).where(User.username == "deputy")).one()
        retention.save_policy(deputy, emergency_ended_on=today, retention_days=90,
                              class_days={}, now=seeded_at)
        db.session.commit()
        first_day = db.session.scalar(select(func.min(DailyReport.day)))
        due = today + timedelta(days=90)
        purge_at = local_datetime(due, clock(2, 30)).astimezone(UTC)
        before = asdict(board(first_day, purge_at, deputy).totals)

        start = time.perf_counter()
        dry = retention.purge(purge_at, dry_run=True)
        dry_seconds = time.perf_counter() - start
        start = time.perf_counter()
        done = retention.purge(purge_at, batch=batch)
        seconds = time.perf_counter() - start
        again = retention.purge(purge_at + timedelta(minutes=5), batch=batch)
        after = asdict(board(first_day, purge_at, deputy).totals)

        print(f"\n{'data class':<18} {'dry run':>9} {'purged':>9}")
        for data_class in DataClass:
            c = data_class.value
            print(f"{c:<18} {dry.counts[c]:>9,} {done.counts[c]:>9,}")
        print(f"{'total':<18} {dry.total:>9,} {done.total:>9,}")
        print(f"\ndry run:              {dry_seconds * 1000:8.0f} ms")
        print(f"purge, total:         {seconds * 1000:8.0f} ms "
              f"({done.transactions} transactions of at most {batch} rows; "
              f"{done.kept_days} days' numbers kept)")
        print(f"longest transaction:  {done.longest_transaction * 1000:8.0f} ms "
              f"({done.longest_work})")
        print(f"second run purged:    {again.total:8}")
        if dry.counts != done.counts:
            print("FAIL: the dry run's counts differ from the purge's")
            ok = False
        if again.total:
            print("FAIL: the second run purged more")
            ok = False
        if before != after:
            print(f"FAIL: the board of {first_day} changed: {before} → {after}")
            ok = False
        db.session.remove()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true",
                        help=f"use a new database on {PG_SERVER} (dropped at the end)")
    parser.add_argument("--pg-server", default=os.environ.get("BENCH_PG_URL", PG_SERVER))
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    scratch = pg_name = None
    if args.postgres:
        url, pg_name = create_database(args.pg_server)
    else:
        scratch = Path(tempfile.mkdtemp(prefix="caretrack-retention-"))
        url = f"sqlite:///{scratch / 'retention.db'}"
    print(f"== retention purge on {url.split(':', 1)[0].split('+', 1)[0]}")
    try:
        app = make_app(url)
        ok = run(app, args.batch)
        with app.app_context():
            from caretrack.extensions import db

            db.engine.dispose()
    finally:
        if args.keep:
            print(f"\nkept: {url}")
        elif pg_name:
            drop_pg_database(args.pg_server, pg_name)
        elif scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
