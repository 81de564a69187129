"""The demo college's re-checks: every state, some overdue on the day the demo is seeded."""

from collections import Counter

from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import EntryKind, Recheck, Student, TimelineEntry, User
from caretrack.services.clock import local_today


def test_the_demo_has_re_checks_in_every_state_and_some_overdue_today(demo):
    # The session's demo, seeded by `flask seed-demo` at demo.now (tests/conftest.py).
    today = local_today(demo.now)
    rows = db.session.execute(
        select(Recheck, Student.counsellor_id).join(Student, Student.id == Recheck.student_id)
    ).all()
    states = Counter(r.state for r, _ in rows)
    assert states["open"] > 0 and states["done"] > 0 and states["cancelled"] > 0
    assert any(r.previous_due_on for r, _ in rows)  # rescheduled
    assert {r.origin for r, _ in rows} >= {"cadence", "follow_up", "isolation", "manual"}
    assert all(r.completed_entry_id for r, _ in rows if r.state == "done")

    counsellors = db.session.scalars(select(User.id).where(User.role == "counsellor")).all()
    # 经管学院's counsellors, about 490 students each (the smaller colleges' have fewer).
    account_college = db.session.scalars(select(User.id).where(
        User.role == "counsellor", User.college.has(code="sem"))).all()
    overdue = Counter(c for r, c in rows if r.state == "open" and r.due_on < today)
    due_today = Counter(c for r, c in rows if r.state == "open" and r.due_on == today)
    for counsellor_id in counsellors:
        # Some overdue, not hundreds: a counsellor's morning that is possible.
        assert 1 <= overdue[counsellor_id] <= 20, overdue
    for counsellor_id in account_college:
        assert due_today[counsellor_id] >= 1, due_today
    # Every change is on the timeline.
    actions = Counter(
        e.details.get("action") for e in db.session.scalars(
            select(TimelineEntry).where(TimelineEntry.kind == EntryKind.RECHECK_CHANGE))
    )
    assert actions["rescheduled"] and actions["cancelled"] and actions["completed"]
