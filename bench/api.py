"""Time the JSON API at the college's size: the students list and the bulk upsert of statuses.

    .venv/bin/python bench/api.py [--postgres] [--students N] [--rows 5000] [--requests 5]

Builds a fresh database: SQLite by default (a file in a scratch directory, 2,458 students), or
with --postgres a new database on postgresql+psycopg://postgres@127.0.0.1:5432 (50,000
students; created here and dropped at the end). The roster is written by bulk inserts: the
bench counsellor keeps min(5,000, N) students (the most one token's upsert can carry), the
others are spread over counsellors of 490 students; every student has yesterday's status, so
today's rows are compared with a carried-forward status as on a real morning.

Then, through the test client with personal access tokens, it prints for each request the
status, the SQL statements of one request and the median (and slowest) time of --requests
requests:
- GET /api/v1/students (the counsellor's caseload, the deputy secretary's whole college,
  a search), a page of 50 and of 200: the query count must not grow with the data;
- POST /api/v1/daily/<today>/statuses with --rows rows, as a campus check-in app sends them:
  the day's first upsert (every row inserted, most of them a change with its timeline entry),
  the same rows again (confirmations: updates, no change). At 2,458 students the rows beyond
  the caseload name unknown students and are refused with their index.

Target (issue 19): the upsert of 5,000 rows under 5 s; exits 1 if an answer is not 200 or an
upsert is slower than that.
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import (  # noqa: E402
    PG_SERVER,
    create_pg_database,
    drop_pg_database,
    insert_rows,
    make_app,
)

CASELOAD = 490
MAX_CASELOAD = 5000
TARGET_UPSERT = 5.0
PLACES = [("湖北", "武汉"), ("北京", ""), ("在校", ""), ("广东", "深圳"), ("上海", ""),
          ("浙江", "杭州")]
HEALTH = ["正常", "normal", "发热", "咳嗽", "居家隔离", "健康"]










def build(students: int, now: datetime) -> dict:
    """The schema, the users, the roster and yesterday's statuses; returns the bench's tokens
    and the bench counsellor's student numbers."""
    from sqlalchemy import select

    from caretrack.extensions import db
    from caretrack.models import College, DailyStatus, Student, User
    from caretrack.services.api_tokens import create_token
    from caretrack.services.clock import local_today

    db.create_all()
    college = College(code="sem", name_zh="经管学院")
    db.session.add(college)
    db.session.flush()
    mine = min(MAX_CASELOAD, students)
    others = -(-(students - mine) // CASELOAD)
    users = [User(username="counsellor1", display_name="李老师", role="counsellor",
                  password_hash="-", college_id=college.id)]
    users += [User(username=f"counsellor{n + 2}", display_name=f"辅导员{n + 2}",
                   role="counsellor", password_hash="-", college_id=college.id)
              for n in range(others)]
    deputy = User(username="deputy", display_name="王书记", role="deputy_secretary",
                  password_hash="-", college_id=college.id)
    db.session.add_all([*users, deputy])
    db.session.flush()
    rows = []
    for i in range(students):
        owner = users[0] if i < mine else users[1 + (i - mine) // CASELOAD]
        rows.append({
            "student_number": f"2017{i:06d}", "name": f"学生{i}", "gender": "MF"[i % 2],
            "college_id": college.id,
            "programme": "undergraduate", "cohort": 2017 + i % 4,
            "class_name": f"{2017 + i % 4}级{i // 40 % 60}班", "counsellor_id": owner.id,
            "phone": "", "province": "北京", "city": "北京", "on_campus": i % 3 == 0,
            "employed": False, "notes": "", "concern_level": "normal",
            "flagged_for_review": False, "created_at": now, "updated_at": now, "version_id": 1,
        })
    insert_rows(Student.__table__, rows)
    ids = db.session.execute(select(Student.id, Student.counsellor_id)).all()
    yesterday = local_today(now) - timedelta(days=1)
    insert_rows(DailyStatus.__table__, [{
        "student_id": sid, "day": yesterday, "province": "北京", "city": "北京",
        "on_campus": False, "health": "normal", "note": "", "source": "counsellor",
        "recorded_by_id": cid, "recorded_at": now - timedelta(days=1),
    } for sid, cid in ids])
    _c, counsellor_secret = create_token(users[0], name="campus app", scope="read_write",
                                         days=7, now=now)
    _d, deputy_secret = create_token(deputy, name="dashboard", scope="read", days=7, now=now)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("ANALYZE")
    numbers = list(db.session.scalars(select(Student.student_number).where(
        Student.counsellor_id == users[0].id).order_by(Student.id)))
    return {"counsellor": counsellor_secret, "deputy": deputy_secret, "numbers": numbers}


def status_rows(numbers: list[str], count: int, variant: int) -> list[dict]:
    """``count`` rows as a check-in app sends them: the caseload's students, then (beyond the
    caseload) numbers that name nobody."""
    rows = []
    for i in range(count):
        number = numbers[i] if i < len(numbers) else f"9999{i:06d}"
        province, city = PLACES[(i + variant) % len(PLACES)]
        row = {"student_number": number, "province": province,
               "health": HEALTH[(i + variant) % len(HEALTH)]}
        if city:
            row["city"] = city
        if i % 7 == 0:
            row["note"] = "已电话确认"
        rows.append(row)
    return rows


class Counter:
    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1


def timed(app, call, requests: int, before=None) -> dict:
    """Run ``call`` (returns a response) ``requests`` times after one warm-up; count the SQL
    statements of the last one."""
    from sqlalchemy import event

    from caretrack.extensions import db

    times, response = [], None
    for n in range(requests + 1):
        if before is not None:
            before()
        counter = Counter()
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", counter)
        start = time.perf_counter()
        response = call()
        elapsed = time.perf_counter() - start
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", counter)
        if n:
            times.append(elapsed)
    return {"status": response.status_code, "queries": counter.count,
            "median": statistics.median(times), "max": max(times), "json": response.get_json()}


def forget_today(app) -> None:
    """Remove today's statuses and the timeline entries and audit rows they wrote, so the next
    upsert is the day's first again."""
    from sqlalchemy import delete

    from caretrack.extensions import db
    from caretrack.models import AuditEvent, DailyStatus, TimelineEntry
    from caretrack.services.clock import local_today

    with app.app_context():
        today = local_today(datetime.now(UTC))
        db.session.execute(delete(DailyStatus).where(DailyStatus.day == today))
        db.session.execute(delete(TimelineEntry).where(TimelineEntry.kind == "status_change"))
        db.session.execute(delete(AuditEvent))
        db.session.commit()


def run(app, args, secrets: dict) -> bool:
    from caretrack.services.clock import local_today

    client = app.test_client()
    counsellor = {"Authorization": f"Bearer {secrets['counsellor']}"}
    deputy = {"Authorization": f"Bearer {secrets['deputy']}"}
    ok = True

    def report(label, result, target=None):
        nonlocal ok
        slow = target is not None and result["median"] > target
        ok = ok and result["status"] == 200 and not slow
        print(f"  {label:<58} {result['status']:>4} {result['queries']:>5} q "
                     f"{result['median'] * 1000:>9.1f} ms {result['max'] * 1000:>9.1f} ms"
                     f"{'  SLOW' if slow else ''}", flush=True)

    print(f"  {'request':<58} {'status':>4} {'SQL':>5} {'median':>11} {'slowest':>12}")
    for label, url, headers in [
        ("students, counsellor, 50 a page", "/api/v1/students", counsellor),
        ("students, counsellor, 200 a page, page 3",
         "/api/v1/students?per_page=200&page=3", counsellor),
        ("students, deputy (whole college), 50 a page", "/api/v1/students", deputy),
        ("students, deputy, 200 a page, page 10",
         "/api/v1/students?per_page=200&page=10", deputy),
        ("students, deputy, search q=学生12", "/api/v1/students?q=学生12", deputy),
    ]:
        report(label, timed(app, lambda u=url, h=headers: client.get(u, headers=h),
                            args.requests))
    with app.app_context():
        today = local_today(datetime.now(UTC)).isoformat()
    url = f"/api/v1/daily/{today}/statuses"
    first = status_rows(secrets["numbers"], args.rows, 0)
    result = timed(app, lambda: client.post(url, json={"statuses": first}, headers=counsellor),
                   args.requests, before=lambda: forget_today(app))
    body = result["json"] or {}
    report(f"upsert {args.rows} rows, day's first (applied {body.get('applied')}, "
           f"changed {body.get('changed')}, refused {len(body.get('refused', []))})",
           result, TARGET_UPSERT)
    result = timed(app, lambda: client.post(url, json={"statuses": first}, headers=counsellor),
                   args.requests)
    body = result["json"] or {}
    report(f"upsert {args.rows} rows again (applied {body.get('applied')}, "
           f"changed {body.get('changed')})", result, TARGET_UPSERT)
    variants = iter(range(1, 10 * args.requests))  # each request changes every row again
    result = timed(app, lambda: client.post(url, json={"statuses": status_rows(
        secrets["numbers"], args.rows, 1 + next(variants) % 5)}, headers=counsellor),
        args.requests)
    body = result["json"] or {}
    report(f"upsert {args.rows} rows, every one changed (changed {body.get('changed')})",
           result, TARGET_UPSERT)
    report("day's statuses, counsellor, 200 a page",
           timed(app, lambda: client.get(f"{url}?show=all&per_page=200", headers=counsellor),
                 args.requests))
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--students", type=int)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=5)
    args = parser.parse_args()
    students = args.students or (50000 if args.postgres else 2458)
    scratch, pg_name = None, None
    if args.postgres:
        url, pg_name = create_pg_database(PG_SERVER, "api")
    else:
        scratch = tempfile.mkdtemp(prefix="caretrack-api-bench-")
        url = f"sqlite:///{scratch}/bench.db"
    try:
        app = make_app(url)
        start = time.perf_counter()
        with app.app_context():
            secrets = build(students, datetime.now(UTC))
        print(f"{'PostgreSQL' if args.postgres else 'SQLite'}: {students} students "
              f"(the bench counsellor keeps {len(secrets['numbers'])}), built in "
              f"{time.perf_counter() - start:.1f} s; {args.requests} requests each after a "
              f"warm-up")
        ok = run(app, args, secrets)
        with app.app_context():
            from caretrack.extensions import db

            db.session.remove()
            db.engine.dispose()
    finally:
        if pg_name:
            drop_pg_database(PG_SERVER, pg_name)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    print("OK" if ok else "FAILED: an answer was not 200, or an upsert took over 5 s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
