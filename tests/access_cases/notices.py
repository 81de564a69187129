"""Notices: the counsellors' and the deputy's. A counsellor sees the notices they wrote and
those that reached their students, with the names of their own students only; the deputy sees
every notice, as numbers."""

from datetime import UTC, datetime, timedelta

from caretrack.extensions import db
from caretrack.services import notices
from caretrack.services.notices import NoticeDraft
from tests.access_cases import Case

WRITERS = {"counsellor", "deputy"}


def _draft(audience, title):
    return NoticeDraft(title=title, body="请阅读", audience=audience,
                       deadline=datetime.now(UTC) + timedelta(days=1))


def notice_args(world, role):
    """The counsellor's own notice (their caseload) and another counsellor's; for the deputy
    their college-wide notice and another college's."""
    c = world.college
    now = datetime.now(UTC)
    own = notices.publish(c.counsellor, _draft("caseload", "李老师的通知"), now=now)
    other = notices.publish(c.other_counsellor, _draft("caseload", "张老师的通知"), now=now)
    college = notices.publish(c.deputy, _draft("college", "全院通知"), now=now)
    foreign = notices.publish(c.foreign_deputy, _draft("college", "外院通知"), now=now)
    db.session.commit()
    if role == "counsellor":
        return {"notice": own.id}, {"notice": other.id}
    if role == "deputy":  # another college's notice
        return {"notice": college.id}, {"notice": foreign.id}
    return {"notice": college.id}, None


def names_for_the_counsellor(world, role):
    """Who has not acknowledged: a counsellor's own students, never another's; the deputy
    reads numbers, no names."""
    c = world.college
    if role == "counsellor":
        return [c.own_student], [c.other_student]
    return [], [c.own_student, c.other_student]


CASES = {
    "notices.index": Case("/notices/", WRITERS),
    "notices.new": Case("/notices/new", WRITERS),
    "notices.correct": Case("/notices/{notice}/correct", WRITERS, args=notice_args),
    "notices.coverage": Case("/notices/{notice}", WRITERS, args=notice_args,
                             shows=names_for_the_counsellor),
    "notices.coverage_xlsx": Case("/notices/{notice}/coverage.xlsx", WRITERS, args=notice_args,
                                  shows=names_for_the_counsellor),
}

# Posting to the class groups is the counsellor's, for the classes of their own caseload.
CASES["notices.post_to_groups"] = Case("/notices/{notice}/groups", {"counsellor"},
                                       method="POST", data={"what": "notice"}, ok=(302,),
                                       args=notice_args)
