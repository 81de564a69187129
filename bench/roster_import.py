"""Time the roster import: the demo college's 2,458 students and a 50,000-student file.

    .venv/bin/python bench/roster_import.py [--sizes 2458,50000] [--formats xlsx,csv]
                                            [--pg URL | --no-pg] [--out DIR]

Generates the files (the demo college's roster, exported the way the admin exports it, and a
college of 50,000 students with 100 counsellors and 500 supervisors), then imports each one
in a child process into a fresh database (SQLite, and PostgreSQL if reachable) that holds the
accounts but no students, and prints for each run:

- parse: reading the file; check: validating every row against the database; apply: writing
  it in one transaction (bulk inserts) and committing; total = parse + check + apply;
- update: importing a file that changes every student (bulk updates), total time;
- peak RSS of the child process during the import, and how much that is above its RSS just
  before the import (the app and the file's bytes).

Targets (issue 7): 2,458 students under 3 s, 50,000 under 60 s with bounded memory.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/caretrack_bench"
PROGRAMMES = ["本科", "硕士", "博士", "全日制MBA", "非全日制MBA"]
PROVINCES = ["北京", "河北", "山东", "河南", "湖北", "江苏", "浙江", "广东", "四川", "湖南"]


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """Peak resident memory since :func:`reset_peak`, in MB."""
    return _status_mb("VmHWM")


def reset_peak() -> None:
    """Start measuring the peak from now (Linux: write 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _app(url: str):
    from caretrack import create_app

    return create_app("testing", SQLALCHEMY_DATABASE_URI=url)


# Generating the files


def demo_files(out: Path) -> tuple[dict, dict]:
    """Build the demo college in a scratch database and export its roster as the admin would.

    :return: ({format: path}, accounts) where accounts are the counsellors and supervisors.
    """
    from sqlalchemy import select

    from caretrack.demo import SEED, DemoContext
    from caretrack.demo.college import build_college
    from caretrack.extensions import db
    from caretrack.models import Student, User
    from caretrack.services.roster_import import export_columns, roster_rows_query
    from caretrack.services.spreadsheets import csv_bytes, xlsx_bytes

    scratch = out / "demo-source.db"
    scratch.unlink(missing_ok=True)
    app = _app(f"sqlite:///{scratch}")
    with app.test_request_context("/?lang=zh_CN"):
        db.create_all()
        ctx = DemoContext(rng=random.Random(SEED), today=date.today(), now=datetime.now(UTC))
        build_college(ctx)
        db.session.commit()
        college = ctx.college
        accounts = [
            {"username": u.username, "display_name": u.display_name, "role": u.role}
            for u in college.counsellors + college.supervisors
        ]
        admin = db.session.scalars(select(User).where(User.username == "admin")).one()
        columns = export_columns(admin)
        rows = db.session.execute(roster_rows_query(select(Student))).all()
        headers = [str(c.header) for c in columns]
        cells = [[c.value(r) for c in columns] for r in rows]
        db.session.remove()
        db.engine.dispose()
    scratch.unlink(missing_ok=True)
    paths = {"xlsx": out / "demo-2458.xlsx", "csv": out / "demo-2458.csv"}
    paths["xlsx"].write_bytes(xlsx_bytes([("学生名册", headers, cells)]))
    paths["csv"].write_bytes(csv_bytes(headers, cells))
    return paths, accounts


def large_files(out: Path, size: int) -> tuple[dict, list]:
    """Generate a college of ``size`` students, 100 counsellors and 500 supervisors."""
    from caretrack.services.spreadsheets import csv_bytes, xlsx_bytes

    rng = random.Random(size)
    counsellors = [{"username": f"c{i:03d}", "display_name": f"辅导员{i:03d}",
                    "role": "counsellor"} for i in range(100)]
    supervisors = [{"username": f"s{i:03d}", "display_name": f"导师{i:03d}教授",
                    "role": "supervisor"} for i in range(500)]
    headers = ["学号", "姓名", "性别", "培养层次", "年级", "班级", "辅导员", "导师", "手机",
               "所在省份", "所在城市", "是否在校", "是否在职"]
    rows = []
    for n in range(size):
        programme = PROGRAMMES[n % 5]
        cohort = 2015 + n % 6
        supervisor = rng.choice(supervisors)["display_name"] if programme != "本科" else ""
        province = rng.choice(PROVINCES)
        rows.append([
            f"{cohort}{n % 5:02d}{n:06d}" if n % 7 else f"0{cohort % 100}{n:07d}",
            rng.choice("王李张刘陈杨黄赵") + rng.choice("伟芳娜敏静丽强磊") + rng.choice("明华"),
            rng.choice("男女"), programme, cohort, f"{cohort}级{programme}{n % 40 + 1}班",
            counsellors[n % 100]["display_name"], supervisor,
            "1" + "".join(rng.choices("0123456789", k=10)), province, province + "市",
            "是" if n % 400 == 0 else "否", "是" if programme == "非全日制MBA" else "否",
        ])
    paths = {"xlsx": out / f"college-{size}.xlsx", "csv": out / f"college-{size}.csv"}
    paths["xlsx"].write_bytes(xlsx_bytes([("学生名册", headers, rows)]))
    paths["csv"].write_bytes(csv_bytes(headers, rows))
    return paths, counsellors + supervisors


# One measured import, in a child process


def child(path: Path, url: str, accounts_file: Path) -> dict:
    """Import ``path`` into a fresh database at ``url``; return the figures."""
    from sqlalchemy import insert, update

    from caretrack.extensions import db
    from caretrack.models import College, Student, User, now_utc
    from caretrack.services.roster_import import apply_import, check_roster, read_roster

    accounts = json.loads(accounts_file.read_text())
    app = _app(url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        college = College(code="sem", name_zh="经管学院")
        db.session.add(college)
        db.session.flush()
        db.session.execute(insert(User), [
            {**a, "email": None, "active": True, "password_hash": "x", "locale": "zh_CN",
             "college_id": college.id}
            for a in accounts
        ])
        db.session.commit()
        data = path.read_bytes()
        baseline = rss_mb()
        reset_peak()

        start = time.perf_counter()
        sheet = read_roster(path.name, data)
        parsed = time.perf_counter()
        preview = check_roster(path.name, sheet)
        checked = time.perf_counter()
        assert not preview.errors, preview.errors[:5]
        result = apply_import(preview, None, now_utc())
        db.session.commit()
        applied = time.perf_counter()
        peak = peak_rss_mb()
        del preview, sheet

        # Every student moved meanwhile: importing the file again updates them all.
        db.session.execute(update(Student).values(province="西藏", city="拉萨"))
        db.session.commit()
        again = time.perf_counter()
        sheet = read_roster(path.name, data)
        preview = check_roster(path.name, sheet)
        apply_import(preview, None, now_utc())
        db.session.commit()
        updated = time.perf_counter()
        figures = {
            "students": result.created, "updated": len(preview.updates),
            "parse": parsed - start, "check": checked - parsed, "apply": applied - checked,
            "total": applied - start, "update": updated - again,
            "baseline_mb": baseline, "peak_mb": peak, "update_peak_mb": peak_rss_mb(),
        }
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    return figures


def postgres_url(url: str) -> str | None:
    """Return ``url`` if PostgreSQL answers (creating the database if needed), else None."""
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
        return url
    except sqlalchemy.exc.OperationalError as exc:
        if "does not exist" not in str(exc):
            print(f"PostgreSQL not reachable ({url}): skipped")
            return None
    server, name = url.rsplit("/", 1)
    engine = sqlalchemy.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2458,50000")
    parser.add_argument("--formats", default="xlsx,csv")
    parser.add_argument("--pg", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "caretrack-bench")
    parser.add_argument("--child", nargs=3, metavar=("FILE", "URL", "ACCOUNTS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        path, url, accounts = args.child
        print(json.dumps(child(Path(path), url, Path(accounts))))
        return

    args.out.mkdir(parents=True, exist_ok=True)
    databases = {"sqlite": None}
    if not args.no_pg and (url := postgres_url(args.pg)):
        databases["postgresql"] = url
    formats = args.formats.split(",")
    print(f"{'students':>8} {'file':<5} {'MB':>5} {'db':<10} {'parse':>6} {'check':>6} "
          f"{'apply':>6} {'total':>7} {'update':>7} {'peak RSS':>9} {'grew':>7}  target")
    for size in (int(s) for s in args.sizes.split(",")):
        if size == 2458:
            paths, accounts = demo_files(args.out)
        else:
            paths, accounts = large_files(args.out, size)
        accounts_file = args.out / f"accounts-{size}.json"
        accounts_file.write_text(json.dumps(accounts, ensure_ascii=False))
        target = 3.0 if size <= 2458 else 60.0
        for fmt in formats:
            for name, url in databases.items():
                if url is None:
                    database = args.out / f"bench-{size}-{fmt}.db"
                    database.unlink(missing_ok=True)
                    url = f"sqlite:///{database}"
                output = subprocess.run(
                    [sys.executable, __file__, "--child", str(paths[fmt]), url,
                     str(accounts_file)],
                    check=True, capture_output=True, text=True, cwd=ROOT,
                ).stdout
                f = json.loads(output.strip().splitlines()[-1])
                verdict = "ok" if f["total"] < target else "SLOW"
                print(f"{f['students']:>8} {fmt:<5} {paths[fmt].stat().st_size / 2**20:>5.1f} "
                      f"{name:<10} {f['parse']:>5.2f}s {f['check']:>5.2f}s {f['apply']:>5.2f}s "
                      f"{f['total']:>6.2f}s {f['update']:>6.2f}s {f['peak_mb']:>7.0f}MB "
                      f"{f['peak_mb'] - f['baseline_mb']:>5.0f}MB  <{target:.0f}s {verdict}",
                      flush=True)


if __name__ == "__main__":
    main()
