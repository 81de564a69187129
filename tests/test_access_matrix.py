"""Every route × every role: what it answers for an object the role may see and for one it may
not. The table is checked against ``app.url_map``: a route added without a case fails."""

import io
import time
from functools import partial

import pytest
from flask import current_app
from openpyxl import load_workbook
from sqlalchemy import func, select

from caretrack import create_app
from caretrack.extensions import db
from caretrack.models import AuditEvent, Student
from tests import factories
from tests.access_cases import ROLES, all_cases, default_args
from tests.conftest import POSTGRES, SNAPSHOTS, AuthActions

#: Endpoints that need no sign-in.
PUBLIC = {"static", "healthz", "auth.login", "auth.two_factor", "auth.two_factor_setup",
          "calendar.feed", "api.openapi_json", "api.docs"}
CASES = all_cases()


def all_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules()}


def test_every_route_has_a_case():
    app = create_app("testing")
    missing = all_endpoints(app) - set(CASES) - PUBLIC
    assert not missing, f"add cases for these endpoints in tests/access_cases/: {sorted(missing)}"
    stale = set(CASES) - all_endpoints(app)
    assert not stale, f"these CASES name endpoints that no longer exist: {sorted(stale)}"


class World:
    """Per role: the user, a student they may see and one they may not."""

    def __init__(self, college):
        self.college = college
        self._by_role = {
            "counsellor": (college.counsellor, college.own_student, college.other_student),
            "supervisor": (college.supervisor, college.graduate, college.own_student),
            # For the deputy secretary, another college's student is invisible.
            "deputy": (college.deputy, college.other_student, college.foreign_student),
            "admin": (college.admin, None, college.own_student),
            "university_admin": (college.university_admin, None, college.own_student),
            # The college of the world has no merge stage: the league secretary has no part.
            "league": (college.league, None, college.own_student),
            # The secretary sees what the deputy sees.
            "secretary": (college.secretary, college.other_student, college.foreign_student),
            # The university office reads reports only: no student page.
            "office": (college.office, None, college.own_student),
        }

    def user(self, role):
        return self._by_role[role][0]

    def visible_student(self, role):
        return self._by_role[role][1]

    def invisible_student(self, role):
        return self._by_role[role][2]


def refer_the_graduate(college) -> None:
    """The graduate's counsellor refers them to their supervisor."""
    factories.ReferralFactory(student=college.graduate, supervisor=college.supervisor,
                              referred_by=college.counsellor)


#: Each role's session as its sign-in through the login form left it (SQLite only: there the
#: world, every role signed in, is built once per process; each case starts from a copy).
SESSIONS: dict[str, dict] = {}


def _refer_and_sign_in(college) -> None:
    refer_the_graduate(college)
    if POSTGRES:
        return
    db.session.commit()
    world = World(college)
    for role in ROLES:
        client = current_app.test_client()
        AuthActions(client).login(world.user(role))
        with client.session_transaction() as session:
            SESSIONS[role] = dict(session)


@pytest.fixture
def world(colleges):
    return World(SNAPSHOTS.built_once("access world", colleges, _refer_and_sign_in))


@pytest.fixture
def sign_in(client, auth):
    """Sign ``role`` in: on SQLite by writing the session its sign-in left into the client's
    cookie (started now), on PostgreSQL through the login form."""

    def sign_in_as(world, role):
        if role not in SESSIONS:
            auth.login(world.user(role))
            return
        with client.session_transaction() as session:
            session.update(SESSIONS[role])
            session["signed_in_at"] = session["seen_at"] = int(time.time())

    return sign_in_as


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNCOUNTED = {"audit_events", "sent_messages", "notifications"}


def _row_counts():
    """Rows in every table that a refused request must leave alone (one query)."""
    tables = [table for table in db.metadata.sorted_tables if table.name not in UNCOUNTED]
    counts = db.session.execute(select(*(
        select(func.count()).select_from(table).scalar_subquery().label(table.name)
        for table in tables))).one()
    return dict(zip((table.name for table in tables), counts, strict=True))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(CASES))
def test_route_answers_by_role(client, sign_in, world, endpoint, role):
    case = CASES[endpoint]
    visible, invisible = (case.args or partial(default_args, case))(world, role)
    sign_in(world, role)
    post = partial(client.post, json=case.json) if case.json is not None else client.post
    call = post if case.method == "POST" else client.get

    if role not in case.roles:
        before = _row_counts()
        target = visible or invisible or {"student": 999999, "user": world.user(role).id}
        response = call(case.url.format(**target), data=case.data or None)
        assert response.status_code == 404, (endpoint, role, response.status_code)
        assert _row_counts() == before
        return

    if invisible is not None:
        before = _row_counts()
        response = call(case.url.format(**invisible), data=case.data or None)
        assert response.status_code == 404, (endpoint, role, "object the role may not see")
        assert _row_counts() == before
    if visible is not None:
        if case.prepare is not None:
            case.prepare(world)
            db.session.commit()
        before = _row_counts()
        response = call(case.url.format(**visible), data=case.data or None)
        assert response.status_code in case.ok, (endpoint, role, response.status_code)
        if response.status_code == 200:
            body = _text(response)
            shown, hidden = _expected_students(case, world, role, visible)
            for student in shown:
                assert student.student_number in body or student.name in body, (
                    endpoint, role, "missing", student.name)
            for student in hidden:
                assert student.student_number not in body and student.name not in body, (
                    endpoint, role, "leaks", student.name)
        if case.writes is not None:
            assert _row_counts()[case.writes] > before[case.writes], (
                endpoint, role, f"nothing written to {case.writes}")


def _expected_students(case, world, role, visible) -> tuple[list, list]:
    """The students an allowed answer must show, and those it must not."""
    if case.shows is not None:
        return case.shows(world, role)
    if case.method == "GET" and "{student}" in case.url:
        student = db.session.get(Student, visible["student"])
        return [student], []
    return [], []


def _text(response) -> str:
    """The text a user reads in the answer: the page, the CSV, or every cell of the XLSX."""
    if response.mimetype == XLSX:
        book = load_workbook(io.BytesIO(response.data), read_only=True)
        return "\n".join(
            str(value) for sheet in book for row in sheet.iter_rows(values_only=True)
            for value in row if value is not None
        )
    return response.get_data(as_text=True)


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


STUDENT_ROUTES = sorted(e for e, case in CASES.items() if "{student}" in case.url)


@pytest.mark.parametrize("role", ("counsellor", "supervisor", "deputy", "secretary", "admin"))
@pytest.mark.parametrize("endpoint", STUDENT_ROUTES)
def test_another_colleges_student_is_404(client, sign_in, world, endpoint, role):
    """Every route of a student answers 404, and writes nothing, for a student of another
    college, to every college account (the deputy's own college's students are visible)."""
    case = CASES[endpoint]
    visible, invisible = (case.args or partial(default_args, case))(world, role)
    target = {**(visible or invisible or {"user": world.user(role).id}),
              "student": world.college.foreign_student.id}
    sign_in(world, role)
    post = partial(client.post, json=case.json) if case.json is not None else client.post
    call = post if case.method == "POST" else client.get
    before = _row_counts()
    response = call(case.url.format(**target), data=case.data or None)
    assert response.status_code == 404, (endpoint, role, response.status_code)
    assert _row_counts() == before
