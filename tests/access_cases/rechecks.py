from datetime import date, timedelta

from caretrack.extensions import db
from caretrack.services import rechecks
from tests.access_cases import ROLES, Case, counsellor_sees_own, rechecks_for_everyone

IN_A_MONTH = (date.today() + timedelta(days=30)).isoformat()


def recheck_args(world, role):
    """A re-check of the counsellor's student and one of another counsellor's student; only
    the student's counsellor may change one, so every other role gets the counsellor's."""
    c = world.college
    soon = date.today() + timedelta(days=10)
    mine = rechecks.schedule(c.own_student, due_on=soon, reason="约好回电", origin="manual",
                             by=c.counsellor)
    theirs = rechecks.schedule(c.other_student, due_on=soon, reason="约好回电", origin="manual",
                               by=c.other_counsellor)
    db.session.commit()
    return {"recheck": mine.id}, {"recheck": theirs.id}


CASES = {
    "rechecks.index": Case("/rechecks/", {"counsellor", "deputy", "secretary"},
                           prepare=rechecks_for_everyone, shows=counsellor_sees_own),
    "rechecks.new": Case("/rechecks/students/{student}/new", {"counsellor"}, method="POST",
                         data={"due_on": IN_A_MONTH, "reason": "约好视频通话"}, ok=(302,),
                         writes="rechecks"),
    "rechecks.reschedule": Case("/rechecks/{recheck}/reschedule", {"counsellor"}, method="POST",
                                data={"due_on": IN_A_MONTH, "reason": "学生在实习"}, ok=(302,),
                                args=recheck_args),
    "rechecks.cancel": Case("/rechecks/{recheck}/cancel", {"counsellor"}, method="POST",
                            data={"reason": "学生已返校"}, ok=(302,), args=recheck_args),
    "calendar.regenerate_token": Case("/calendar/token", set(ROLES), method="POST", ok=(302,)),
}

CASES["rechecks.export"] = Case("/rechecks/export/csv", {"counsellor", "deputy", "secretary"},
                                prepare=rechecks_for_everyone, shows=counsellor_sees_own)
