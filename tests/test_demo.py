"""The demo's colleges: the account's with its numbers, two smaller ones, and every past day
signed off along each college's chain."""

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from caretrack.demo import DEMO_ACCOUNTS
from caretrack.extensions import db
from caretrack.models import (
    DEFAULT_STAGES,
    WITHOUT_MERGE,
    AuditEvent,
    CareCategory,
    CategoryAssignment,
    College,
    CollegeSignOff,
    DailyReport,
    Role,
    Student,
    User,
)
from caretrack.services.clock import local_today


def test_seed_demo_builds_the_college_of_the_account(demo):
    # The session's demo database was built by `flask seed-demo` (tests/conftest.py).
    assert demo.exit_code == 0, demo.output
    assert "caretrack-demo" in demo.output

    sem = db.session.scalars(select(College).where(College.code == "sem")).one()
    students = db.session.scalars(select(Student).where(Student.college_id == sem.id)).all()
    assert len(students) == 2458
    programmes = Counter(s.programme for s in students)
    assert programmes["mba_full_time"] + programmes["mba_part_time"] == 552
    assert set(programmes) == {"undergraduate", "master", "phd", "mba_full_time", "mba_part_time"}
    assert sum(s.on_campus for s in students) == 6
    assert len({s.student_number for s in students}) == 2458
    assert any(s.student_number.startswith("0") for s in students)

    users = db.session.scalars(select(User).where(User.college_id == sem.id)).all()
    by_role = Counter(u.role for u in users)
    assert by_role[Role.COUNSELLOR] == 5 and by_role[Role.DEPUTY_SECRETARY] == 1
    assert by_role[Role.SUPERVISOR] >= 20 and by_role[Role.ADMIN] == 1
    assert by_role[Role.LEAGUE_SECRETARY] == 1 and by_role[Role.SECRETARY] == 1
    assert {u.username for u in users} >= {f"counsellor{i}" for i in range(1, 6)} | {
        "deputy", "admin", "league", "secretary"}
    assert all(u.check_password("caretrack-demo") for u in users if u.username in ("deputy", "admin"))

    caseloads = Counter(s.counsellor_id for s in students)
    assert all(440 <= n <= 540 for n in caseloads.values()), caseloads
    graduates = [s for s in students if s.programme in ("master", "phd")]
    assert all(s.supervisor_id for s in graduates)

    codes = set(db.session.scalars(select(CareCategory.code)))
    assert codes == {"hubei", "hubei_contact", "isolated_on_campus", "return_early",
                     "thesis_pressure", "other_attention"}
    per_category = dict(db.session.execute(
        select(CareCategory.code, func.count(CategoryAssignment.id))
        .join(CategoryAssignment).join(Student, Student.id == CategoryAssignment.student_id)
        .where(CategoryAssignment.ended_on.is_(None), Student.college_id == sem.id)
        .group_by(CareCategory.code)).all())
    assert per_category["isolated_on_campus"] == 6
    assert all(per_category[c] > 0 for c in codes)
    assert Counter(s.concern_level for s in students)["high"] > 0


def test_seed_demo_builds_two_smaller_colleges_and_the_university_accounts(demo):
    colleges = {c.code: c for c in db.session.scalars(select(College))}
    assert set(colleges) == {"sem", "law", "sfl"}
    assert colleges["sem"].stages == DEFAULT_STAGES and colleges["law"].stages == DEFAULT_STAGES
    assert colleges["sfl"].stages == WITHOUT_MERGE  # the option of no merge stage
    accounts = {u.username: u for u in db.session.scalars(select(User))}
    for code in ("law", "sfl"):
        college = colleges[code]
        students = db.session.scalars(select(Student).where(
            Student.college_id == college.id)).all()
        assert 200 <= len(students) <= 500
        assert all(accounts[s.counsellor.username].college_id == college.id for s in students)
        assert all(s.supervisor_id for s in students if s.programme == "master")
        for name, role in (("counsellor1", Role.COUNSELLOR), ("counsellor2", Role.COUNSELLOR),
                           ("deputy", Role.DEPUTY_SECRETARY), ("secretary", Role.SECRETARY),
                           ("admin", Role.ADMIN)):
            account = accounts[f"{code}_{name}"]
            assert (account.role, account.college_id) == (role, college.id)
    assert (accounts["law_league"].role, accounts["law_league"].college_id) == (
        Role.LEAGUE_SECRETARY, colleges["law"].id)
    assert "sfl_league" not in accounts  # no merge stage, no league secretary's stage
    assert (accounts["office"].role, accounts["office"].college_id) == (
        Role.UNIVERSITY_OFFICE, None)
    assert accounts["university"].role == Role.UNIVERSITY_ADMIN
    assert all(accounts[n].check_password("caretrack-demo")
               for n in ("office", "league", "law_deputy", "sfl_secretary"))
    # Each college's classes are its own.
    classes = db.session.execute(select(Student.class_name, Student.college_id).distinct()).all()
    names = Counter(name for name, _ in classes)
    assert all(n == 1 for n in names.values()), [c for c, n in names.items() if n > 1]
    for username, _what in DEMO_ACCOUNTS:
        for name in username.replace(",", " ").split():
            if name != "…":
                assert name in accounts, name


def test_every_past_day_is_signed_off_along_each_colleges_chain(demo):
    today = local_today(demo.now)
    colleges = {c.id: c for c in db.session.scalars(select(College))}
    days = sorted({d for d in db.session.scalars(select(DailyReport.day).distinct())
                   if d < today})
    assert len(days) == 20
    sign_offs = db.session.scalars(select(CollegeSignOff).where(CollegeSignOff.day < today)).all()
    assert Counter(s.college_id for s in sign_offs) == dict.fromkeys(colleges, 20)
    steps = []
    for sign_off in sign_offs:
        assert sign_off.stage == "done" and sign_off.sent_at is not None
        chain = [s["stage"] for s in colleges[sign_off.college_id].stages][1:]
        # Each step is the turn's stage: a pass moves on, a return goes back one stage.
        position = 0
        for step in sign_off.steps:
            assert step.stage == chain[position]
            assert step.action == "pass" or position >= 1  # the first stage cannot return
            position += 1 if step.action == "pass" else -1
        assert position == len(chain)
        passes = [s for s in sign_off.steps if s.action == "pass"]
        assert all(s.snapshot["totals"]["students"] > 0 for s in passes)
        steps += sign_off.steps
    assert any(s.late for s in steps) and not all(s.late for s in steps)
    returns = [s for s in steps if s.action == "return"]
    assert returns and all(s.comment for s in returns)
    assert {s.stage for s in returns} >= {"check", "approve"}
    # The report counts what was approved: all of each past day's reports.
    reports = db.session.scalars(select(DailyReport).where(DailyReport.day < today)).all()
    assert {r.state for r in reports} == {"approved"}
    # Every step is audited (today's too).
    every = [s for o in db.session.scalars(select(CollegeSignOff)) for s in o.steps]
    audited = Counter(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.in_(("sign_off.pass", "sign_off.return")))))
    assert audited["sign_off.pass"] == sum(1 for s in every if s.action == "pass")
    assert audited["sign_off.return"] == sum(1 for s in every if s.action == "return")


def test_today_is_under_way_in_the_account_college(demo):
    today = local_today(demo.now)
    counsellor1 = db.session.scalars(select(User).where(User.username == "counsellor1")).one()
    assert not db.session.scalars(select(DailyReport).where(
        DailyReport.counsellor_id == counsellor1.id, DailyReport.day == today)).first()
    sem = db.session.scalars(select(College).where(College.code == "sem")).one()
    # Not signed off today: counsellor1's report is not in.
    found = db.session.scalars(select(CollegeSignOff).where(
        CollegeSignOff.college_id == sem.id, CollegeSignOff.day == today)).first()
    assert found is None
    yesterday = db.session.scalars(select(CollegeSignOff).where(
        CollegeSignOff.college_id == sem.id,
        CollegeSignOff.day == today - timedelta(days=1))).one()
    assert yesterday.stage == "done"


def test_seed_demo_refuses_a_database_with_data(app, runner, college):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "not empty" in result.output


def test_seed_demo_refuses_production(app, runner):
    app.config["CARETRACK_CONFIG_NAME"] = "production"
    try:
        result = runner.invoke(args=["seed-demo"])
    finally:
        app.config["CARETRACK_CONFIG_NAME"] = "testing"
    assert result.exit_code != 0
    assert "production" in result.output
