"""Absences and cover: a counsellor records their own, the deputy anyone's; a counsellor sees
their own absences and those they cover, never another colleague's."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from caretrack.extensions import db
from caretrack.models import Absence, AbsenceCover
from tests import factories
from tests.access_cases import Case

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
ROLES = {"counsellor", "deputy"}


def _absence(counsellor, cover, starts_in: int, days: int = 5) -> Absence:
    start = TODAY + timedelta(days=starts_in)
    absence = Absence(counsellor_id=counsellor.id, starts_on=start,
                      ends_on=start + timedelta(days=days - 1), reason="隔离",
                      created_by_id=counsellor.id,
                      covers=[AbsenceCover(covering_id=cover.id, class_name=None)])
    db.session.add(absence)
    db.session.flush()
    return absence


def absence_args(starts_in: int):
    """A visible absence (the counsellor's own; any for the deputy) and one the role may not
    see (two colleagues', neither the role's)."""
    def args(world, role):
        c = world.college
        third = factories.CounsellorFactory(display_name="周老师")
        own = _absence(c.counsellor, c.other_counsellor, starts_in)
        others = _absence(third, c.other_counsellor, starts_in)
        foreign = _absence(c.foreign_counsellor, c.foreign_counsellor, starts_in)
        db.session.commit()
        if role == "counsellor":
            return {"absence": own.id}, {"absence": others.id}
        if role == "deputy":  # another college's absence
            return {"absence": own.id}, {"absence": foreign.id}
        return None, {"absence": others.id}
    return args


def new_args(world, role):
    c = world.college
    if role == "deputy":
        return {"counsellor": c.counsellor.id}, {"counsellor": c.deputy.id}
    return {"counsellor": c.counsellor.id}, None


CASES = {
    "absences.index": Case("/absences/", ROLES),
    "absences.new": Case("/absences/new?counsellor={counsellor}", ROLES, args=new_args),
    "absences.detail": Case("/absences/{absence}", ROLES, args=absence_args(1)),
    "absences.cancel": Case("/absences/{absence}/cancel", ROLES, method="POST",
                            data={"version": "1"}, ok=(302,), args=absence_args(1)),
    "absences.end_early": Case(
        "/absences/{absence}/end", ROLES, method="POST", ok=(302,), args=absence_args(-2),
        data={"version": "1", "last_day": (TODAY - timedelta(days=1)).isoformat()}),
    "absences.extend": Case(
        "/absences/{absence}/extend", ROLES, method="POST", ok=(302,), args=absence_args(0),
        data={"version": "1", "ends_on": (TODAY + timedelta(days=20)).isoformat()}),
}
