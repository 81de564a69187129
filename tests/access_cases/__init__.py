"""The access matrix's cases, one module per area; see tests/test_access_matrix.py.

Each module defines ``CASES: dict[endpoint, Case]``. A Case says how to call the endpoint and
which roles may use it at all. ``args(world, role)`` returns the URL arguments for an object
the role may see and for one it may not (either may be None when the role has no such
object); by default they come from the URL's placeholders: ``{student}`` is a student the
role may / may not see, ``{user}`` the signed-in user.

The allowed side is checked too: an allowed GET of a student's page shows that student's
number; a list or an export (``shows``) shows the students the role may see and none of the
others (``prepare`` first makes rows for every student, so a list without its visibility
filter would show them); an allowed POST writes a row to ``writes``.
"""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

ROLES = ("counsellor", "supervisor", "deputy", "admin", "university_admin", "league",
         "secretary", "office")
CASE_READERS = frozenset({"counsellor", "supervisor", "deputy", "secretary"})
#: The roles that read every student of their college (the secretary sees what the deputy
#: sees).
WHOLE_COLLEGE = frozenset({"deputy", "secretary"})


@dataclass
class Case:
    url: str
    roles: frozenset[str] | set[str]
    method: str = "GET"
    data: dict = field(default_factory=dict)
    #: A JSON body instead of the form ``data`` (the API's writes).
    json: dict | None = None
    #: Statuses that mean "answered" for an allowed role and a visible object.
    ok: tuple[int, ...] = (200,)
    args: Callable | None = None
    #: ``shows(world, role) -> (students, students)``: the students a list or an export must
    #: show to the role, and those it must not.
    shows: Callable | None = None
    #: ``prepare(world)`` makes the rows a list shows, for every student, before the call.
    prepare: Callable | None = None
    #: The table an allowed POST on a visible object writes a row to.
    writes: str | None = None


def seen_and_unseen(world, role) -> tuple[list, list]:
    """The role's visible student, and the student it may not see (real students only)."""
    students = (world.visible_student(role), world.invisible_student(role))
    real = [s if hasattr(s, "student_number") else None for s in students]
    return [s for s in real[:1] if s], [s for s in real[1:] if s] + [world.college.foreign_student]


def counsellor_sees_own(world, role) -> tuple[list, list]:
    """A counsellor's list: their student and not another counsellor's; the deputy: both."""
    c = world.college
    if role == "counsellor":
        return [c.own_student], [c.other_student, c.foreign_student]
    if role in WHOLE_COLLEGE:
        return [c.own_student, c.other_student], [c.foreign_student]
    return [], []


def every_student(world, role) -> tuple[list, list]:
    """The roster: every student of the college, none of another college."""
    c = world.college
    return [c.own_student, c.other_student, c.graduate], [c.foreign_student, c.foreign_graduate]


def default_args(case: Case, world, role: str) -> tuple[dict | None, dict | None]:
    user = world.user(role)
    if "{student}" in case.url:
        visible = world.visible_student(role)
        invisible = world.invisible_student(role)
        return (
            {"student": visible.id, "user": user.id} if visible else None,
            {"student": invisible.id, "user": user.id} if invisible else None,
        )
    return {"user": user.id, "student": 0}, None


def all_cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        overlap = set(cases) & set(module.CASES)
        assert not overlap, f"endpoints with two cases: {overlap}"
        cases.update(module.CASES)
    return cases


def rechecks_for_everyone(world) -> None:
    """An open re-check due today for each of the college's students, owned by their
    counsellor, so a list without its visibility filter would show them all."""
    from datetime import UTC, datetime

    from caretrack.extensions import db
    from caretrack.models import Recheck
    from caretrack.services.clock import local_today

    today = local_today(datetime.now(UTC))
    c = world.college
    for student in (c.own_student, c.other_student, c.graduate, c.foreign_student):
        db.session.add(Recheck(student_id=student.id, owner_id=student.counsellor_id,
                               due_on=today, reason="约好回电", origin="manual",
                               created_by_id=student.counsellor_id))


def follow_ups_for_everyone(world, on: str = "2020-02-10") -> None:
    """A follow-up on ``on`` (10:00 college time) for each of the college's students."""
    from datetime import datetime, timedelta, timezone

    from caretrack.models import EntryKind
    from caretrack.services.timeline import add_entry

    when = datetime.fromisoformat(on + "T10:00").replace(tzinfo=timezone(timedelta(hours=8)))
    c = world.college
    for student in (c.own_student, c.other_student, c.graduate, c.foreign_student):
        add_entry(student, EntryKind.FOLLOW_UP, student.counsellor, body="电话联系",
                  occurred_at=when, now=when,
                  details={"channel": "phone", "reached": True, "health": "normal",
                           "check_again_in_days": None})
