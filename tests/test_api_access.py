"""The API's access cases with tokens instead of the session: a read-write token answers as
the session does; a read-only token reads the same and can write nothing."""

from datetime import UTC, datetime
from functools import partial

import pytest
from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import DailyStatus, TimelineEntry
from caretrack.services.api_tokens import create_token
from caretrack.services.clock import local_today
from tests.access_cases import ROLES, default_args
from tests.conftest import SNAPSHOTS
from tests.test_access_matrix import CASES, World, refer_the_graduate

API_CASES = {name: case for name, case in CASES.items() if name.startswith("api.")}


@pytest.fixture
def world(colleges):
    return World(SNAPSHOTS.built_once("api world", colleges, refer_the_graduate))


def _headers(user, scope):
    _token, secret = create_token(user, name="matrix", scope=scope, days=7,
                                  now=datetime.now(UTC))
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _entries():
    return db.session.scalar(select(func.count(TimelineEntry.id)))


@pytest.mark.parametrize("scope", ["read", "read_write"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(API_CASES))
def test_api_route_answers_by_role_and_scope(client, world, endpoint, role, scope):
    case = API_CASES[endpoint]
    visible, invisible = (case.args or partial(default_args, case))(world, role)
    headers = _headers(world.user(role), scope)
    target = visible or invisible
    url = case.url.format(**target)
    if case.method == "POST":
        before = _entries()
        response = client.post(url, json=case.json, headers=headers)
        if scope == "read":
            assert response.status_code == 403, (endpoint, role)
            assert response.get_json()["code"] == "api-read-only"
            assert _entries() == before
            return
    else:
        response = client.get(url, headers=headers)
    if role not in case.roles or visible is None:
        assert response.status_code == 404, (endpoint, role, scope, response.status_code)
        assert response.mimetype == "application/problem+json"
    else:
        assert response.status_code in case.ok, (endpoint, role, scope, response.get_json())
    if invisible is not None and role in case.roles:
        call = partial(client.post, json=case.json) if case.method == "POST" else client.get
        hidden = call(case.url.format(**invisible), headers=headers)
        assert hidden.status_code in (404, 403), (endpoint, role, "invisible")


@pytest.mark.parametrize("role", ROLES)
def test_only_a_counsellor_upserts_statuses(client, world, role):
    college = world.college
    headers = _headers(world.user(role), "read_write")
    today = local_today(datetime.now(UTC)).isoformat()
    rows = [{"student_number": college.own_student.student_number, "province": "北京",
             "health": "normal"}]
    response = client.post(f"/api/v1/daily/{today}/statuses", json={"statuses": rows},
                           headers=headers)
    stored = db.session.scalar(select(func.count(DailyStatus.id)))
    if role == "counsellor":
        assert response.get_json()["applied"] == 1 and stored == 1
    else:
        assert response.status_code == 404 and stored == 0
