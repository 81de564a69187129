"""The colleges of the university: the university admin adds and renames them."""

from datetime import datetime

from sqlalchemy import func, select

from caretrack.access import manages_colleges
from caretrack.extensions import db
from caretrack.models import College, Role, Student, User
from caretrack.services.audit import record_event
from caretrack.services.errors import RuleError


def save_college(
    by: User | None, college: College | None, *, code: str, name_zh: str, name_en: str = "",
    now: datetime | None = None, ip: str = "",
) -> College:
    """Add a college (``college`` None) or change one, and audit it (``by`` None: the CLI).

    :raise RuleError: "not-allowed" for anyone but the university admin,
        "college-code-taken" (code).
    """
    if by is not None and not manages_colleges(by):
        raise RuleError("not-allowed")
    code = code.strip().lower()
    taken = db.session.scalar(select(College.id).where(College.code == code))
    if taken is not None and (college is None or taken != college.id):
        raise RuleError("college-code-taken", "code")
    if college is None:
        college = College(code=code)
        db.session.add(college)
    college.code, college.name_zh, college.name_en = code, name_zh.strip(), name_en.strip()
    db.session.flush()
    record_event("college.save", by, detail=f"college:{college.id} code:{code}", now=now, ip=ip)
    return college


def college_rows() -> list[tuple[College, int, list[str]]]:
    """Each college with its number of students and its admins' usernames (two queries)."""
    students = dict(db.session.execute(
        select(Student.college_id, func.count(Student.id))
        .where(Student.merged_into_id.is_(None)).group_by(Student.college_id)).all())
    admins: dict[int, list[str]] = {}
    for college_id, username in db.session.execute(
            select(User.college_id, User.username)
            .where(User.role == Role.ADMIN, User.college_id.is_not(None))
            .order_by(User.username)):
        admins.setdefault(college_id, []).append(username)
    return [(c, students.get(c.id, 0), admins.get(c.id, []))
            for c in db.session.scalars(select(College).order_by(College.code))]


def college_of_cli(code: str | None) -> College:
    """The college a command works on: the one named by ``code``; without a code the only
    college, created as the default college on an install that has none yet.

    :raise LookupError: for an unknown code, or no code while there are several colleges.
    """
    from caretrack.models import DEFAULT_COLLEGE_CODE

    if code:
        college = db.session.scalar(select(College).where(College.code == code))
        if college is None:
            raise LookupError(f"no college {code!r}")
        return college
    colleges = db.session.scalars(select(College).limit(2)).all()
    if len(colleges) > 1:
        raise LookupError("more than one college: give --college CODE")
    if colleges:
        return colleges[0]
    return save_college(None, None, code=DEFAULT_COLLEGE_CODE, name_zh="本学院",
                        name_en="The college")
