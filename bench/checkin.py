"""Load the students' check-in: many phones at once against gunicorn, then count what was stored.

    .venv/bin/python bench/checkin.py [--postgres] [--students N] [--checkins N] [--clients 50]
                                      [--workers 4] [--think-ms 3000] [--double-taps 0.02]
                                      [--max-seconds 1800] [--keep]

Builds a fresh database: SQLite by default (a file in a scratch directory, WAL as the app sets
it), or with --postgres a new database on postgresql+psycopg://postgres@127.0.0.1:5432 (dropped
at the end). It holds the demo college's roster (its 2,458 students, accounts and care
categories, without the season's history) and, with --students N, more students by bulk
inserts (one counsellor per ~490). Every student has the two previous days' statuses, so the
page is prefilled and "same as yesterday" is offered as on a real morning.

Then it serves the app with gunicorn (``--no-control-socket``, --workers sync workers, the
production configuration with a SECRET_KEY generated for the run and the throttling shared
in Redis database 3 when Redis answers) on a free port of
127.0.0.1, and --clients threads, each a phone with its own cookies, check in --checkins
students (2,458 by default, as many as the account's college), each by their personal link:
GET the page (reads the CSRF token from the form), then POST the check-in (most healthy where
they are, a few feverish).
Each client waits --think-ms between its requests, 0.5 to 1.5 times it so that the phones do
not act in step (default 3 s: a student reads the prefilled page and taps, then the next
student picks up a phone; 0 sends the requests back to back and measures the server's
capacity, where the latency is the queue of 50 waiting for 4 workers), and --double-taps of the
students' phones send the check-in twice at once (an impatient thumb): both must succeed, the
second updating the status the first recorded.

Prints the requests, the errors (anything but 200 for the page and a 302 back to it for the
check-in, or no answer within 30 s), p50/p95/p99 of the latency (page, check-in, both), the
throughput, and then counts, in the database, the day's check-ins and the students whose day's
status is self-reported. Exits 1 on any error, a missing status, or a p95 over --p95-ms
(200 ms), and stops (failing) after --max-seconds.
"""

import argparse
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
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
    server_tracebacks,
)
from caretrack.demo.college import TOTAL_STUDENTS  # noqa: E402

#: The workers' shared throttling, as production runs it (a database of its own: not 0).
REDIS = "redis://127.0.0.1:6379/3"
#: Students per counsellor in the account (2,458 students, five counsellors).
CASELOAD = 490
#: Rows per INSERT statement of the bulk roster.
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
#: Seconds a request may take before it counts as an error.
REQUEST_TIMEOUT = 30.0


# -- the database ----------------------------------------------------------------------------










def add_students(target: int, now: datetime, rng: random.Random) -> int:
    """Add students (and counsellors, one per ~490) in bulk until there are ``target``."""
    from sqlalchemy import func, select

    from caretrack.demo.college import GIVEN, MAJORS, SURNAMES, _location, _phone
    from caretrack.extensions import db
    from caretrack.models import Programme, Role, Student, User
    from caretrack.models.user import new_token

    have = db.session.scalar(select(func.count(Student.id)))
    extra = target - have
    if extra <= 0:
        return 0
    template = db.session.scalars(select(User).where(User.username == "counsellor1")).one()
    counsellors = list(db.session.scalars(
        select(User.id).where(User.role == Role.COUNSELLOR).order_by(User.id)))
    next_user = db.session.scalar(select(func.max(User.id))) + 1
    accounts = []
    for n in range(len(counsellors) + 1, max(len(counsellors), round(target / CASELOAD)) + 1):
        accounts.append({
            "id": next_user, "username": f"counsellor{n}", "display_name": f"辅导员{n:03d}",
            "role": Role.COUNSELLOR.value, "email": f"counsellor{n}@example.edu.cn",
            "active": True, "password_hash": template.password_hash, "locale": "zh_CN",
            "college_id": template.college_id,
            "session_token": new_token(), "calendar_token": new_token(), "created_at": now,
        })
        counsellors.append(next_user)
        next_user += 1
    insert_rows(User, accounts)
    rows = []
    for n in range(extra):
        cohort = 2016 + n % 4
        class_no = n // 30
        province, city = _location(rng)
        rows.append({
            "student_number": f"3{n:08d}", "college_id": template.college_id,
            "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            "gender": rng.choice("MF"), "programme": Programme.UNDERGRADUATE.value,
            "cohort": cohort,
            "class_name": f"{cohort}级{MAJORS[class_no % len(MAJORS)]}{class_no + 10}班",
            # Whole classes under one counsellor, in turn.
            "counsellor_id": counsellors[class_no % len(counsellors)], "supervisor_id": None,
            "phone": _phone(rng), "province": province, "city": city, "on_campus": False,
            "employed": False, "notes": "", "concern_level": "normal",
            "flagged_for_review": False, "last_reviewed_at": None, "created_at": now,
            "updated_at": now, "version_id": 1,
        })
    insert_rows(Student, rows)
    return extra


def add_previous_statuses(now: datetime, rng: random.Random) -> int:
    """The two previous days' statuses of every student, as the counsellors confirmed them."""
    from sqlalchemy import select

    from caretrack.extensions import db
    from caretrack.models import Student
    from caretrack.services.clock import local_today

    today = local_today(now)
    students = db.session.execute(
        select(Student.id, Student.province, Student.city, Student.on_campus,
               Student.counsellor_id)).all()
    rows = []
    for days_ago in (2, 1):
        day = today - timedelta(days=days_ago)
        at = now - timedelta(days=days_ago)
        for s in students:
            rows.append({
                "student_id": s.id, "day": day, "province": s.province, "city": s.city,
                "on_campus": s.on_campus,
                "health": "fever" if rng.random() < 0.01 else "normal", "note": "",
                "source": "counsellor", "recorded_by_id": s.counsellor_id, "recorded_at": at,
            })
    from caretrack.models import DailyStatus

    insert_rows(DailyStatus, rows)
    return len(rows)


def build(app, students: int, now: datetime) -> tuple[dict, list[tuple]]:
    """Create the schema and the roster; return (timings and counts, the students' plans).

    A plan is (student number, personal link token, province, city) of one student.
    """
    from sqlalchemy import select, true

    from caretrack.demo import SEED, DemoContext
    from caretrack.demo.college import build_college
    from caretrack.extensions import db
    from caretrack.models import Student
    from caretrack.services import checkin
    from caretrack.services.clock import local_today

    rng = random.Random(SEED)
    figures = {}
    with app.app_context():
        start = time.perf_counter()
        db.create_all()
        build_college(DemoContext(rng=rng, today=local_today(now), now=now))
        db.session.commit()
        figures["added"] = add_students(students, now, rng)
        figures["statuses"] = add_previous_statuses(now, rng)
        db.session.commit()
        figures["roster_s"] = time.perf_counter() - start
        start = time.perf_counter()
        links = checkin.personal_links(true(), now)
        db.session.commit()
        figures["links_s"] = time.perf_counter() - start
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            ) as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
        places = dict(db.session.execute(
            select(Student.id, Student.province)).all())
        cities = dict(db.session.execute(select(Student.id, Student.city)).all())
        plans = [(s.student_number, url.rsplit("/", 1)[1], places[s.id], cities[s.id])
                 for s, url in links]
        db.session.remove()
        db.engine.dispose()
    return figures, plans


def count_stored(app, day) -> dict:
    """The day's check-ins and self-reported statuses, counted in the database."""
    from sqlalchemy import func, select

    from caretrack.extensions import db
    from caretrack.models import CheckIn, DailyStatus, StatusSource, TimelineEntry

    with app.app_context():
        counts = {
            "checkins": db.session.scalar(
                select(func.count(CheckIn.id)).where(CheckIn.day == day)),
            "students": db.session.scalar(
                select(func.count(func.distinct(CheckIn.student_id))).where(CheckIn.day == day)),
            "self_statuses": db.session.scalar(
                select(func.count(DailyStatus.id)).where(
                    DailyStatus.day == day, DailyStatus.source == StatusSource.SELF_REPORTED)),
            "timeline": db.session.scalar(
                select(func.count(TimelineEntry.id)).where(
                    TimelineEntry.kind == "status_change")),
        }
        db.session.remove()
        db.engine.dispose()
    return counts


# -- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def start_gunicorn(url: str, secret: str, port: int, workers: int, log: Path, redis_url: str,
                   secure_cookies: bool = False):
    """Serve the app as production would (a generated secret key, the workers' throttling
    shared in Redis), on 127.0.0.1:``port``; with ``secure_cookies`` its cookies stay
    HTTPS-only (the client must send them back itself over the loopback's plain HTTP)."""
    import httpx

    env = {
        **os.environ, "CARETRACK_CONFIG": "production", "SECRET_KEY": secret,
        "DATABASE_URL": url, "CARETRACK_BASE_URL": f"http://127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers), "REDIS_URL": redis_url,
    }
    if not secure_cookies:
        # Plain HTTP on the loopback: no TLS proxy in front, so cookies may not be "Secure".
        env["CARETRACK_INSECURE_COOKIES"] = "1"
    else:
        env.pop("CARETRACK_INSECURE_COOKIES", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--no-control-socket", "-w", str(workers),
         "-b", f"127.0.0.1:{port}", "--error-logfile", str(log), "caretrack:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    # Every worker loads the app after the fork: wait until they all have, so that the load
    # measures serving, not booting.
    previous = -1.0
    while time.monotonic() < deadline:
        used = workers_cpu(process)
        if len(worker_pids(process)) == workers and used - previous < 0.02:
            return process
        previous = used
        time.sleep(0.5)
    stop_gunicorn(process)
    raise RuntimeError("gunicorn's workers were not ready within 60 s")


def worker_pids(process) -> dict[int, float]:
    """The gunicorn master's workers and the CPU seconds each used so far (Linux /proc)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == process.pid:  # the parent's pid; utime and stime at 11 and 12
            found[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf(
                "SC_CLK_TCK")
    return found


def workers_cpu(process) -> float:
    return sum(worker_pids(process).values())


def stop_gunicorn(process) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the phones ------------------------------------------------------------------------------


@dataclass
class Results:
    get_ms: list = field(default_factory=list)
    post_ms: list = field(default_factory=list)
    errors: dict = field(default_factory=lambda: defaultdict(int))
    examples: list = field(default_factory=list)
    done: int = 0
    #: Students whose phone sent the check-in twice at once.
    double_taps: int = 0
    #: CPU seconds the clients used (a bench limited by its own client measures nothing).
    client_cpu: float = 0.0
    #: CPU seconds the gunicorn workers used meanwhile.
    server_cpu: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, what: str, detail: str) -> None:
        with self.lock:
            self.errors[what] += 1
            if len(self.examples) < 5:
                self.examples.append(f"{what}: {detail[:300]}")


def answers(plan: tuple, rng: random.Random) -> dict:
    """What one student answers: where they are, healthy mostly, a few with a fever."""
    _number, _token, province, city = plan
    fever = rng.random() < 0.02
    return {
        "province": province, "city": city, "on_campus": "no",
        "health": "fever" if fever else "normal",
        "temperature": f"{rng.uniform(37.3, 38.9):.1f}" if fever else "",
        "risk_contact": "no", "note": "嗓子有点疼" if fever and rng.random() < 0.5 else "",
    }


def submit(client, path: str, data: dict, results: Results) -> None:
    """POST a check-in; it must answer with a redirect back to the page's confirmation."""
    import httpx

    try:
        start = time.perf_counter()
        posted = client.post(path, data=data)
        elapsed = (time.perf_counter() - start) * 1000
    except httpx.HTTPError as exc:
        results.error(f"POST {type(exc).__name__}", str(exc))
        return
    if posted.status_code != 302 or not posted.headers.get("location", "").endswith("#done"):
        results.error(f"POST {posted.status_code}", posted.text)
        return
    with results.lock:
        results.post_ms.append(elapsed)


def phone(base: str, queue: list, lock: threading.Lock, results: Results, think: float,
          double_tap: float, deadline: float, seed: int) -> None:
    """One client: take the next student, open their link, check in; until none is left."""
    import httpx

    rng = random.Random(seed)

    def pause() -> None:  # phones do not act in step: 0.5 to 1.5 times the think time
        if think:
            time.sleep(think * rng.uniform(0.5, 1.5))

    pause()
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT, follow_redirects=False) as client:
        while time.monotonic() < deadline:
            with lock:
                if not queue:
                    return
                plan = queue.pop()
            client.cookies.clear()  # each student's own phone
            path = f"/checkin/p/{plan[1]}"
            try:
                start = time.perf_counter()
                page = client.get(path)
                elapsed = (time.perf_counter() - start) * 1000
                token = CSRF.search(page.text) if page.status_code == 200 else None
                if token is None:
                    results.error(f"GET {page.status_code}", page.text)
                    continue
                with results.lock:
                    results.get_ms.append(elapsed)
                pause()  # reading the page, tapping the answers
                data = answers(plan, rng) | {"csrf_token": token.group(1)}
                taps = 2 if rng.random() < double_tap else 1
                if taps == 1:
                    submit(client, path, data, results)
                else:  # the same answers sent twice at once, as an impatient thumb does
                    second = threading.Thread(target=submit, args=(client, path, data, results))
                    second.start()
                    submit(client, path, data, results)
                    second.join()
                with results.lock:
                    results.done += 1
                    results.double_taps += taps - 1
            except httpx.HTTPError as exc:
                results.error(f"GET {type(exc).__name__}", str(exc))
            pause()  # the next student picks up their phone


def load(base: str, plans: list, clients: int, think: float, double_tap: float,
         max_seconds: float) -> tuple[Results, float]:
    """Check every planned student in from ``clients`` threads; return (results, seconds)."""
    queue = list(reversed(plans))
    lock = threading.Lock()
    results = Results()
    deadline = time.monotonic() + max_seconds
    threads = [threading.Thread(target=phone, args=(base, queue, lock, results, think,
                                                    double_tap, deadline, n), daemon=True)
               for n in range(clients)]
    start, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + REQUEST_TIMEOUT + 5)
    wall = time.perf_counter() - start
    results.client_cpu = time.process_time() - cpu
    with lock:
        if queue:
            results.error("not done before --max-seconds", f"{len(queue)} students left")
    return results, wall


def percentile(values: list, p: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def print_figures(results: Results, wall: float, counts: dict, expected: int, p95_ms: float
                  ) -> bool:
    """Print the figures; return whether the run met its targets."""
    requests = len(results.get_ms) + len(results.post_ms) + sum(results.errors.values())
    errors = sum(results.errors.values())
    print(f"\nrequests: {requests:,} ({len(results.get_ms):,} pages, "
          f"{len(results.post_ms):,} check-ins) in {wall:.1f} s; errors: {errors}")
    for what, n in sorted(results.errors.items()):
        print(f"  {n:>6} {what}")
    for example in results.examples:
        print(f"  e.g. {example}")
    print(f"{'latency':<22} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
    rows = [("page (GET)", results.get_ms), ("check-in (POST)", results.post_ms),
            ("all requests", results.get_ms + results.post_ms)]
    for name, values in rows:
        if values:
            print(f"{name:<22} {percentile(values, 50):>5.0f} ms {percentile(values, 95):>5.0f} ms"
                  f" {percentile(values, 99):>5.0f} ms {max(values):>5.0f} ms")
    all_ms = results.get_ms + results.post_ms
    p95 = percentile(all_ms, 95) if all_ms else float("inf")
    print(f"throughput: {requests / wall:.0f} requests/s, {results.done / wall:.1f} check-ins/s")
    per = 1000 / max(requests, 1)
    print(f"CPU: the server's workers {results.server_cpu:.1f} s ({results.server_cpu * per:.1f} ms"
          f" a request), the clients {results.client_cpu:.1f} s "
          f"({results.client_cpu * per:.1f} ms a request), on {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.1f}")
    submitted = results.done + results.double_taps
    print(f"stored for {counts['day']}: {counts['checkins']:,} check-ins of "
          f"{counts['students']:,} students ({results.double_taps} phones sent theirs twice at "
          f"once); {counts['self_statuses']:,} day's statuses self-reported; "
          f"{counts['timeline']:,} status changes on the timelines")
    verdicts = [
        ("0 errors", errors == 0),
        (f"all {expected:,} students' statuses stored, self-reported, every submission kept",
         counts["self_statuses"] == counts["students"] == expected
         and counts["checkins"] == submitted),
        (f"p95 under {p95_ms:.0f} ms", p95 < p95_ms),
    ]
    for text, ok in verdicts:
        print(f"  {'ok  ' if ok else 'FAIL'} {text}")
    return all(ok for _, ok in verdicts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true",
                        help=f"use a new database on {PG_SERVER} (dropped at the end)")
    parser.add_argument("--pg-server", default=os.environ.get("BENCH_PG_SERVER", PG_SERVER))
    parser.add_argument("--students", type=int, default=0,
                        help="add students in bulk until the college has this many")
    parser.add_argument("--checkins", type=int, default=TOTAL_STUDENTS,
                        help="students who check in (default: 2,458, the account's college; "
                        "with --students 50000, a college of that size's busiest minutes)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent phones")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--think-ms", type=float, default=3000.0,
                        help="each phone's pause between its requests (0.5 to 1.5 times it): "
                        "reading the prefilled page and tapping, then handing the phone on; "
                        "0 sends the requests back to back, the server's capacity")
    parser.add_argument("--double-taps", type=float, default=0.02,
                        help="share of students whose phone sends the check-in twice at once")
    parser.add_argument("--p95-ms", type=float, default=200.0, help="latency target")
    parser.add_argument("--max-seconds", type=float, default=1800.0,
                        help="stop the load after this long (and fail)")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", REDIS),
                        help="Redis for the workers' shared throttling (never database 0)")
    parser.add_argument("--keep", action="store_true", help="keep the database; print its URL")
    args = parser.parse_args()

    from caretrack.services.clock import local_today

    secret = secrets.token_urlsafe(48)
    scratch = Path(tempfile.mkdtemp(prefix="caretrack-checkin-"))
    pg_name = None
    if args.postgres:
        url, pg_name = create_pg_database(args.pg_server, "checkin")
    else:
        url = f"sqlite:///{scratch / 'checkin.db'}"
    engine_name = url.split(":", 1)[0].split("+", 1)[0]
    server = None
    ok = False
    try:
        app = make_app(url, SECRET_KEY=secret)
        now = datetime.now(UTC)
        print(f"building the roster on {engine_name} ...", flush=True)
        built, plans = build(app, args.students, now)
        random.Random(1).shuffle(plans)
        plans = plans[:args.checkins]
        print(f"{engine_name}: roster in {built['roster_s']:.0f} s ({built['added']:,} students "
              f"added to the demo's 2,458, {built['statuses']:,} previous statuses), "
              f"personal links in {built['links_s']:.1f} s", flush=True)
        port = free_port()
        redis_url = args.redis if redis_reachable(args.redis) else ""
        server = start_gunicorn(url, secret, port, args.workers, scratch / "gunicorn.log",
                                redis_url)
        print(f"gunicorn: {args.workers} sync workers on 127.0.0.1:{port}, production "
              f"configuration, throttling in {redis_url or 'each worker (no Redis)'}; "
              f"{args.clients} clients check in {len(plans):,} students "
              f"(think time {args.think_ms:.0f} ms) ...", flush=True)
        with app.app_context():
            day = local_today(datetime.now(UTC))
        server_cpu = workers_cpu(server)
        results, wall = load(f"http://127.0.0.1:{port}", plans, args.clients,
                             args.think_ms / 1000, args.double_taps, args.max_seconds)
        results.server_cpu = workers_cpu(server) - server_cpu
        stop_gunicorn(server)
        server = None
        counts = count_stored(app, day) | {"day": day}
        ok = print_figures(results, wall, counts, len(plans), args.p95_ms)
        if server_tracebacks(scratch / "gunicorn.log"):
            ok = False
    finally:
        if server is not None:
            stop_gunicorn(server)
        if args.keep:
            print(f"\nkept: {url}")
        elif pg_name:
            drop_pg_database(args.pg_server, pg_name)
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
