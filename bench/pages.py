"""Time the pages a counsellor, the deputy secretary, a supervisor and the university office
open all day.

    .venv/bin/python bench/pages.py [--postgres] [--students N] [--colleges N] [--requests 20]
                                    [--rounds 1] [--only URL-PART] [--posts 10] [--at 10:30]
                                    [--keep] [--template NAME] [--database URL ...]

Builds a fresh database: SQLite by default (a file in a scratch directory), or with --postgres
a new database on postgresql+psycopg://postgres@127.0.0.1:5432 (dropped at the end; with
--template, a copy of a database an earlier run kept, the demo seeded already). It holds
the demo college (``seed_demo``, through the services) and, with --students N, the demo scaled
to N students by bulk inserts shaped like the demo's season: one counsellor per ~490 students
(the demo's five take their share of the new classes), one supervisor per ~100; each new
student with its care categories and concern level, follow-ups at its categories' rhythm, the
re-checks they completed and the open one, a few notes, three weeks of daily statuses, and the
counsellors' daily reports, referrals with their steps and notifications, and audit rows.
With --colleges N the university has N colleges, each with its deputy, secretary and league
secretary, the new counsellors (and their students) shared among them. Every college gets its
sign-off chain of the day before (done) and of today (at some stage, or done), and the
university office an account. The season ends at --at on the college's today (10:30 by
default: the morning's check-in sheets are in, the reports are coming in), whatever the time
the script runs.

Then it signs in through the test client as counsellor1, the deputy secretary, the
supervisor with the most referrals and the university office, and prints for each page: the
status, the SQL statements of one request (sqlalchemy ``before_cursor_execute``), how many
statements SQLAlchemy compiled anew in all the measured requests (misses of its compiled
cache: 0 when every hot statement is cached), and the median and p95 response time of
--rounds × --requests requests after two warm-up requests a round; then the same for POSTing
a follow-up (each to another student of counsellor1 with an open re-check). Given several
--database URLs, it measures them in turn, round after round, and prints each page's ratio
to its time on the first, and the university office's pages' ratio to the first's daily
board. Last (unless --no-bulk), one run each of
the bulk actions through their pages, preview then confirmation: a care category added to 500
of counsellor1's students and ended again (counsellor1 covers counsellor2 today if their own
caseload is smaller), and the transfer of the cohort (a cohort year, or a programme's) nearest
500 students by the deputy secretary.

Exits 1 if a page does not answer 200 (the POST: a 302 to the student's page).

Targets (PRODUCT.md, "Fast at the college's size and beyond"): a constant number of queries
whatever the data size; tens of milliseconds at 2,458 students (marked SLOW over 100 ms
median), and fast at 50,000 students on PostgreSQL (marked SLOW over 300 ms median).
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from unicodedata import east_asian_width
from urllib.parse import quote, unquote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.engine.default import CACHE_MISS  # noqa: E402

from bench.databases import (  # noqa: E402
    PG_SERVER,
    create_pg_database,
    drop_pg_database,
    make_app,
)

#: Students per counsellor in the account (2,458 students, five counsellors).
CASELOAD = 490
#: Students per supervisor in the demo (24 supervisors).
SUPERVISED = 100
#: New students written per round of inserts (bounds the memory of the generator).
BATCH = 2000
#: Rows per INSERT statement.
ROWS_PER_STATEMENT = 1000


# -- the database ----------------------------------------------------------------------------








def seeded_until(app, at: str) -> datetime:
    """The instant the demo is seeded up to: ``at`` (HH:MM) on the college's today, or now."""
    from caretrack.services.clock import local_datetime, local_today

    now = datetime.now(UTC)
    if at == "now":
        return now
    with app.app_context():
        return local_datetime(local_today(now), clock.fromisoformat(at)).astimezone(UTC)


def build(app, students: int, now: datetime, colleges: int = 1, seeded: bool = False) -> dict:
    """Create the schema, seed the demo college (unless ``seeded``: a copy of a database this
    script built), then scale it to ``students`` (in ``colleges`` colleges), add each
    college's sign-off chains; return timings."""
    from caretrack.demo import seed_demo
    from caretrack.extensions import db

    timings = {}
    with app.app_context():
        start = time.perf_counter()
        if not seeded:
            db.create_all()
            seed_demo(now=now)
            db.session.commit()
        timings["demo"] = time.perf_counter() - start
        start = time.perf_counter()
        added = scale_up(students, now, colleges=colleges)
        db.session.commit()
        # The bulk rows went around the status service: count the kept numbers again, of
        # today and of the day before (as the schedule's count after midnight does).
        from caretrack.services.clock import local_today
        from caretrack.services.daily import tallies

        if added:
            tallies.forget()
        tallies.rebuild(local_today(now) - timedelta(days=1))
        tallies.rebuild(local_today(now))
        db.session.commit()
        if added:
            timings["scale"] = time.perf_counter() - start
            timings.update(added)
        timings.update(sign_offs(now))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # The statistics autovacuum would gather after such inserts, now.
            with db.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            ) as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
        db.session.remove()
    return timings


# -- scaling the demo up, in bulk -----------------------------------------------------------


class Ids:
    """Hands out primary keys after the rows already in each table."""

    def __init__(self, models):
        from sqlalchemy import func, select

        from caretrack.extensions import db

        self.next = {
            m: (db.session.scalar(select(func.max(m.id))) or 0) + 1 for m in models
        }

    def __call__(self, model) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value


@dataclass
class Rows:
    """Rows waiting to be inserted, per model, in dependency order."""

    by_model: dict = field(default_factory=lambda: defaultdict(list))

    def add(self, model, **row) -> dict:
        self.by_model[model].append(row)
        return row

    def flush(self, order) -> int:
        from sqlalchemy import insert

        from caretrack.extensions import db

        written = 0
        for model in order:
            rows = self.by_model.pop(model, [])
            step = ROWS_PER_STATEMENT * 20
            for start in range(0, len(rows), step):
                db.session.execute(insert(model.__table__), rows[start:start + step])
            written += len(rows)
        return written


def scale_up(target: int, now: datetime, seed: int = 50_000, colleges: int = 1) -> dict:
    """Add students in bulk until the university has ``target``; return what was added.

    With ``colleges`` over the colleges the demo has, the university gets more colleges
    (each with its deputy, secretary and, on the account's four stages, league secretary),
    and the new counsellors are shared among the colleges in turn: a college's students are
    its counsellors' (the demo's five take their share of the new classes, in their college).

    The new students are shaped like the demo's: same programmes, provinces, categories and
    concern levels; follow-ups at their categories' rhythm (every student got the first
    notice, some were chased for not answering), the re-checks they completed and the open
    ones, three weeks of daily statuses, referrals to supervisors, audit rows.
    """
    from sqlalchemy import func, select, text

    from caretrack.demo.college import (
        GIVEN,
        MAJORS,
        PROGRAMME_CLASS,
        PROGRAMME_SIZES,
        SURNAMES,
        TOTAL_STUDENTS,
        _location,
        _phone,
    )
    from caretrack.demo.history import CHANNELS, NOT_REACHED, NOTES, REFERRAL_REASONS, SAID
    from caretrack.extensions import db
    from caretrack.models import (
        DEFAULT_STAGES,
        WITHOUT_MERGE,
        AuditEvent,
        CareCategory,
        CategoryAssignment,
        College,
        ConcernChange,
        DailyReport,
        DailyStatus,
        Notification,
        Programme,
        Recheck,
        Referral,
        Student,
        TimelineEntry,
        User,
    )
    from caretrack.models.user import new_token
    from caretrack.services.clock import college_tz, local_datetime, local_today

    have = db.session.scalar(select(func.count(Student.id)))
    extra = target - have
    if extra <= 0:
        return {}
    rng = random.Random(seed)
    today = local_today(now)
    season_start = today - timedelta(days=42)
    ids = Ids([User, Student, CategoryAssignment, ConcernChange, TimelineEntry, Recheck,
               Referral, DailyStatus, DailyReport, Notification, AuditEvent])
    order = [User, Student, CategoryAssignment, ConcernChange, Referral, TimelineEntry, Recheck,
             Notification, AuditEvent, DailyStatus, DailyReport]
    rows = Rows()
    counts: dict[str, int] = defaultdict(int)

    def at(day: date, earliest: int = 8, latest: int = 21) -> datetime:
        minutes = rng.randint(earliest * 60, latest * 60 - 1)
        return (local_datetime(day, clock(0, 0)) + timedelta(minutes=minutes)).astimezone(UTC)

    # Accounts: a counsellor per ~490 students, a supervisor per ~100.
    template = db.session.scalars(select(User).where(User.username == "counsellor1")).one()
    # 经管学院 has the merge stage: its league secretary approves the counsellors' reports.
    reviewer = db.session.scalars(select(User).where(User.username == "league")).one()
    counsellors = list(db.session.scalars(
        select(User.id).where(User.role == "counsellor", User.college_id == template.college_id)
        .order_by(User.id)
    ))
    supervisors = list(db.session.scalars(
        select(User.id).where(User.role == "supervisor", User.college_id == template.college_id)
        .order_by(User.id)
    ))

    def account(role: str, username: str, name: str, college_id: int | None = None) -> int:
        user_id = ids(User)
        rows.add(User, id=user_id, username=username, display_name=name, role=role,
                 email=f"{username}@example.edu.cn", active=True,
                 college_id=college_id or template.college_id,
                 password_hash=template.password_hash, locale="zh_CN",
                 session_token=new_token(), calendar_token=new_token(), created_at=now)
        return user_id

    # More colleges, each with the accounts of its sign-off chain.
    college_ids = list(db.session.scalars(select(College.id).order_by(College.id)))
    deputies = dict(db.session.execute(
        select(User.college_id, func.min(User.id)).where(User.role == "deputy_secretary")
        .group_by(User.college_id)).all())
    for n in range(len(college_ids) + 1, colleges + 1):
        code = f"c{n:02d}"
        stages = DEFAULT_STAGES if n % 2 else WITHOUT_MERGE
        college = College(code=code, name_zh=f"第{n:02d}学院", name_en=f"College {n:02d}",
                          stages=stages, created_at=now)
        db.session.add(college)
        db.session.flush()
        college_ids.append(college.id)
        deputies[college.id] = account("deputy_secretary", f"{code}deputy", f"{code}副书记",
                                       college.id)
        account("secretary", f"{code}secretary", f"{code}书记", college.id)
        if stages is DEFAULT_STAGES:
            account("league_secretary", f"{code}league", f"{code}团委书记", college.id)
    counts["colleges"] = len(college_ids)

    new_counsellors = []
    college_of = dict(db.session.execute(
        select(User.id, User.college_id).where(User.id.in_(counsellors))).all())
    for n in range(len(counsellors) + 1, max(len(counsellors), round(target / CASELOAD)) + 1):
        college_id = college_ids[(n - len(counsellors)) % len(college_ids)]
        new_counsellors.append(account("counsellor", f"counsellor{n}", f"辅导员{n:03d}",
                                       college_id))
        college_of[new_counsellors[-1]] = college_id
    for n in range(len(supervisors) + 1, max(len(supervisors), round(target / SUPERVISED)) + 1):
        supervisors.append(account("supervisor", f"supervisor{n}",
                                   rng.choice(SURNAMES) + rng.choice(GIVEN) + "教授"))
    counsellors += new_counsellors
    counts["counsellors"] = len(counsellors)
    counts["supervisors"] = len(supervisors)
    rows.flush(order)

    categories = {c.code: c for c in db.session.scalars(select(CareCategory))}

    # Classes of each (programme, cohort), each class under one counsellor, in turn.
    classes = []
    shares = [extra * size // TOTAL_STUDENTS for _, _, size in PROGRAMME_SIZES]
    shares[0] += extra - sum(shares)
    for (programme, cohorts, _), n_programme in zip(PROGRAMME_SIZES, shares, strict=True):
        class_size = 30 if programme == Programme.UNDERGRADUATE else 45
        for i, cohort in enumerate(cohorts):
            n = n_programme // len(cohorts) + (1 if i < n_programme % len(cohorts) else 0)
            for k in range(0, n, class_size):
                number = k // class_size
                if programme == Programme.UNDERGRADUATE:
                    name = f"{cohort}级{MAJORS[number % len(MAJORS)]}{number // 6 + 3}班"
                else:
                    name = f"{cohort}级{PROGRAMME_CLASS[programme]}{number + 10}班"
                classes.append((programme, cohort, name, min(class_size, n - k)))
    rng.shuffle(classes)
    plan = []
    for n, (programme, cohort, name, size) in enumerate(classes):
        counsellor = counsellors[n % len(counsellors)]
        plan += [(programme, cohort, name, counsellor)] * size

    def rhythm(student_id, counsellor, start: date, end: date, cadence: int, code: str,
               category_id: int | None, stop_early: bool) -> None:
        """Follow-ups every ``cadence`` days from ``start`` to ``end``, each completing the
        re-check the previous one scheduled; the last one leaves a re-check open."""
        day = start + timedelta(days=rng.randint(0, cadence))
        category_ended = end < today
        if stop_early:
            end = min(end, today - timedelta(days=cadence + rng.randint(1, 3)))
        previous = None  # (recheck id, due day) scheduled by the previous follow-up
        if day <= end:
            scheduled = datetime.combine(start, clock(2, 0), tzinfo=UTC)
            entry(student_id, "recheck_change", counsellor, scheduled, "",
                  {"action": "scheduled", "recheck_id": None, "due_on": day.isoformat(),
                   "origin": "cadence", "category_id": category_id})
        while day <= end:
            occurred = min(at(day), now - timedelta(minutes=10))
            entry_id = ids(TimelineEntry)
            reached = rng.random() > 0.08
            channels, weights = CHANNELS.get(code, CHANNELS["default"])
            channel = rng.choices(channels, weights)[0]
            body = rng.choice(SAID[code]) if reached else rng.choice(NOT_REACHED.get(
                channel, NOT_REACHED["phone"]))
            rows.add(TimelineEntry, id=entry_id, student_id=student_id, kind="follow_up",
                     author_id=counsellor, occurred_at=occurred, created_at=occurred,
                     body=body, details={"channel": channel, "reached": reached,
                                         "health": "normal" if reached else "unknown",
                                         "check_again_in_days": cadence},
                     corrects_id=None, referral_id=None, submission_key=None)
            audit(counsellor, student_id, "follow_up.create", f"entry:{entry_id}", occurred)
            recheck_id = ids(Recheck)
            due = local_today(occurred) + timedelta(days=cadence)
            rows.add(Recheck, id=recheck_id, student_id=student_id, owner_id=counsellor,
                     due_on=due, reason="", origin="follow_up", state="open",
                     category_id=category_id, completed_entry_id=None, cancel_reason=None,
                     previous_due_on=None, created_by_id=counsellor, created_at=occurred,
                     closed_at=None)
            if previous is not None:
                done = rows.by_model[Recheck][previous[0]]
                done.update(state="done", completed_entry_id=entry_id, closed_at=occurred)
                rows.add(TimelineEntry, id=ids(TimelineEntry), student_id=student_id,
                         kind="recheck_change", author_id=counsellor, occurred_at=occurred,
                         created_at=occurred, body="",
                         details={"action": "completed", "entry_id": entry_id,
                                  "recheck_ids": [done["id"]],
                                  "due_on": [done["due_on"].isoformat()],
                                  "next_recheck_id": recheck_id,
                                  "next_due_on": due.isoformat()},
                         corrects_id=None, referral_id=None, submission_key=None)
            previous = (len(rows.by_model[Recheck]) - 1, due)
            counts["follow-ups"] += 1
            day += timedelta(days=rng.randint(cadence, cadence + 1))
        if previous is not None and category_ended:
            # The category ended: its open re-check was cancelled.
            rows.by_model[Recheck][previous[0]].update(
                state="cancelled", cancel_reason="", closed_at=min(
                    now, datetime.combine(end, clock(3, 0), tzinfo=UTC)))

    def entry(student_id, kind, author, occurred, body="", details=None, referral_id=None):
        entry_id = ids(TimelineEntry)
        rows.add(TimelineEntry, id=entry_id, student_id=student_id, kind=kind, author_id=author,
                 occurred_at=occurred, created_at=occurred, body=body, details=details or {},
                 corrects_id=None, referral_id=referral_id, submission_key=None)
        return entry_id

    def audit(user_id, student_id, action, detail, occurred):
        rows.add(AuditEvent, id=ids(AuditEvent), occurred_at=occurred, user_id=user_id,
                 action=action, student_id=student_id, ip="127.0.0.1", detail=detail)

    def referral(student_id, counsellor, supervisor):
        created = at(today - timedelta(days=rng.randint(0, 30)), 9, 18)
        created = min(created, now - timedelta(minutes=30))
        state = rng.choices(["open", "accepted", "declined", "done", "revoked"],
                            [44, 23, 9, 18, 6])[0]
        referral_id = ids(Referral)
        closed = created + timedelta(hours=rng.randint(2, 48))
        closed = min(closed, now - timedelta(minutes=5))
        rows.add(Referral, id=referral_id, student_id=student_id, referred_by_id=counsellor,
                 supervisor_id=supervisor, reason=rng.choice(REFERRAL_REASONS),
                 urgency="urgent" if rng.random() < 0.1 else "normal", state=state,
                 created_at=created, updated_at=closed if state != "open" else created,
                 closed_at=closed if state in ("declined", "done", "revoked") else None,
                 version_id=1)
        entry(student_id, "referral", counsellor, created, rng.choice(REFERRAL_REASONS),
              {"supervisor_id": supervisor, "urgency": "normal"}, referral_id)
        steps = {"accepted": [("accepted", "open", supervisor)],
                 "declined": [("declined", "open", supervisor)],
                 "done": [("accepted", "open", supervisor), ("done", "accepted", supervisor)],
                 "revoked": [("revoked", "open", counsellor)]}.get(state, [])
        for action, before, by in steps:
            to = "accepted" if action == "accepted" else action
            entry(student_id, "referral_step", by, closed, "已开展线上论文指导",
                  {"action": action, "from": before, "to": to}, referral_id)
        seen = now - timedelta(days=2)
        rows.add(Notification, id=ids(Notification), user_id=supervisor, kind="referral.new",
                 student_id=student_id, referral_id=referral_id, created_at=created,
                 seen_at=seen if created < seen else None)
        audit(counsellor, student_id, "referral.create", f"referral:{referral_id}", created)
        counts["referrals"] += 1

    first_day = season_start + timedelta(days=1)
    students_by_counsellor: dict[int, list[tuple]] = defaultdict(list)
    for batch_start in range(0, len(plan), BATCH):
        for n, (programme, cohort, class_name, counsellor) in enumerate(
            plan[batch_start:batch_start + BATCH], start=batch_start
        ):
            student_id = ids(Student)
            province, city = _location(rng)
            graduate = programme in (Programme.MASTER, Programme.PHD, Programme.MBA_FULL_TIME)
            supervisor = rng.choice(supervisors) if graduate else None
            draw = rng.random()
            concern = "high" if draw < 0.006 else "elevated" if draw < 0.046 else "normal"
            rows.add(Student, id=student_id, college_id=college_of[counsellor],
                     student_number=f"3{n:08d}",
                     name=rng.choice(SURNAMES) + rng.choice(GIVEN)
                     + (rng.choice(GIVEN) if rng.random() < 0.7 else ""),
                     gender=rng.choice("MF"), programme=programme, cohort=cohort,
                     class_name=class_name, counsellor_id=counsellor,
                     supervisor_id=supervisor, phone=_phone(rng), province=province,
                     city=city, on_campus=False,
                     employed=programme == Programme.MBA_PART_TIME and rng.random() < 0.9,
                     notes="", concern_level=concern, flagged_for_review=False,
                     last_reviewed_at=None, created_at=now, updated_at=now, version_id=1)
            students_by_counsellor[counsellor].append((student_id, province, city))

            # Every student read the college's notice in the first days.
            first = at(first_day + timedelta(days=rng.randint(0, 2)))
            entry(student_id, "follow_up", counsellor, first, rng.choice(SAID["first"]),
                  {"channel": rng.choice(["wechat", "sms", "phone"]), "reached": True,
                   "health": "normal", "check_again_in_days": None})
            # Some were chased for not answering the health form, one by one.
            for _ in range(rng.choice([1, 2, 3, 3, 4, 5])):
                day = first_day + timedelta(days=rng.randint(3, 41))
                chased = min(at(day, 11, 16), now - timedelta(minutes=10))
                channel = rng.choice(["sms", "phone"])
                entry_id = entry(student_id, "follow_up", counsellor, chased,
                                 rng.choice(SAID["chase"]),
                                 {"channel": channel, "reached": True, "health": "normal",
                                  "check_again_in_days": None})
                audit(counsellor, student_id, "follow_up.create", f"entry:{entry_id}", chased)
            for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
                noted = min(at(first_day + timedelta(days=rng.randint(0, 41))),
                            now - timedelta(minutes=10))
                entry_id = entry(student_id, "note", counsellor, noted, rng.choice(NOTES))
                audit(counsellor, student_id, "note.create", f"entry:{entry_id}", noted)

            # Care categories, as often as in the demo, followed up at their rhythm.
            codes = []
            if province == "湖北":
                codes.append(("hubei", 40))
            elif rng.random() < 0.016:
                codes.append(("hubei_contact", rng.randint(3, 30)))
            if programme == Programme.UNDERGRADUATE and rng.random() < 0.08:
                codes.append(("return_early", rng.randint(1, 35)))
            if programme in (Programme.MASTER, Programme.PHD) and rng.random() < 0.19:
                codes.append(("thesis_pressure", rng.randint(1, 35)))
            if rng.random() < 0.02:
                codes.append(("other_attention", rng.randint(1, 35)))
            for code, days_ago in codes:
                category = categories[code]
                started = max(season_start, today - timedelta(days=days_ago))
                set_at = datetime.combine(started, clock(2, 0), tzinfo=UTC)
                ended = None
                if category.isolation_days and started + timedelta(
                    days=category.isolation_days
                ) < today:
                    ended = started + timedelta(days=category.isolation_days)
                elif code == "return_early" and rng.random() < 0.3:
                    ended = min(today, started + timedelta(days=rng.randint(3, 20)))
                assignment_id = ids(CategoryAssignment)
                rows.add(CategoryAssignment, id=assignment_id, student_id=student_id,
                         category_id=category.id, started_on=started, ended_on=ended,
                         reason=category.name_zh,
                         end_reason="情况稳定，解除关注" if ended else None,
                         set_by_id=counsellor, ended_by_id=counsellor if ended else None,
                         created_at=set_at)
                entry(student_id, "category_change", counsellor, set_at, category.name_zh,
                      {"action": "added", "assignment_id": assignment_id,
                       "category_id": category.id, "started_on": started.isoformat()})
                if ended:
                    ended_at = datetime.combine(ended, clock(3, 0), tzinfo=UTC)
                    entry(student_id, "category_change", counsellor, min(ended_at, now),
                          "情况稳定，解除关注",
                          {"action": "ended", "assignment_id": assignment_id,
                           "category_id": category.id, "ended_on": ended.isoformat()})
                rhythm(student_id, counsellor, started, ended or today,
                       max(category.cadence_days, 1), code, category.id,
                       stop_early=ended is None and rng.random() < 0.04)
                counts["category assignments"] += 1
                if code == "thesis_pressure" and supervisor and rng.random() < 0.45:
                    referral(student_id, counsellor, supervisor)
            if not codes and rng.random() < 0.1:
                # "Check again in a few days" after a chase: one open re-check.
                due = today + timedelta(days=rng.randint(-2, 6))
                asked = at(due - timedelta(days=rng.randint(3, 7)))
                entry_id = entry(student_id, "follow_up", counsellor, min(asked, now),
                                 rng.choice(SAID["other_attention"]),
                                 {"channel": "wechat", "reached": True, "health": "normal",
                                  "check_again_in_days": (due - local_today(asked)).days})
                rows.add(Recheck, id=ids(Recheck), student_id=student_id, owner_id=counsellor,
                         due_on=due, reason="", origin="follow_up", state="open",
                         category_id=None, completed_entry_id=None, cancel_reason=None,
                         previous_due_on=None, created_by_id=counsellor,
                         created_at=min(asked, now), closed_at=None)
            if concern != "normal":
                changed = datetime.combine(today - timedelta(days=rng.randint(1, 20)),
                                           clock(2, 0), tzinfo=UTC)
                reason = "情绪波动较大，需持续关注" if concern == "elevated" else \
                    "本人或家人出现发热症状，需密切关注"
                rows.add(ConcernChange, id=ids(ConcernChange), student_id=student_id,
                         level=concern, previous_level="normal", reason=reason,
                         set_by_id=counsellor, created_at=changed)
                entry(student_id, "concern_change", counsellor, changed, reason,
                      {"from": "normal", "to": concern})
        for model in (TimelineEntry, Recheck, AuditEvent):
            counts[model.__tablename__] += len(rows.by_model[model])
        rows.flush(order)
    counts["students"] = len(plan)

    # Three weeks of daily statuses (the class check-in sheets) and the counsellors' reports.
    morning = now.astimezone(college_tz())
    for back in range(20, -1, -1):
        day = today - timedelta(days=back)
        if day == today and morning.hour < 9:
            continue
        checkin = local_datetime(day, clock(8, 30)).astimezone(UTC)
        for counsellor, mine in students_by_counsellor.items():
            for student_id, province, city in mine:
                if rng.random() < (0.03 if day == today else 0.012):
                    continue  # did not answer the health form that day
                rows.add(DailyStatus, id=ids(DailyStatus), student_id=student_id, day=day,
                         province=province, city=city, on_campus=False, health="normal",
                         note="", source="upload", recorded_by_id=counsellor,
                         recorded_at=checkin)
        for counsellor in new_counsellors:
            if day == today and (morning.hour < 11 or rng.random() < 0.3):
                continue
            late = rng.random() < 0.15
            submitted = local_datetime(day, clock(11 if late else 10, rng.randint(5, 55)))
            reviewed = day != today or morning.hour >= 12
            rows.add(DailyReport, id=ids(DailyReport), counsellor_id=counsellor, day=day,
                     state="approved" if reviewed else "submitted",
                     is_zero=rng.random() < 0.3, changes_count=rng.randint(0, 3),
                     submitted_at=submitted.astimezone(UTC), late=late, resubmitted_at=None,
                     note="",
                     reviewed_by_id=deputies.get(college_of[counsellor], reviewer.id)
                     if reviewed else None,
                     reviewed_at=(submitted + timedelta(minutes=50)).astimezone(UTC)
                     if reviewed else None, review_comment="", version_id=1)
        counts["daily_statuses"] += len(rows.by_model[DailyStatus])
        rows.flush(order)

    if db.engine.dialect.name == "postgresql":
        for model in order:
            table = model.__tablename__
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            ))
    return dict(counts)


def sign_offs(now: datetime, seed: int = 21) -> dict:
    """The university office's account (when missing) and every college's sign-off chain of
    the day before (done: each stage passed on, one in five late) and of today (in turn: not
    begun, each stage reached, returned once and begun again, done), built in bulk; each pass
    with a snapshot the size a college's would be (its totals, its counsellors' reports, a
    few dozen changes and unconfirmed students)."""
    from sqlalchemy import func, insert, select

    from caretrack.access import signing_stages
    from caretrack.extensions import db
    from caretrack.models import STAGE_ROLES, College, CollegeSignOff, SignOffStep, Stage, User
    from caretrack.services.clock import local_datetime, local_today
    from caretrack.services.daily.sign_off import stage_deadline

    rng = random.Random(seed)
    if db.session.scalar(select(func.count(User.id)).where(
            User.role == "university_office")) == 0:
        from caretrack.demo import DEMO_PASSWORD
        from caretrack.services.users import create_user

        create_user("office", "学校防控办", "university_office", DEMO_PASSWORD,
                    "office@example.edu.cn")
        db.session.flush()
    today = local_today(now)
    accounts = {}
    for user_id, college_id, role in db.session.execute(
            select(User.id, User.college_id, User.role).where(User.college_id.is_not(None))
            .order_by(User.id)):
        accounts.setdefault((college_id, role), user_id)
    counsellors = defaultdict(list)
    for _user_id, college_id, name in db.session.execute(
            select(User.id, User.college_id, User.display_name).where(User.role == "counsellor")):
        counsellors[college_id].append(name)
    next_id = (db.session.scalar(select(func.max(CollegeSignOff.id))) or 0) + 1
    sign_off_rows, step_rows = [], []

    def snapshot(college_id: int) -> dict:
        person = [{"number": f"3{rng.randint(0, 99999999):08d}", "name": "学生",
                   "class": "2019级会计学3班", "counsellor": "辅导员"}]
        return {
            "totals": {"students": 1600, "confirmed": 1550, "unconfirmed": 50, "changes": 20,
                       "hubei": 90, "beijing": 400, "elsewhere": 1110, "on_campus": 0,
                       "health": {"normal": 1600}, "after_approval": 0},
            "reports": [{"counsellor": name, "students": 490, "changes": 3, "zero": False,
                         "late": False, "unconfirmed": 15} for name in counsellors[college_id]],
            "changes": [{**person[0], "before": "北京 北京", "after": "湖北 武汉",
                         "health_before": "normal", "health_after": "normal"}] * 20,
            "unconfirmed": person * 50,
        }

    colleges = db.session.scalars(select(College).order_by(College.id)).all()
    begun = set(db.session.scalars(select(CollegeSignOff.college_id)))
    for n, college in enumerate(colleges):
        if college.id in begun:  # a copy of a database built before
            continue
        stages = signing_stages(college)
        # Yesterday: done; today: the n-th of not begun, each stage reached, returned, done.
        plans = [(today - timedelta(days=1), len(stages), False)]
        position = n % (len(stages) + 2)
        if position:
            plans.append((today, min(position, len(stages)), position == len(stages) + 1))
        for day, passed, returned in plans:
            sign_off_id = next_id
            next_id += 1
            stage = stages[passed] if passed < len(stages) else Stage.DONE.value
            at = local_datetime(day, clock(10, 50))
            steps = []
            for k in range(passed):
                late = rng.random() < 0.2
                at = max(at, stage_deadline(college, stages[k], day)
                         - timedelta(minutes=rng.randint(5, 25)))
                if late:
                    at = stage_deadline(college, stages[k], day) + timedelta(minutes=10)
                if returned and k == 1:  # the second stage returned it once
                    steps.append((stages[1], "return", at - timedelta(minutes=4), False))
                    steps.append((stages[0], "pass", at - timedelta(minutes=2), False))
                steps.append((stages[k], "pass", at, late))
            if day == today:
                steps = [s for s in steps if s[2] <= now]
            sent = steps[-1][2] if stage == Stage.DONE and steps else None
            sign_off_rows.append({"id": sign_off_id, "college_id": college.id, "day": day,
                                  "stage": stage, "version_id": 1 + len(steps),
                                  "sent_at": sent})
            for step_stage, action, when, late in steps:
                by = accounts.get((college.id, STAGE_ROLES[Stage(step_stage)].value),
                                  accounts.get((college.id, "deputy_secretary")))
                step_rows.append({"sign_off_id": sign_off_id, "stage": step_stage,
                                  "action": action, "by_id": by, "at": when, "late": late,
                                  "comment": "" if action == "pass" else "请核对未确认学生",
                                  "snapshot": snapshot(college.id) if action == "pass"
                                  else None})
    if sign_off_rows:
        db.session.execute(insert(CollegeSignOff.__table__), sign_off_rows)
    if step_rows:
        db.session.execute(insert(SignOffStep.__table__), step_rows)
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy import text

        for table in ("college_sign_offs", "sign_off_steps"):
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"))
    return {"colleges": len(colleges), "sign_offs": len(sign_off_rows),
            "steps": len(step_rows)}


# -- measuring -------------------------------------------------------------------------------


class QueryCounter:
    """Counts the SQL statements sent to the database (as tests.helpers does), and those
    SQLAlchemy compiled anew rather than took from its compiled cache."""

    def __init__(self):
        self.count = 0
        self.compiled = 0

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
            self.count += 1
            if context is not None and getattr(context, "cache_hit", None) == CACHE_MISS:
                self.compiled += 1


@dataclass
class Figure:
    who: str
    what: str
    statuses: set = field(default_factory=set)
    queries: list = field(default_factory=list)
    #: Statements compiled anew (misses of SQLAlchemy's compiled cache), per measured request.
    compiled: list = field(default_factory=list)
    times: list = field(default_factory=list)
    error: str = ""

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000 if self.times else float("nan")

    @property
    def p95_ms(self) -> float:
        if not self.times:
            return float("nan")
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000

    def queries_text(self) -> str:
        if not self.queries:
            return "-"
        low, high = min(self.queries), max(self.queries)
        return str(low) if low == high else f"{low}-{high}"


def timed(client, counter, figure: Figure, method: str, url: str, expected: int,
          measured: bool, to: str = "", **kwargs) -> None:
    """Send one request; record its status, and its time and queries when ``measured``."""
    counter.count = counter.compiled = 0
    start = time.perf_counter()
    location = ""
    try:
        response = client.open(url, method=method, **kwargs)
        status, location = response.status_code, response.location or ""
    except Exception:  # noqa: BLE001 - report the page as failed and carry on
        status = 500
        figure.error = traceback.format_exc(limit=-3)
    elapsed = time.perf_counter() - start
    figure.statuses.add(status)
    if status != expected and not figure.error:
        figure.error = f"{method} {url}: {status}"
    elif to and to not in location and not figure.error:
        figure.error = f"{method} {url}: redirected to {location!r}, not {to!r}"
    if measured:
        figure.times.append(elapsed)
        figure.queries.append(counter.count)
        figure.compiled.append(counter.compiled)


def sign_in(app, username: str):
    from caretrack.demo import DEMO_PASSWORD

    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"could not sign in as {username}: {response.status_code}")
    return client


def subjects(app) -> dict:
    """Pick who and what to measure: counsellor1's busiest student, a supervisor with
    referrals, students of counsellor1 with an open re-check to post follow-ups for."""
    from sqlalchemy import func, select

    from caretrack.access import SUPERVISOR_VISIBLE_STATES
    from caretrack.extensions import db
    from caretrack.models import Recheck, Referral, Student, TimelineEntry, User

    with app.app_context():
        counsellor = db.session.scalars(select(User).where(User.username == "counsellor1")).one()
        busy_id, _ = db.session.execute(
            select(TimelineEntry.student_id, func.count(TimelineEntry.id))
            .join(Student, Student.id == TimelineEntry.student_id)
            .where(Student.counsellor_id == counsellor.id)
            .group_by(TimelineEntry.student_id)
            .order_by(func.count(TimelineEntry.id).desc(), TimelineEntry.student_id)
            .limit(1)
        ).one()
        busy = db.session.get(Student, busy_id)
        supervisor = db.session.execute(
            select(User.username, func.count(Referral.id))
            .join(Referral, Referral.supervisor_id == User.id)
            .where(Referral.state.in_(SUPERVISOR_VISIBLE_STATES))
            .group_by(User.username)
            .order_by(func.count(Referral.id).desc(), User.username)
            .limit(1)
        ).one()
        with_rechecks = list(db.session.scalars(
            select(Recheck.student_id)
            .join(Student, Student.id == Recheck.student_id)
            .where(Student.counsellor_id == counsellor.id, Recheck.state == "open",
                   Student.id != busy_id)
            .group_by(Recheck.student_id)
            .order_by(Recheck.student_id)
        ))
        from caretrack.models import College, now_utc
        from caretrack.services.clock import local_today

        figures = {
            "yesterday": (local_today(now_utc()) - timedelta(days=1)).isoformat(),
            "colleges": db.session.scalar(select(func.count(College.id))),
            "students": db.session.scalar(select(func.count(Student.id))),
            "caseload": db.session.scalar(
                select(func.count(Student.id)).where(Student.counsellor_id == counsellor.id)
            ),
            "entries": db.session.scalar(select(func.count(TimelineEntry.id))),
            "open_rechecks": db.session.scalar(
                select(func.count(Recheck.id)).where(Recheck.state == "open")
            ),
            "busy_entries": db.session.scalar(
                select(func.count(TimelineEntry.id)).where(TimelineEntry.student_id == busy_id)
            ),
        }
        db.session.remove()
    return {
        "busy_id": busy.id, "busy_name": busy.name, "supervisor": supervisor[0],
        "supervisor_referrals": supervisor[1], "post_students": with_rechecks, **figures,
    }


def hot_pages(chosen: dict) -> list[tuple[str, str]]:
    """The pages measured: (who, URL)."""
    busy = chosen["busy_id"]
    return [
        ("counsellor1", "/"),
        ("counsellor1", "/students/"),
        ("counsellor1", f"/students/?q={quote(chosen['busy_name'])}"),
        ("counsellor1", f"/students/{busy}"),
        ("counsellor1", f"/students/{busy}/follow-ups/new"),
        ("counsellor1", "/rechecks/"),
        ("counsellor1", "/reports/daily/"),
        ("counsellor1", "/dashboard"),
        ("deputy", "/"),
        ("deputy", "/review/"),
        ("league", "/reports/board/"),
        ("deputy", "/rechecks/"),
        (chosen["supervisor"], "/referrals/"),
        # The university office: its board of today (each college's chain at some stage),
        # and the university report of the day before (every college's chain done).
        ("office", "/office/"),
        ("office", f"/office/university-report.xlsx?date={chosen['yesterday']}"),
    ]


class Measured:
    """One database's pages, measured round after round (each round adds to the figures)."""

    def __init__(self, app, requests: int, posts: int, only: list[str]):
        from caretrack.extensions import db

        self.app, self.requests, self.posts = app, requests, posts
        self.chosen = subjects(app)
        self.pages = [(who, url) for who, url in hot_pages(self.chosen)
                      if not only or any(o in url for o in only)]
        self.with_posts = not only or any("POST" in o for o in only)
        with app.app_context():
            self.engine = db.engine
        self.clients = {}
        self.figures = {}
        self.rounds = 0

    def figure(self, who: str, what: str) -> Figure:
        return self.figures.setdefault((who, what), Figure(who, what))

    def round(self) -> None:
        """Time every page ``requests`` times (after two warm-ups); in the first round, post
        follow-ups, each to another student of counsellor1 with an open re-check."""
        from sqlalchemy import event

        from caretrack.services.clock import college_tz

        counter = QueryCounter()
        event.listen(self.engine, "before_cursor_execute", counter)
        app = self.app
        try:
            for who, url in self.pages:
                if who not in self.clients:
                    self.clients[who] = sign_in(app, who)
                figure = self.figure(who, unquote(url))
                for n in range(2 + self.requests):
                    timed(self.clients[who], counter, figure, "GET", url, 200,
                          measured=n >= 2)
            if self.rounds == 0 and self.with_posts:
                figure = self.figure("counsellor1", "POST /students/<id>/follow-ups/new")
                targets = self.chosen["post_students"][: 2 + self.posts]
                with app.app_context():
                    when = datetime.now(UTC).astimezone(college_tz()) - timedelta(minutes=5)
                client = self.clients.get("counsellor1") or sign_in(app, "counsellor1")
                for n, student_id in enumerate(targets):
                    timed(client, counter, figure, "POST",
                          f"/students/{student_id}/follow-ups/new", 302, measured=n >= 2,
                          to=f"/students/{student_id}",
                          data={"occurred_at": when.strftime("%Y-%m-%dT%H:%M"),
                                "channel": "phone", "reached": "1", "health": "normal",
                                "body": "电话联系，情况正常", "check_again_in_days": "3",
                                "next": "",
                                "submission_key": f"bench-{os.getpid()}-{student_id}"})
                if len(targets) < 3:
                    figure.error = "too few students with an open re-check to post follow-ups"
        finally:
            event.remove(self.engine, "before_cursor_execute", counter)
        self.rounds += 1

    @property
    def results(self) -> list[Figure]:
        return list(self.figures.values())


def measure(app, requests: int, posts: int) -> tuple[list[Figure], dict]:
    """Sign in as each user and time every page; then post follow-ups."""
    measured = Measured(app, requests, posts, [])
    measured.round()
    return measured.results, measured.chosen


#: Students in each bulk action measured (the issue's figure).
BULK_STUDENTS = 500


def _bulk_post(client, counter, figure: Figure, data: dict, expected: int) -> None:
    timed(client, counter, figure, "POST", "/bulk/", expected, measured=True, data=data)


def bulk_subjects(app) -> dict:
    """Pick the bulk actions' students: 500 of counsellor1's working caseload (with a
    colleague's covered today when their own is smaller, as while covering an absence), a
    category none of them holds, and the (programme, cohort) nearest 500 students for the
    transfer, with a counsellor to move it to."""
    from sqlalchemy import func, select

    from caretrack.access import working_caseload_filter
    from caretrack.extensions import db
    from caretrack.models import CareCategory, CategoryAssignment, Student, User, now_utc
    from caretrack.services import absences
    from caretrack.services.clock import local_today

    with app.app_context():
        me = db.session.scalars(select(User).where(User.username == "counsellor1")).one()
        colleague = db.session.scalars(select(User).where(User.username == "counsellor2")).one()
        today = local_today(now_utc())
        if db.session.scalar(select(func.count(Student.id)).where(
                working_caseload_filter(me, today))) < BULK_STUDENTS:
            absences.record_absence(colleague, colleague, starts_on=today, ends_on=today,
                                    reason="居家隔离", covers={None: me})
            db.session.commit()
        ids = list(db.session.scalars(select(Student.id).where(
            working_caseload_filter(me, today)).order_by(Student.student_number)
            .limit(BULK_STUDENTS)))
        held = select(CategoryAssignment.category_id).where(
            CategoryAssignment.student_id.in_(ids), CategoryAssignment.ended_on.is_(None))
        category = db.session.scalars(select(CareCategory).where(
            CareCategory.active, CareCategory.id.not_in(held)).order_by(
            CareCategory.sort_order)).first() or db.session.scalars(
            select(CareCategory).where(CareCategory.active)).first()
        current = Student.merged_into_id.is_(None)
        groups = [(p, c, n) for p, c, n in db.session.execute(
            select(Student.programme, Student.cohort, func.count(Student.id)).where(current)
            .group_by(Student.programme, Student.cohort))] + [
            ("", c, n) for c, n in db.session.execute(
                select(Student.cohort, func.count(Student.id)).where(current)
                .group_by(Student.cohort))]
        programme, cohort, size = min(groups, key=lambda g: abs(g[2] - BULK_STUDENTS))
        in_group = [Student.cohort == cohort] + ([Student.programme == programme]
                                                 if programme else [])
        usual = db.session.scalar(
            select(Student.counsellor_id).where(*in_group)
            .group_by(Student.counsellor_id).order_by(func.count(Student.id).desc()).limit(1))
        to = db.session.scalars(select(User.id).where(
            User.role == "counsellor", User.active, User.id != usual).order_by(User.id)).first()
        db.session.remove()
    return {"ids": ids, "category": category.id, "category_code": category.code,
            "programme": programme, "cohort": cohort, "cohort_size": size, "to": to}


def measure_bulk(app) -> tuple[list[Figure], dict]:
    """Time a bulk category change (add, then end) on 500 students and the transfer of a
    500-student cohort, each as its preview and its confirmation through the pages (one run
    each: they write)."""
    from urllib.parse import urlencode

    from sqlalchemy import event

    from caretrack.extensions import db
    from caretrack.services.transfers import fingerprint_of

    chosen = bulk_subjects(app)
    with app.app_context():
        engine = db.engine
    counter = QueryCounter()
    event.listen(engine, "before_cursor_execute", counter)
    results = []
    try:
        client = sign_in(app, "counsellor1")
        ids = chosen["ids"]
        for action in ("add_category", "end_category"):
            data = {"source": "students", "action": action, "selected": ids,
                    "category_id": chosen["category"], "reason": "批量调整（基准测试）",
                    "next": "/students/"}
            preview = Figure("counsellor1", f"bulk {action} {len(ids)}: preview")
            _bulk_post(client, counter, preview, {**data, "stage": "preview"}, 200)
            done = Figure("counsellor1", f"bulk {action} {len(ids)}: confirm")
            _bulk_post(client, counter, done, {**data, "stage": "confirm",
                                               "fingerprint": fingerprint_of(ids),
                                               "submission_key": f"bench-{action}"}, 302)
            results += [preview, done]
        deputy = sign_in(app, "deputy")
        scope = {"cohort": str(chosen["cohort"])} | (
            {"programme": chosen["programme"]} if chosen["programme"] else {})
        filters = urlencode(scope)
        data = {"source": "roster", "action": "transfer", "all_matching": "y",
                "filters": filters, "to_id": chosen["to"], "reason": "调整分工（基准测试）",
                "next": "/bulk/transfer"}
        with app.app_context():
            from caretrack.services import bulk

            user = db.session.scalars(select_user("deputy")).one()
            matched = bulk.matching_ids(user, "roster", scope)
            db.session.remove()
        cohort = " ".join(str(v) for v in (chosen["programme"], chosen["cohort"]) if v)
        label = f"transfer cohort {cohort} ({len(matched)})"
        preview = Figure("deputy", f"{label}: preview")
        _bulk_post(deputy, counter, preview, {**data, "stage": "preview"}, 200)
        done = Figure("deputy", f"{label}: confirm")
        _bulk_post(deputy, counter, done, {**data, "stage": "confirm",
                                           "fingerprint": fingerprint_of(matched)}, 302)
        results += [preview, done]
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return results, chosen


def select_user(username: str):
    from sqlalchemy import select

    from caretrack.models import User

    return select(User).where(User.username == username)


def print_table(results: list[Figure], title: str, slow_ms: float) -> bool:
    """Print the figures; return whether every page answered as expected."""
    print(title)
    print(f"{'who':<14} {'page':<44} {'status':>6} {'queries':>7} {'compiled':>8} "
          f"{'median':>9} {'p95':>9}")
    width = 44
    ok = True
    for f in results:
        statuses = "/".join(str(s) for s in sorted(f.statuses))
        what = f.what if len(f.what) <= width else f.what[:width - 3] + "..."
        # CJK characters take two columns of the terminal.
        what += " " * (width - sum(1 + (east_asian_width(c) in "WF") for c in what))
        flag = "  SLOW" if f.median_ms > slow_ms else ""
        print(f"{f.who:<14} {what} {statuses:>6} {f.queries_text():>7} "
              f"{sum(f.compiled):>8} "
              f"{f.median_ms:>6.1f} ms {f.p95_ms:>6.1f} ms{flag}")
        if f.error:
            ok = False
    for f in results:
        if f.error:
            print(f"\nFAILED {f.who} {f.what}:\n{f.error}")
    return ok


def print_ratios(runs: list[tuple[str, "Measured"]]) -> None:
    """Each page's median on every database after the first, as a ratio to its median on the
    first (measured in the same run, round after round); and the university office's pages
    as a ratio to the first database's daily board."""
    if len(runs) < 2:
        return
    base_name, base = runs[0]
    base_figures = {(f.who, f.what): f for f in base.results}
    board = base_figures.get(("deputy", "/reports/board/"))
    for name, run in runs[1:]:
        print(f"\nratios: {name} to {base_name} (medians over {run.rounds} rounds)")
        print(f"{'who':<14} {'page':<44} {'queries':>11} {'median':>21} {'ratio':>6}")
        for f in run.results:
            mine = base_figures.get((f.who, f.what))
            if mine is None or not mine.times or not f.times:
                continue
            print(f"{f.who:<14} {f.what[:44]:<44} {mine.queries_text():>5} {f.queries_text():>5} "
                  f"{mine.median_ms:>7.1f} → {f.median_ms:>7.1f} ms "
                  f"{f.median_ms / mine.median_ms:>5.2f}×")
        if board is not None and board.times:
            print(f"\nthe university office on {name} to the daily board on {base_name} "
                  f"({board.median_ms:.1f} ms, {board.queries_text()} queries):")
            for f in run.results:
                if f.what.startswith("/office/") and f.times:
                    print(f"  {f.what:<44} {f.queries_text():>5} queries {f.median_ms:>7.1f} ms"
                          f" {f.median_ms / board.median_ms:>5.2f}×")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true",
                        help=f"use a new database on {PG_SERVER} (dropped at the end)")
    parser.add_argument("--pg-server", default=os.environ.get("BENCH_PG_SERVER", PG_SERVER))
    parser.add_argument("--students", type=int, default=0,
                        help="scale the demo college to this many students")
    parser.add_argument("--colleges", type=int, default=1,
                        help="spread the students added over this many colleges (the demo's "
                        "and new ones, each with its sign-off chain's accounts)")
    parser.add_argument("--requests", type=int, default=20, help="measured requests per page")
    parser.add_argument("--rounds", type=int, default=1,
                        help="rounds of --requests per page (per database, in turn)")
    parser.add_argument("--only", action="append", default=[],
                        help="measure only the pages whose URL holds this (repeatable; "
                        "'POST' for the follow-up posts)")
    parser.add_argument("--posts", type=int, default=10, help="measured follow-up posts")
    parser.add_argument("--slow-ms", type=float,
                        help="median marked SLOW (default 100 ms up to 2,458 students, else 300)")
    parser.add_argument("--at", default="10:30",
                        help="college time of today the data is seeded up to (HH:MM, or 'now'): "
                        "by default mid-morning, with the check-in sheets in and reports coming")
    parser.add_argument("--template", default="",
                        help="with --postgres: start from a copy of this database, kept by an "
                        "earlier run of this script (built with the same --at, on the same "
                        "day), instead of seeding the demo again")
    parser.add_argument("--keep", action="store_true", help="keep the database; print its URL")
    parser.add_argument("--database", action="append", default=[],
                        help="measure this database, already built (kept); repeat it to "
                        "measure several in turn, round after round, and print each page's "
                        "ratio to the first")
    parser.add_argument("--no-bulk", action="store_true",
                        help="leave out the bulk actions (a category change on 500 students, "
                        "a 500-student cohort's transfer), which write to the database")
    args = parser.parse_args()

    from caretrack.demo.college import TOTAL_STUDENTS

    scratch = pg_name = None
    if args.database:
        urls = args.database
    elif args.postgres:
        url, pg_name = create_pg_database(args.pg_server, "pages", args.template)
        urls = [url]
    else:
        scratch = Path(tempfile.mkdtemp(prefix="caretrack-pages-"))
        urls = [f"sqlite:///{scratch / 'pages.db'}"]
    apps = []
    ok = True
    try:
        timings = {}
        for url in urls:
            apps.append(make_app(url))
        if not args.database:
            engine_name = urls[0].split(":", 1)[0].split("+", 1)[0]
            print(f"building the college on {engine_name} ...", flush=True)
            timings = build(apps[0], args.students, seeded_until(apps[0], args.at),
                            colleges=args.colleges, seeded=bool(args.template))
        runs = [(url.rsplit("/", 1)[-1], Measured(app, args.requests, args.posts, args.only))
                for url, app in zip(urls, apps, strict=True)]
        for _ in range(args.rounds):
            for _, run in runs:
                run.round()
        for url, (_, run) in zip(urls, runs, strict=True):
            chosen = run.chosen
            engine_name = url.split(":", 1)[0].split("+", 1)[0]
            slow_ms = args.slow_ms or (100.0 if chosen["students"] <= TOTAL_STUDENTS else 300.0)
            built = ""
            if timings:
                built = f"; seeded up to {args.at}; demo seeded in {timings['demo']:.0f} s"
                if "scale" in timings:
                    built += (f", scaled up in {timings['scale']:.0f} s "
                              f"({timings['counsellors']} counsellors, "
                              f"{timings['supervisors']} supervisors, "
                              f"{timings.get('daily_statuses', 0):,} daily statuses added)")
            title = (
                f"\n{engine_name}: {chosen['students']:,} students in {chosen['colleges']} "
                f"colleges, {chosen['entries']:,} timeline entries, "
                f"{chosen['open_rechecks']:,} open re-checks{built}\n"
                f"counsellor1: {chosen['caseload']} students; busy student {chosen['busy_id']} "
                f"({chosen['busy_entries']} entries); {chosen['supervisor']}: "
                f"{chosen['supervisor_referrals']} referrals; {args.rounds} × {args.requests} "
                f"requests per page after 2 warm-ups a round, {args.posts} posts; "
                f"SLOW = median over {slow_ms:.0f} ms\n"
            )
            ok = print_table(run.results, title, slow_ms) and ok
        print_ratios(runs)
        if not args.no_bulk:
            for app in apps:
                bulk_results, bulk_chosen = measure_bulk(app)
                engine_name = urls[0].split(":", 1)[0].split("+", 1)[0]
                ok = print_table(bulk_results, (
                    f"\nbulk actions on {engine_name} (one run each, through the pages: "
                    f"preview, then confirm); category {bulk_chosen['category_code']}; cohort "
                    f"of {bulk_chosen['cohort_size']} students\n"), slow_ms=10_000) and ok
    finally:
        if args.keep and not args.database:
            print(f"\nkept: {urls[0]}")
        elif pg_name:
            if apps:
                from caretrack.extensions import db

                with apps[0].app_context():
                    db.engine.dispose()
            drop_pg_database(args.pg_server, pg_name)
        elif scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
