from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import Referral
from tests import factories
from tests.access_cases import CASE_READERS, WHOLE_COLLEGE, Case


def referral_args(world, role):
    """The world's referral (graduate → supervisor, by the counsellor) and one of another
    counsellor's students to another supervisor."""
    c = world.college
    mine = db.session.scalars(select(Referral).where(Referral.student_id == c.graduate.id)).one()
    theirs = factories.ReferralFactory(
        student=c.other_student, referred_by=c.other_counsellor,
        supervisor=factories.SupervisorFactory(),
    )
    foreign = factories.ReferralFactory(
        student=c.foreign_graduate, referred_by=c.foreign_counsellor,
        supervisor=c.foreign_supervisor)
    db.session.commit()
    if role == "admin":
        return None, {"referral": mine.id}
    if role in WHOLE_COLLEGE:  # another college's referral
        return {"referral": mine.id}, {"referral": foreign.id}
    return {"referral": mine.id}, {"referral": theirs.id}


def referred_and_not(world, role):
    """The referrals list: the world's referral (of the graduate), never another counsellor's
    student's; the deputy sees both."""
    c = world.college
    if role in WHOLE_COLLEGE:
        return [c.graduate, c.other_student], []
    return [c.graduate], [c.other_student]


def another_referral(world):
    factories.ReferralFactory(student=world.college.other_student,
                              referred_by=world.college.other_counsellor,
                              supervisor=factories.SupervisorFactory())


def step(url, roles, data, ok=(302,), writes=None):
    return Case(url, roles, method="POST", data=data, ok=ok, args=referral_args, writes=writes)


CASES = {
    "referrals.index": Case("/referrals/", CASE_READERS, prepare=another_referral,
                            shows=referred_and_not),
    "referrals.detail": Case("/referrals/{referral}", CASE_READERS, args=referral_args),
    "referrals.accept": step("/referrals/{referral}/accept", {"supervisor"}, {"accept-note": ""},
                             writes="timeline_entries"),
    "referrals.decline": step("/referrals/{referral}/decline", {"supervisor"},
                              {"decline-reason": "本周出差，无法指导"}, writes="timeline_entries"),
    # Responding and closing need an accepted referral: on an open one the state refuses (409).
    "referrals.respond": step("/referrals/{referral}/respond", {"supervisor"},
                              {"respond-body": "已线上指导"}, ok=(409,)),
    "referrals.done": step("/referrals/{referral}/done", {"supervisor"}, {"done-note": ""},
                           ok=(409,)),
    "referrals.revoke": step("/referrals/{referral}/revoke", {"counsellor", "deputy"},
                             {"revoke-reason": "学生情况好转"}, writes="timeline_entries"),
}
CASES["referrals.export"] = Case("/referrals/export/xlsx", CASE_READERS,
                                 prepare=another_referral, shows=referred_and_not)
