"""Every rule of caretrack/access.py, checked without HTTP: the predicates by role, the SQL
conditions by the rows they select, and the view guard."""

import pytest
from flask_login import AnonymousUserMixin, login_user
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from caretrack import access
from caretrack.extensions import db
from caretrack.models import EntryKind, ReferralState, Student, TimelineEntry
from caretrack.services.timeline import add_entry
from tests import factories

ROLES = ("counsellor", "supervisor", "deputy", "admin")


def _user(college, role):
    return {"counsellor": college.counsellor, "supervisor": college.supervisor,
            "deputy": college.deputy, "admin": college.admin}[role]


#: predicate -> the roles for which it holds.
ROLE_PREDICATES = {
    access.keeps_caseload: {"counsellor"},
    access.sees_whole_college: {"deputy"},
    access.has_referral_inbox: {"supervisor"},
    access.can_read_cases: {"counsellor", "supervisor", "deputy"},
    access.can_manage_roster: {"admin"},
    access.can_review: {"deputy"},
    access.can_sign_off_reports: {"deputy"},
    access.files_daily_report: {"counsellor"},
    access.works_rechecks: {"counsellor", "deputy"},
    access.has_dashboard: {"counsellor", "deputy"},
    access.reads_full_timeline: {"counsellor", "deputy"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("predicate", list(ROLE_PREDICATES), ids=lambda p: p.__name__)
def test_role_predicates(college, predicate, role):
    assert predicate(_user(college, role)) is (role in ROLE_PREDICATES[predicate])


@pytest.mark.parametrize("predicate", list(ROLE_PREDICATES), ids=lambda p: p.__name__)
def test_nobody_signed_in_and_deactivated_accounts_may_do_nothing(college, predicate):
    assert predicate(AnonymousUserMixin()) is False
    for role in ROLES:
        user = _user(college, role)
        user.active = False
        assert predicate(user) is False


def _visible(user) -> set[str]:
    return set(db.session.scalars(select(Student.name).where(access.student_filter(user))))


def test_student_filter_selects_exactly_what_each_role_may_see(college):
    factories.ReferralFactory(student=college.graduate, supervisor=college.supervisor,
                              referred_by=college.counsellor)
    db.session.commit()
    assert _visible(college.counsellor) == {"陈小明", "赵研究"}
    assert _visible(college.other_counsellor) == {"刘小红"}
    assert _visible(college.supervisor) == {"赵研究"}
    assert _visible(college.deputy) == {"陈小明", "刘小红", "赵研究"}
    assert _visible(college.admin) == set()
    assert _visible(AnonymousUserMixin()) == set()


@pytest.mark.parametrize("state, sees", [
    (ReferralState.OPEN, True), (ReferralState.ACCEPTED, True), (ReferralState.DONE, True),
    (ReferralState.DECLINED, False), (ReferralState.REVOKED, False),
])
def test_a_supervisor_sees_a_student_while_the_referral_is_live_and_after_it_is_done(
        college, state, sees):
    factories.ReferralFactory(student=college.graduate, supervisor=college.supervisor,
                              referred_by=college.counsellor, state=state)
    db.session.commit()
    assert (_visible(college.supervisor) == {"赵研究"}) is sees


def test_caseload_filter_is_one_counsellors_students(college):
    names = set(db.session.scalars(
        select(Student.name).where(access.caseload_filter(college.counsellor))))
    assert names == {"陈小明", "赵研究"}
    by_id = set(db.session.scalars(
        select(Student.name).where(access.caseload_filter(college.other_counsellor.id))))
    assert by_id == {"刘小红"}


def test_get_student_or_404_refuses_an_invisible_and_a_missing_student_alike(college):
    assert access.get_student_or_404(college.own_student.id, college.counsellor).name == "陈小明"
    for student_id in (college.other_student.id, 999999):
        with pytest.raises(NotFound):
            access.get_student_or_404(student_id, college.counsellor)


def test_only_the_students_counsellor_records_on_the_timeline(college):
    assert access.can_record_for(college.counsellor, college.own_student)
    assert not access.can_record_for(college.counsellor, college.other_student)
    for role in ("supervisor", "deputy", "admin"):
        assert not access.can_record_for(_user(college, role), college.own_student)
    assert access.get_recordable_student_or_404(college.own_student.id, college.counsellor)
    with pytest.raises(NotFound):
        access.get_recordable_student_or_404(college.own_student.id, college.deputy)


def test_roster_is_the_admins_and_the_deputys(college):
    for role, count in (("admin", 3), ("deputy", 3), ("counsellor", 0), ("supervisor", 0)):
        rows = db.session.scalars(access.roster_students(_user(college, role))).all()
        assert len(rows) == count, role


def test_a_supervisor_reads_only_their_referrals_entries(college):
    referral = factories.ReferralFactory(student=college.graduate, supervisor=college.supervisor,
                                         referred_by=college.counsellor)
    other = factories.ReferralFactory(student=college.graduate,
                                      supervisor=factories.SupervisorFactory(),
                                      referred_by=college.counsellor)
    db.session.commit()
    mine = {r.id for r in db.session.scalars(access.visible_referrals(college.supervisor))}
    assert mine == {referral.id}
    for made in (referral, other):
        add_entry(college.graduate, EntryKind.REFERRAL, college.counsellor, body="论文压力",
                  referral_id=made.id)
    add_entry(college.graduate, EntryKind.NOTE, college.counsellor, body="家长来电")
    db.session.commit()

    def read_by(user):
        return set(db.session.scalars(select(TimelineEntry.referral_id).where(
            TimelineEntry.student_id == college.graduate.id, access.entry_filter(user))))

    assert read_by(college.supervisor) == {referral.id}
    assert read_by(college.counsellor) == {referral.id, other.id, None}
    assert access.is_referral_supervisor(college.supervisor, referral)
    assert not access.is_referral_supervisor(college.supervisor, other)
    assert not access.is_referral_supervisor(college.counsellor, referral)
    assert access.reads_full_timeline(college.counsellor)
    assert not access.reads_full_timeline(college.supervisor)


def test_who_may_revoke_a_referral(college):
    referral = factories.ReferralFactory(student=college.graduate, supervisor=college.supervisor,
                                         referred_by=college.counsellor)
    db.session.commit()
    assert access.can_revoke_referral(college.counsellor, referral)
    assert access.can_revoke_referral(college.deputy, referral)
    assert not access.can_revoke_referral(college.other_counsellor, referral)
    assert not access.can_revoke_referral(college.supervisor, referral)
    assert not access.can_revoke_referral(college.admin, referral)
    referral.state = ReferralState.ACCEPTED
    assert not access.can_revoke_referral(college.counsellor, referral)
    assert access.may_revoke_referrals_of(college.counsellor, college.graduate)
    assert access.may_revoke_referrals_of(college.deputy, college.graduate)
    assert not access.may_revoke_referrals_of(college.other_counsellor, college.graduate)


def test_requires_signs_in_first_then_answers_404(app, college):
    @access.requires(access.can_review)
    def view():
        return "the review queue"

    with app.test_request_context("/review/"):
        assert view().status_code == 302  # not signed in: to the sign-in page
    with app.test_request_context("/review/"):
        login_user(college.counsellor)
        with pytest.raises(NotFound):
            view()
    with app.test_request_context("/review/"):
        login_user(college.deputy)
        assert view() == "the review queue"


def test_templates_get_every_predicate(app):
    for name, predicate in access.TEMPLATE_PREDICATES.items():
        assert app.jinja_env.globals[name] is predicate
