"""Every route × every role: what it answers for an object the role may see and for one it may
not. The table is checked against ``app.url_map``: a route added without a case fails."""

from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from caretrack import create_app
from caretrack.extensions import db
from caretrack.models import AuditEvent, Referral, TimelineEntry
from tests import factories

ROLES = ("counsellor", "supervisor", "deputy", "admin")
CASE_READERS = {"counsellor", "supervisor", "deputy"}


@dataclass
class Case:
    """How to call one endpoint: ``url`` may name {student}; ``roles`` may use it at all."""

    url: str
    roles: set[str]
    method: str = "GET"
    data: dict = field(default_factory=dict)
    #: Whether the URL names a student (then the invisible student must answer 404).
    student: bool = False
    #: Statuses that mean "answered" for an allowed role.
    ok: tuple[int, ...] = (200,)


#: endpoint -> Case. Endpoints that need no sign-in are in PUBLIC.
PUBLIC = {"static", "healthz", "auth.login"}
CASES: dict[str, Case] = {
    "main.index": Case("/", {"counsellor", "supervisor", "deputy", "admin"}, ok=(200, 302)),
    "auth.logout": Case("/logout", set(ROLES), method="POST", ok=(302,)),
    "auth.account": Case("/account", set(ROLES)),
    "auth.password": Case("/account/password", set(ROLES)),
    "students.index": Case("/students/", CASE_READERS),
    "students.detail": Case("/students/{student}", CASE_READERS, student=True),
    "admin.users": Case("/admin/users", {"admin"}),
    "admin.new_user": Case("/admin/users/new", {"admin"}),
    "admin.edit_user": Case("/admin/users/{user}", {"admin"}),
    "admin.roster": Case("/admin/roster", {"admin"}),
}


def all_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules()}


def test_every_route_has_a_case():
    app = create_app("testing")
    missing = all_endpoints(app) - set(CASES) - PUBLIC
    assert not missing, f"add these endpoints to CASES in {__name__}: {sorted(missing)}"
    stale = set(CASES) - all_endpoints(app)
    assert not stale, f"these CASES name endpoints that no longer exist: {sorted(stale)}"


@pytest.fixture
def world(college):
    """Per role: the user, a student they may see and one they may not."""
    factories.ReferralFactory(student=college.graduate, supervisor=college.supervisor,
                              referred_by=college.counsellor)
    db.session.commit()
    return {
        "counsellor": (college.counsellor, college.own_student, college.other_student),
        "supervisor": (college.supervisor, college.graduate, college.own_student),
        "deputy": (college.deputy, college.other_student, None),
        "admin": (college.admin, None, college.own_student),
    }


def _url(case: Case, student, user) -> str:
    return case.url.format(student=student.id if student else 999999, user=user.id)


def _row_counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (TimelineEntry, Referral)
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(CASES))
def test_route_answers_by_role(client, auth, world, endpoint, role):
    case = CASES[endpoint]
    user, visible, invisible = world[role]
    auth.login(user)
    call = client.post if case.method == "POST" else client.get

    if role not in case.roles:
        before = _row_counts()
        target = visible or invisible
        response = call(_url(case, target, user), data=case.data)
        assert response.status_code == 404, (endpoint, role, response.status_code)
        assert _row_counts() == before
        return

    if case.student and invisible is not None:
        before = _row_counts()
        response = call(_url(case, invisible, user), data=case.data)
        assert response.status_code == 404, (endpoint, role, "invisible student")
        assert _row_counts() == before
    if case.student and visible is None:
        return
    response = call(_url(case, visible, user), data=case.data)
    assert response.status_code in case.ok, (endpoint, role, response.status_code)


def test_a_view_of_a_student_is_audited(client, auth, college):
    auth.login(college.counsellor)
    client.get(f"/students/{college.own_student.id}")
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "student.view")
    ).one()
    assert event.student_id == college.own_student.id
    assert event.user_id == college.counsellor.id
    assert event.ip == "127.0.0.1"


def test_a_refused_student_leaves_no_view_event(client, auth, college):
    auth.login(college.counsellor)
    assert client.get(f"/students/{college.other_student.id}").status_code == 404
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "student.view")
    ).all()
