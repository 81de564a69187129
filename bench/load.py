"""50 users for 60 s against gunicorn in the production configuration: errors and p50/p95/p99.

    .venv/bin/python bench/load.py [--postgres --students 50000] [--database URL] [--keep]
                                   [--users 50] [--seconds 60] [--workers 4]
                                   [--wait 0.5-1.5] [--redis redis://127.0.0.1:6379/5]

Builds the database as bench/pages.py does: the demo college on SQLite in a scratch
directory by default; with --postgres a new PostgreSQL database (named $BENCH_PG_PREFIX_...,
dropped at the end) with the demo scaled to --students by bulk inserts; or measures the
database given by --database (kept). Serves it with gunicorn (--workers sync workers,
``--no-control-socket``, the production configuration, throttling in Redis database 5), signs
in the five demo counsellors and the deputy secretary (with the second factor: the script gives
the deputy a TOTP secret in the bench's database), and runs locust headless (bench/locustfile.py)
with --users users for --seconds: four in five are counsellors (their landing, caseload list,
student pages, re-check list, daily report, and logging follow-ups through the form, CSRF token
and submission key included), one in five the deputy secretary (landing, review queue, the
day's sign-off); each waits --wait seconds (uniform) between its requests.

Prints the requests, the failures, and p50/p95/p99 per request kind and overall, with the load
average. Target (issue 21): 0 errors and p95 <= 250 ms, on SQLite at college scale and on
PostgreSQL at 50,000 students. Exits 1 when a target is missed.
"""

import argparse
import csv
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.checkin import free_port, start_gunicorn, stop_gunicorn  # noqa: E402
from bench.databases import (  # noqa: E402
    PG_SERVER,
    create_pg_database,
    drop_pg_database,
    make_app,
    server_tracebacks,
)
from bench.throughput import DEPUTY_TOTP, REDIS, Browser  # noqa: E402

P95_TARGET_MS = 250.0


def build(url: str, students: int) -> None:
    from bench.pages import build as build_college
    from bench.pages import seeded_until
    from caretrack.extensions import db

    app = make_app(url)
    start = time.perf_counter()
    timings = build_college(app, students, seeded_until(app, "10:30"))
    print(f"built in {time.perf_counter() - start:.0f} s ({timings})", flush=True)
    with app.app_context():
        db.engine.dispose()


def caseloads(url: str, per_counsellor: int = 200) -> tuple[int, dict]:
    """Give the deputy the bench's second factor; return (students, the demo counsellors'
    first students by id)."""
    from sqlalchemy import func, select, update

    from caretrack.extensions import db
    from caretrack.models import Student, User

    app = make_app(url)
    with app.app_context():
        db.session.execute(update(User).where(User.username == "deputy")
                           .values(totp_secret=DEPUTY_TOTP, totp_last_step=None))
        db.session.commit()
        students = {}
        for n in range(1, 6):
            students[f"counsellor{n}"] = list(db.session.scalars(
                select(Student.id).join(User, User.id == Student.counsellor_id)
                .where(User.username == f"counsellor{n}").order_by(Student.id)
                .limit(per_counsellor)))
        total = db.session.scalar(select(func.count(Student.id)))
        db.session.remove()
        db.engine.dispose()
    return total, students


def read_stats(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true",
                        help=f"use a new database on {PG_SERVER} (dropped at the end)")
    parser.add_argument("--pg-server", default=os.environ.get("BENCH_PG_SERVER", PG_SERVER))
    parser.add_argument("--students", type=int, default=0,
                        help="scale the demo college to this many students")
    parser.add_argument("--database", help="measure this database (its URL), already built")
    parser.add_argument("--keep", action="store_true", help="keep the database; print its URL")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--wait", default="0.5-1.5",
                        help="each user's pause between requests, seconds (uniform range)")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", REDIS),
                        help="Redis for the workers' shared throttling (never database 0)")
    args = parser.parse_args()

    from caretrack.demo import DEMO_PASSWORD

    scratch = Path(tempfile.mkdtemp(prefix="caretrack-load-"))
    pg_name = None
    if args.database:
        url = args.database
    elif args.postgres:
        url, pg_name = create_pg_database(args.pg_server, "load")
    else:
        url = f"sqlite:///{scratch / 'load.db'}"
    engine = url.split(":", 1)[0].split("+", 1)[0]
    server = None
    ok = False
    try:
        if not args.database:
            print(f"building the college on {engine} ...", flush=True)
            build(url, args.students)
        total, students = caseloads(url)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_gunicorn(url, secrets.token_urlsafe(48), port, args.workers,
                                scratch / "gunicorn.log", args.redis, secure_cookies=True)
        plan = {"counsellors": [], "deputy": {}}
        for username, ids in students.items():
            browser = Browser(base)
            browser.sign_in(username, DEMO_PASSWORD)
            plan["counsellors"].append({"cookie": browser.cookie_header, "students": ids})
        deputy = Browser(base)
        deputy.sign_in("deputy", DEMO_PASSWORD, totp=DEPUTY_TOTP)
        plan["deputy"] = {"cookie": deputy.cookie_header}
        (scratch / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
        low, high = args.wait.split("-")
        print(f"\n{engine}: {total:,} students; gunicorn {args.workers} sync workers, "
              f"production configuration; locust {args.users} users for {args.seconds} s, "
              f"{args.wait} s between requests; load average before "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        env = {**os.environ, "BENCH_LOAD_PLAN": str(scratch / "plan.json"),
               "BENCH_WAIT_MIN": low, "BENCH_WAIT_MAX": high}
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"),
             "--headless", "-u", str(args.users), "-r", str(args.users),
             "-t", f"{args.seconds}s", "--host", base, "--csv", str(scratch / "locust"),
             "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10"],
            env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        rows = read_stats(scratch / "locust_stats.csv")
        print(f"{'request':<42} {'count':>6} {'fail':>5} {'p50':>6} {'p95':>6} {'p99':>6}")
        total_row = None
        for row in rows:
            name = row["Name"] if row["Type"] != "" else "all requests"
            if row["Name"] == "Aggregated":
                total_row = row
                name = "all requests"
            else:
                name = f"{row['Type']} {row['Name']}"
            print(f"{name:<42} {row['Request Count']:>6} {row['Failure Count']:>5} "
                  f"{row['50%']:>4} ms {row['95%']:>4} ms {row['99%']:>4} ms")
        failures = read_stats(scratch / "locust_failures.csv")
        for row in failures[:5]:
            print(f"  failure: {row['Method']} {row['Name']}: {row['Error']} x{row['Occurrences']}")
        print(f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        errors = int(total_row["Failure Count"]) if total_row else -1
        p95 = float(total_row["95%"]) if total_row else float("inf")
        verdicts = [("0 errors", errors == 0), (f"p95 <= {P95_TARGET_MS:.0f} ms",
                                                p95 <= P95_TARGET_MS)]
        for text, passed in verdicts:
            print(f"  {'ok  ' if passed else 'MISS'} {text}")
        ok = all(passed for _, passed in verdicts)
        if server_tracebacks(scratch / "gunicorn.log"):
            ok = False
    finally:
        if server is not None:
            stop_gunicorn(server)
        if args.keep and not args.database:
            print(f"\nkept: {url}")
        elif pg_name:
            drop_pg_database(args.pg_server, pg_name)
        if not (args.keep and not args.database and not pg_name):
            shutil.rmtree(scratch, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
