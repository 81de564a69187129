"""The demo college has the account's numbers."""

from collections import Counter

from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import CareCategory, CategoryAssignment, Role, Student, User


def test_seed_demo_builds_the_college_of_the_account(demo):
    # The session's demo database was built by `flask seed-demo` (tests/conftest.py).
    assert demo.exit_code == 0, demo.output
    assert "caretrack-demo" in demo.output

    students = db.session.scalars(select(Student)).all()
    assert len(students) == 2458
    programmes = Counter(s.programme for s in students)
    assert programmes["mba_full_time"] + programmes["mba_part_time"] == 552
    assert set(programmes) == {"undergraduate", "master", "phd", "mba_full_time", "mba_part_time"}
    assert sum(s.on_campus for s in students) == 6
    assert len({s.student_number for s in students}) == 2458
    assert any(s.student_number.startswith("0") for s in students)

    users = db.session.scalars(select(User)).all()
    by_role = Counter(u.role for u in users)
    assert by_role[Role.COUNSELLOR] == 5 and by_role[Role.DEPUTY_SECRETARY] == 1
    assert by_role[Role.SUPERVISOR] >= 20 and by_role[Role.ADMIN] == 1
    assert {u.username for u in users} >= {f"counsellor{i}" for i in range(1, 6)} | {"deputy", "admin"}
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
        .join(CategoryAssignment).where(CategoryAssignment.ended_on.is_(None))
        .group_by(CareCategory.code)).all())
    assert per_category["isolated_on_campus"] == 6
    assert all(per_category[c] > 0 for c in codes)
    assert Counter(s.concern_level for s in students)["high"] > 0


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
