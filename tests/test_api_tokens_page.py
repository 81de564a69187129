"""The account page's personal access tokens: create one (the secret shown once), list them
with their scope, expiry and last use, and revoke one."""

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import ApiToken, AuditEvent
from caretrack.services.api_tokens import create_token, digest
from tests import factories


def _secret(page: str) -> str:
    return re.search(r'id="token-secret" type="text" value="(ct_[^"]+)"', page).group(1)


def test_a_token_created_on_the_account_page_is_shown_once_and_works(client, auth, college):
    auth.login(college.counsellor)
    answer = client.post("/account/tokens", data={
        "name": "校园 App 打卡", "scope": "read_write", "days": "90"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    secret = _secret(page)
    assert "data-copy=\"#token-secret\"" in page
    token = db.session.scalars(select(ApiToken)).one()
    assert (token.name, token.scope, token.user_id) == ("校园 App 打卡", "read_write",
                                                       college.counsellor.id)
    assert token.token_hash == digest(secret)
    assert timedelta(days=89) < token.expires_at - datetime.now(UTC) <= timedelta(days=90)
    assert db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "api_token.create")).one().user_id == college.counsellor.id
    # The account page lists it, but never shows the secret again.
    account = client.get("/account").get_data(as_text=True)
    assert "校园 App 打卡" in account and token.prefix in account and secret not in account
    assert "Never" in account or "从未" in account
    # The token reads the caseload, and its use is shown.
    client.post("/logout")
    assert client.get("/api/v1/students",
                      headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    auth.login(college.counsellor)
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at is not None
    assert "Never" not in client.get("/account").get_data(as_text=True)


def test_a_bad_token_form_says_why_and_creates_nothing(client, auth, college):
    auth.login(college.counsellor)
    answer = client.post("/account/tokens", data={"name": "  ", "scope": "admin",
                                                  "days": "1000"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert page.count("invalid-feedback") >= 3  # the name, the scope, the expiry
    assert 'id="token-secret"' not in page
    assert db.session.scalars(select(ApiToken)).all() == []


def test_a_revoked_token_answers_401_and_another_users_token_is_404(client, auth, college):
    mine, secret = create_token(college.counsellor, name="mine", scope="read", days=7,
                                now=datetime.now(UTC))
    theirs, their_secret = create_token(college.other_counsellor, name="theirs", scope="read",
                                        days=7, now=datetime.now(UTC))
    db.session.commit()
    auth.login(college.counsellor)
    account = client.get("/account").get_data(as_text=True)
    assert "mine" in account and "theirs" not in account
    assert client.post(f"/account/tokens/{theirs.id}/revoke").status_code == 404
    answer = client.post(f"/account/tokens/{mine.id}/revoke")
    assert answer.status_code == 302 and answer.location.endswith("/account#api-tokens")
    # A double submit changes nothing.
    assert client.post(f"/account/tokens/{mine.id}/revoke").status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, mine.id).revoked_at is not None
    assert db.session.get(ApiToken, theirs.id).revoked_at is None
    assert len(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "api_token.revoke")).all()) == 1
    client.post("/logout")
    assert client.get("/api/v1/students",
                      headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert client.get("/api/v1/students",
                      headers={"Authorization": f"Bearer {their_secret}"}).status_code == 200


def test_revoking_needs_the_csrf_token(make_app, college):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"username": college.counsellor.username,
                                "password": factories.PASSWORD, "csrf_token": csrf})
    with app.app_context():
        token, _secret = create_token(db.session.merge(college.counsellor), name="x",
                                      scope="read", days=7, now=datetime.now(UTC))
        db.session.commit()
        token_id = token.id
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 400
    assert client.post("/account/tokens", data={"name": "y", "scope": "read",
                                                "days": "7"}).status_code == 400
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None
        assert len(db.session.scalars(select(ApiToken)).all()) == 1
