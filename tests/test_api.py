"""The JSON API as another system uses it: a token, the students, the timeline, re-checks,
daily statuses (the bulk upsert), reports, referrals, categories, and its errors."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import ApiToken, AuditEvent, DailyStatus, Recheck, TimelineEntry
from caretrack.services.api_tokens import create_token, digest
from caretrack.services.clock import local_today
from tests import factories

NOW = datetime.now(UTC)


def token_for(user, scope="read_write", days=30) -> str:
    _token, secret = create_token(user, name="campus app", scope=scope, days=days, now=NOW)
    db.session.commit()
    return secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def counsellor_token(college):
    return bearer(token_for(college.counsellor))


def test_the_description_is_openapi_3_1_and_lists_every_enum(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    assert "/api/v1/students" in spec["paths"]
    health = spec["components"]["schemas"]["DayStatus"]["properties"]["health"]
    assert "fever" in health["enum"]
    student = spec["components"]["schemas"]["Student"]["properties"]
    assert student["student_number"]["type"] == "string"
    problem = spec["paths"]["/api/v1/students/{student_id}"]["get"]["responses"]["404"]
    assert problem == {"$ref": "#/components/responses/NOT_FOUND"}
    assert "application/problem+json" in spec["components"]["responses"]["NOT_FOUND"]["content"]


def test_the_docs_page_is_served_from_vendored_files(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "http" not in page.replace("http-equiv", "")
    with client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js") as bundle:
        assert bundle.status_code == 200 and b"SwaggerUIBundle" in bundle.data


def test_the_token_is_stored_hashed_and_its_use_is_recorded(client, college):
    secret = token_for(college.counsellor)
    token = db.session.scalars(select(ApiToken)).one()
    assert len(secret) > 40 and secret not in (token.token_hash, token.prefix)
    assert token.token_hash == digest(secret) and token.last_used_at is None
    assert client.get("/api/v1/students", headers=bearer(secret)).status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at is not None


def test_no_token_a_wrong_one_an_expired_or_a_revoked_one_is_401(client, college):
    from caretrack.services.api_tokens import revoke_token

    assert client.get("/api/v1/students").status_code == 401
    answer = client.get("/api/v1/students", headers=bearer("ct_nonsense"))
    assert answer.status_code == 401 and answer.mimetype == "application/problem+json"
    assert answer.get_json()["type"] == "urn:caretrack:problem:api-unauthenticated"
    expired, secret = create_token(college.counsellor, name="old", scope="read", days=7,
                                   now=NOW - timedelta(days=8))
    db.session.commit()
    assert client.get("/api/v1/students", headers=bearer(secret)).status_code == 401
    secret = token_for(college.counsellor)
    assert client.get("/api/v1/students", headers=bearer(secret)).status_code == 200
    token = db.session.scalars(select(ApiToken).where(ApiToken.token_hash == digest(secret))).one()
    revoke_token(college.counsellor, token.id, now=NOW)
    db.session.commit()
    assert client.get("/api/v1/students", headers=bearer(secret)).status_code == 401


def test_a_read_only_token_cannot_write(client, college):
    headers = bearer(token_for(college.counsellor, scope="read"))
    answer = client.post(f"/api/v1/students/{college.own_student.id}/notes",
                         json={"body": "电话联系"}, headers=headers)
    assert answer.status_code == 403
    assert answer.get_json()["code"] == "api-read-only"
    assert db.session.scalar(select(func.count(TimelineEntry.id))) == 0


def test_the_students_list_pages_and_shows_only_the_caseload(client, college, counsellor_token):
    for n in range(3):
        factories.StudentFactory(counsellor=college.counsellor, student_number=f"00{n}42")
    db.session.commit()
    first = client.get("/api/v1/students?per_page=2", headers=counsellor_token).get_json()
    assert first["total"] == 5 and len(first["items"]) == 2
    assert first["next"].startswith("/api/v1/students?")
    second = client.get(first["next"], headers=counsellor_token).get_json()
    numbers = [s["student_number"] for s in first["items"] + second["items"]]
    assert "00042" in numbers  # student numbers stay strings, leading zeros kept
    assert college.other_student.student_number not in numbers
    found = client.get("/api/v1/students?q=陈小明", headers=counsellor_token).get_json()
    assert [s["name"] for s in found["items"]] == ["陈小明"]


def test_a_student_read_is_audited_and_another_caseload_is_404(client, college,
                                                               counsellor_token):
    answer = client.get(f"/api/v1/students/{college.own_student.id}", headers=counsellor_token)
    assert answer.get_json()["name"] == "陈小明"
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "api.student.view")).one()
    assert event.student_id == college.own_student.id and event.user_id == college.counsellor.id
    hidden = client.get(f"/api/v1/students/{college.other_student.id}", headers=counsellor_token)
    assert hidden.status_code == 404 and hidden.mimetype == "application/problem+json"
    missing = client.get("/api/v1/students/999999", headers=counsellor_token)
    assert missing.get_json() == {**hidden.get_json(), "instance": "/api/v1/students/999999"}


def test_a_follow_up_schedules_the_re_check_once_per_idempotency_key(client, college,
                                                                     counsellor_token):
    url = f"/api/v1/students/{college.own_student.id}/follow-ups"
    body = {"channel": "phone", "reached": True, "health": "normal", "body": "一切正常",
            "check_again_in_days": 2}
    headers = {**counsellor_token, "Idempotency-Key": "call-0210-1"}
    first = client.post(url, json=body, headers=headers)
    assert first.status_code == 201, first.get_json()
    again = client.post(url, json=body, headers=headers)
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    assert db.session.scalar(select(func.count(TimelineEntry.id)).where(
        TimelineEntry.kind == "follow_up")) == 1
    recheck = db.session.scalars(select(Recheck)).one()
    assert recheck.due_on == local_today(NOW) + timedelta(days=2)
    assert first.get_json()["occurred_at"].endswith("+00:00")


def test_a_delivery_line_takes_a_decimal_quantity_and_a_unit(client, college, counsellor_token):
    url = f"/api/v1/students/{college.own_student.id}/deliveries"
    body = {"items": [{"name": "苹果", "quantity": 1.5, "unit": "kg"},
                      {"name": "口罩", "quantity": 20}],
            "place": "dormitory", "received": True, "delivered_by": "李老师"}
    made = client.post(url, json=body, headers=counsellor_token)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["details"]["items"] == [
        {"name": "苹果", "quantity": "1.5", "unit": "kg"},
        {"name": "口罩", "quantity": "20", "unit": ""}]
    refused = client.post(url, json={**body, "items": [{"name": "苹果", "quantity": 0}]},
                          headers=counsellor_token)
    assert refused.status_code == 422


def test_validation_lists_every_field_and_a_rule_names_its_field(client, college,
                                                                 counsellor_token):
    url = f"/api/v1/students/{college.own_student.id}/follow-ups"
    bad = client.post(url, json={"channel": "pigeon"}, headers=counsellor_token)
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.get_json()["errors"]}
    assert {"channel", "reached", "health"} <= fields
    future = (NOW + timedelta(days=1)).isoformat()
    refused = client.post(url, json={"channel": "phone", "reached": True, "health": "normal",
                                     "occurred_at": future}, headers=counsellor_token)
    problem = refused.get_json()
    assert refused.status_code == 422
    assert (problem["type"], problem["field"]) == ("urn:caretrack:problem:in-future",
                                                   "occurred_at")


def test_a_session_write_needs_the_csrf_token(make_app, college):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"username": college.counsellor.username,
                                "password": factories.PASSWORD, "csrf_token": csrf})
    page = client.get("/account").get_data(as_text=True)
    csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    url = f"/api/v1/students/{college.own_student.id}/notes"
    refused = client.post(url, json={"body": "电话联系"})
    assert refused.status_code == 400 and refused.get_json()["code"] == "csrf"
    assert client.post(url, json={"body": "电话联系"},
                       headers={"X-CSRFToken": csrf}).status_code == 201
    # A token needs no CSRF token.
    with app.app_context():
        secret = token_for(db.session.merge(college.counsellor))
    assert client.post(url, json={"body": "再次联系"}, headers=bearer(secret)).status_code == 201


def test_the_bulk_upsert_applies_good_rows_and_names_bad_ones(client, college,
                                                              counsellor_token):
    today = local_today(NOW).isoformat()
    rows = [
        {"student_number": college.own_student.student_number, "province": "湖北",
         "city": "武汉", "health": "发热"},
        {"student_number": college.other_student.student_number, "province": "北京",
         "health": "normal"},
        {"student_number": college.graduate.student_number, "location": "上海",
         "health": "cough"},
        {"student_number": college.graduate.student_number, "province": "北京",
         "health": "unwell?"},
    ]
    answer = client.post(f"/api/v1/daily/{today}/statuses", json={"statuses": rows},
                         headers=counsellor_token)
    result = answer.get_json()
    assert answer.status_code == 200, result
    assert result["applied"] == 1
    refused = {r["index"]: r["code"] for r in result["refused"]}
    assert refused[1] == "sheet-not-your-student"
    assert refused[3] == "sheet-invalid-health"
    status = db.session.scalars(select(DailyStatus)).one()
    assert (status.student_id, status.province, status.health) == (
        college.own_student.id, "湖北", "fever")
    day = client.get(f"/api/v1/daily/{today}/statuses?show=all",
                     headers=counsellor_token).get_json()
    by_number = {s["student_number"]: s for s in day["items"]}
    assert by_number[college.own_student.student_number]["confirmed"] is True
    assert by_number[college.graduate.student_number]["confirmed"] is False


def test_statuses_are_recorded_for_today_only(client, college, counsellor_token):
    yesterday = (local_today(NOW) - timedelta(days=1)).isoformat()
    answer = client.post(f"/api/v1/daily/{yesterday}/statuses", json={"statuses": [
        {"student_number": college.own_student.student_number, "province": "北京",
         "health": "normal"}]}, headers=counsellor_token)
    assert answer.status_code == 422 and answer.get_json()["code"] == "api-not-today"


def test_reports_rechecks_categories(client, college, counsellor_token):
    today = local_today(NOW).isoformat()
    reports = client.get(f"/api/v1/daily/{today}/reports", headers=counsellor_token).get_json()
    assert reports["reports"][0]["status"] == "missing"
    assert client.get("/api/v1/rechecks", headers=counsellor_token).get_json()["items"] == []
    factories.CategoryFactory(code="hubei", name_zh="在湖北")
    db.session.commit()
    codes = [c["code"] for c in client.get("/api/v1/categories",
                                           headers=counsellor_token).get_json()["items"]]
    assert "hubei" in codes


def test_a_stale_referral_step_is_409(client, college):
    referral = factories.ReferralFactory(student=college.graduate, supervisor=college.supervisor,
                                         referred_by=college.counsellor)
    db.session.commit()
    headers = bearer(token_for(college.supervisor))
    inbox = client.get("/api/v1/referrals", headers=headers).get_json()
    assert [r["id"] for r in inbox["items"]] == [referral.id]
    version = inbox["items"][0]["version"]
    url = f"/api/v1/referrals/{referral.id}/steps"
    accepted = client.post(url, json={"step": "accepted", "version": version}, headers=headers)
    assert accepted.status_code == 201, accepted.get_json()
    stale = client.post(url, json={"step": "declined", "text": "没空", "version": version},
                        headers=headers)
    assert stale.status_code == 409 and stale.mimetype == "application/problem+json"


def test_an_unknown_api_url_is_a_problem(client):
    answer = client.get("/api/v1/nothing-here")
    assert answer.status_code == 404 and answer.mimetype == "application/problem+json"


def test_a_token_from_the_command_line_reads_the_caseload(app, client, college):
    result = app.test_cli_runner().invoke(args=[
        "api", "create-token", college.counsellor.username, "--scope", "read"])
    secret = result.output.strip()
    assert secret.startswith("ct_")
    answer = client.get("/api/v1/students", headers=bearer(secret)).get_json()
    assert {s["name"] for s in answer["items"]} == {"陈小明", "赵研究"}


def test_calls_beyond_the_limit_are_a_429_problem_for_that_caller_only(make_app, college):
    app = make_app(API_LIMIT="3 per minute")
    client = app.test_client()
    with app.app_context():
        mine = token_for(db.session.merge(college.counsellor))
        theirs = token_for(db.session.merge(college.other_counsellor))
    answers = [client.get("/api/v1/students", headers=bearer(mine)) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].mimetype == "application/problem+json"
    assert answers[-1].get_json()["status"] == 429
    assert client.get("/api/v1/students", headers=bearer(theirs)).status_code == 200
