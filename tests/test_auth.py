"""Signing in and out, sessions that end, safe redirects, CSRF."""

from urllib.parse import unquote

import pytest
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import AuditEvent, User
from tests import factories
from tests.helpers import text_of


def test_login_page_is_chinese_by_default(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "登录" in response.get_data(as_text=True)


def test_login_with_good_password_lands_on_start_page(client, auth, college):
    response = auth.login(college.counsellor)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "李老师" in page


def test_wrong_password_keeps_username_and_says_why(client, college):
    response = client.post("/login", data={"username": college.counsellor.username,
                                           "password": "nope"})
    body = response.get_data(as_text=True)
    assert "用户名或密码错误" in body
    assert f'value="{college.counsellor.username}"' in body
    failed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed")).all()
    assert len(failed) == 1


def test_inactive_user_cannot_sign_in(client, auth, college):
    college.counsellor.active = False
    db.session.commit()
    response = auth.login(college.counsellor)
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_pages_need_sign_in(client):
    response = client.get("/students/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_logout_is_post_only(client, auth, college):
    auth.login(college.counsellor)
    assert client.get("/logout").status_code == 405


def test_cookie_saved_before_logout_is_refused_after(app, client, auth, college):
    auth.login(college.counsellor)
    saved = client.get_cookie("session").value
    assert client.get("/students/").status_code == 200
    auth.logout()
    replay = app.test_client()
    replay.set_cookie("session", saved)
    response = replay.get("/students/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_password_change_ends_other_sessions(app, client, auth, college):
    auth.login(college.counsellor)
    other = app.test_client()
    other.post("/login", data={"username": college.counsellor.username,
                               "password": factories.PASSWORD})
    assert other.get("/students/").status_code == 200
    response = client.post("/account/password", data={
        "current_password": factories.PASSWORD, "new_password": "a-much-longer-secret",
        "confirm": "a-much-longer-secret"})
    assert response.status_code == 302
    assert client.get("/students/").status_code == 200  # this session continues
    assert other.get("/students/").status_code == 302  # the other one is over


def test_password_change_errors_are_shown_next_to_fields(client, auth, college):
    auth.login(college.counsellor)
    response = client.post("/account/password", data={
        "current_password": "wrong", "new_password": "short", "confirm": "different"})
    body = response.get_data(as_text=True)
    assert "请使用 12 到 128 个字符" in body
    assert "两次输入的密码不一致" in body


def test_deactivation_ends_sessions(app, client, auth, college):
    auth.login(college.counsellor)
    assert client.get("/students/").status_code == 200
    admin = app.test_client()
    admin.post("/login", data={"username": college.admin.username,
                               "password": factories.PASSWORD})
    admin.post(f"/admin/users/{college.counsellor.id}", data={
        "display_name": "李老师", "role": "counsellor", "email": "", "password": ""})
    assert db.session.get(User, college.counsellor.id).active is False
    assert client.get("/students/").status_code == 302


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "https:evil.example", "https://evil.example", "/\\evil.example",
     "javascript:alert(1)", "///evil.example", "/\t/evil.example"],
)
def test_next_never_leaves_the_site(client, auth, college, target):
    response = auth.login(college.counsellor, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_to_a_local_path_is_followed(client, auth, college):
    response = auth.login(college.counsellor, next_url="/students/?q=陈")
    assert unquote(response.headers["Location"]) == "/students/?q=陈"


def test_post_without_csrf_token_changes_nothing(college, make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/login", data={"username": college.counsellor.username,
                                           "password": factories.PASSWORD})
    assert response.status_code == 400
    assert client.get("/students/").status_code == 302  # not signed in
    json_post = client.post("/account", json={"locale": "en"})
    assert json_post.status_code == 400


def test_csrf_token_makes_the_form_work(college, make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": college.counsellor.username,
                                           "password": factories.PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert client.get("/students/").status_code == 200


def test_signed_in_json_post_without_token_is_refused(college, make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"username": college.counsellor.username,
                                "password": factories.PASSWORD, "csrf_token": token})
    response = client.post("/account", json={"locale": "en", "email": "x@example.org"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, college.counsellor.id).locale == "zh_CN"


def test_a_wrong_current_password_is_said_beside_it_and_changes_nothing(client, auth, college):
    auth.login(college.counsellor)
    response = client.post("/account/password", data={
        "current_password": "not-my-password", "new_password": "a-much-longer-secret",
        "confirm": "a-much-longer-secret"})
    assert response.status_code == 200
    assert "当前密码不正确。" in text_of(response)
    assert db.session.get(User, college.counsellor.id).check_password(factories.PASSWORD)
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "password.change")).all()


def test_sign_in_sign_out_and_password_change_are_audited_with_the_address(
        client, auth, college):
    auth.login(college.counsellor, password="wrong")
    auth.login(college.counsellor)
    client.post("/account/password", data={
        "current_password": factories.PASSWORD, "new_password": "a-much-longer-secret",
        "confirm": "a-much-longer-secret"})
    auth.logout()
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.user_id, e.ip) for e in events] == [
        ("login.failed", None, "127.0.0.1"),
        ("login", college.counsellor.id, "127.0.0.1"),
        ("password.change", college.counsellor.id, "127.0.0.1"),
        ("logout", college.counsellor.id, "127.0.0.1"),
    ]
    assert events[0].detail == college.counsellor.username


def test_the_admin_opens_and_changes_accounts(client, auth, college):
    auth.login(college.admin)
    no_password = client.post("/admin/users/new", data={
        "username": "new.counsellor", "display_name": "周老师", "role": "counsellor",
        "email": "", "active": "y", "password": ""})
    assert "新账号需要设置密码。" in text_of(no_password)
    taken = client.post("/admin/users/new", data={
        "username": college.counsellor.username, "display_name": "周老师",
        "role": "counsellor", "email": "", "active": "y", "password": "a-long-password"})
    assert "该用户名已被占用。" in text_of(taken)
    created = client.post("/admin/users/new", data={
        "username": "new.counsellor", "display_name": "周老师", "role": "counsellor",
        "email": "", "active": "y", "password": "a-long-password"})
    assert created.status_code == 302
    user = db.session.scalars(select(User).where(User.username == "new.counsellor")).one()
    assert (user.display_name, user.active, user.check_password("a-long-password")) == (
        "周老师", True, True)
    own = client.post(f"/admin/users/{college.admin.id}", data={
        "display_name": "管理员", "role": "admin", "email": "", "password": ""})
    assert "不能停用自己的账号。" in text_of(own)
    assert db.session.get(User, college.admin.id).active is True
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(("user.create", "user.update")))).all()
    assert [(e.action, e.user_id, e.detail, e.ip) for e in events] == [
        ("user.create", college.admin.id, f"user:{user.id}", "127.0.0.1")]
