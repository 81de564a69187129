"""Findings 1-4: sign-in throttling, no timing difference for unknown users, the password
policy and hashing, two-factor sign-in, and sessions that end."""

import re
import statistics
import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from caretrack.auth.services import authenticate
from caretrack.extensions import db, limiter
from caretrack.models import AuditEvent, RecoveryCode
from caretrack.services.errors import RuleError
from caretrack.services.passwords import check_new_password
from tests import factories
from tests.helpers import text_of


def actions(name):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == name)).all()


def test_twelve_wrong_passwords_make_the_account_wait(client, college):
    statuses = [client.post("/login", data={"username": college.counsellor.username,
                                            "password": f"wrong-{i}"}).status_code
                for i in range(12)]
    assert statuses == [200] * 5 + [429] * 7
    right = client.post("/login", data={"username": college.counsellor.username,
                                        "password": factories.PASSWORD})
    assert right.status_code == 429
    assert "登录失败次数过多。请等待 15 分钟后再试" in text_of(right)
    assert len(actions("login.failed")) == 5
    assert len(actions("login.throttled")) == 8
    assert actions("login.throttled")[0].detail == college.counsellor.username


def test_the_address_waits_too_whatever_the_usernames(client, college):
    for i in range(5):
        client.post("/login", data={"username": f"guess{i}", "password": "x"})
    response = client.post("/login", data={"username": college.deputy.username,
                                           "password": factories.PASSWORD})
    assert response.status_code == 429
    other = client.post("/login", data={"username": college.deputy.username,
                                        "password": factories.PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 302  # another address, an account with no failures


def test_a_right_password_does_not_count(client, auth, college):
    for _ in range(8):
        assert auth.login(college.counsellor).status_code == 302
        auth.logout()


def test_the_limiter_keeps_its_counts_in_redis_when_configured(app, make_app, college):
    import redis

    url = "redis://127.0.0.1:6379/2"
    redis.Redis.from_url(url).ping()  # the suite needs the machine's Redis (.ci/run starts it)
    app = make_app(REDIS_URL=url, RATELIMIT_STORAGE_URI=url)
    try:
        assert type(limiter.storage).__name__ == "RedisStorage"
        limiter.reset()
        client = app.test_client()
        codes = [client.post("/login", data={"username": "nobody", "password": "x"}).status_code
                 for _ in range(6)]
        assert codes == [200] * 5 + [429]
    finally:
        limiter.reset()


def test_unknown_and_known_usernames_take_the_same_time(app, client, college):
    # A real scrypt cost, a quarter of production's (test_production_hashes_with_scrypt_n_2_17
    # checks that one): the unknown name is checked against a dummy hash of the same method.
    method = "scrypt:32768:8:1"
    app.config["PASSWORD_HASH_METHOD"] = method
    college.counsellor.password_hash = generate_password_hash("x" * 20, method=method)
    db.session.commit()

    def timed(name):
        start = time.perf_counter()
        assert authenticate(name, "a wrong password") is None
        return time.perf_counter() - start

    try:
        authenticate("nobody-at-all", "warm the dummy hash")
        pairs = [(timed(college.counsellor.username), timed("nobody-at-all")) for _ in range(5)]
        known = statistics.median(k for k, _ in pairs)
        unknown = statistics.median(u for _, u in pairs)
    finally:
        app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
    assert abs(known - unknown) / known < 0.2, (known, unknown)
    assert known > 0.01  # scrypt N=2^15 is real work


def test_an_old_hash_is_upgraded_at_the_next_sign_in(app, client, auth, college):
    college.counsellor.password_hash = generate_password_hash(factories.PASSWORD,
                                                              method="scrypt:32768:8:1")
    db.session.commit()
    assert auth.login(college.counsellor).status_code == 302
    db.session.refresh(college.counsellor)
    assert college.counsellor.password_hash.startswith(app.config["PASSWORD_HASH_METHOD"] + "$")
    assert college.counsellor.check_password(factories.PASSWORD)


def test_production_hashes_with_scrypt_n_2_17(app, make_app):
    app = make_app(PASSWORD_HASH_METHOD=None)
    with app.app_context():
        from caretrack.services.passwords import hash_password

        assert hash_password("whatever it is").startswith("scrypt:131072:8:1$")


@pytest.mark.parametrize(("password", "code"), [
    ("short-pass1", "password-length"),
    ("x" * 129, "password-length"),
    ("qwerty123456", "password-common"),
    ("password1234", "password-common"),
    ("aaaaaaaaaaaaaaaa", "password-common"),
])
def test_the_policy_refuses_short_long_and_common_passwords(app, password, code):
    with pytest.raises(RuleError) as refused:
        check_new_password(password)
    assert refused.value.code == code


def test_the_demo_password_and_a_128_character_phrase_pass(app):
    check_new_password("caretrack-demo")
    check_new_password("tall-river-" * 11 + "stone12")


def test_a_common_new_password_is_refused_beside_its_field(client, auth, college):
    auth.login(college.counsellor)
    response = client.post("/account/password", data={
        "current_password": factories.PASSWORD, "new_password": "qwerty123456",
        "confirm": "qwerty123456"})
    assert "这个密码太常见或太容易猜到" in text_of(response)
    db.session.refresh(college.counsellor)
    assert college.counsellor.check_password(factories.PASSWORD)


# -- two-factor ----------------------------------------------------------------------------------


def enrol(client, college_user):
    page = client.get("/account/two-factor")
    assert 'src="data:image/svg+xml' in page.get_data(as_text=True)
    with client.session_transaction() as session:
        secret = session["enrol_secret"]
    response = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<li><code>([^<]+)</code></li>", response.get_data(as_text=True))
    return secret, codes


def test_a_counsellor_turns_on_two_factor_and_signs_in_with_it(client, auth, college):
    auth.login(college.counsellor)
    secret, codes = enrol(client, college.counsellor)
    assert len(codes) == 10
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # kept hashed
    auth.logout()
    response = auth.login(college.counsellor)
    assert response.headers["Location"] == "/login/two-factor"
    assert client.get("/").status_code == 302  # not signed in yet
    wrong = client.post("/login/two-factor", data={"code": "000000"})
    assert "验证码错误或已被使用" in text_of(wrong)
    # the code that enrolled cannot be used again; the next one (within the window) can
    ok = client.post("/login/two-factor", data={"code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert ok.status_code == 302 and client.get("/").status_code == 200
    assert [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if e.action.startswith("two_factor")] == [
        "two_factor.enable", "two_factor.recovery_codes", "two_factor.failed"]


def test_a_recovery_code_works_once_and_a_totp_code_cannot_be_replayed(client, auth, college):
    auth.login(college.counsellor)
    secret, codes = enrol(client, college.counsellor)
    auth.logout()
    auth.login(college.counsellor)
    # the code that enrolled cannot sign in again
    assert client.post("/login/two-factor",
                       data={"code": pyotp.TOTP(secret).now()}).status_code == 200
    assert client.post("/login/two-factor", data={"code": codes[0]}).status_code == 302
    auth.logout()
    auth.login(college.counsellor)
    assert client.post("/login/two-factor", data={"code": codes[0]}).status_code == 200


def test_the_deputy_must_enrol_when_two_factor_is_required(app, client, auth, college):
    app.config["REQUIRE_TWO_FACTOR"] = True
    try:
        response = auth.login(college.deputy)
        assert response.headers["Location"] == "/login/two-factor/setup"
        assert client.get("/").status_code == 302
        page = client.get("/login/two-factor/setup")
        assert "开启双重验证登录" in text_of(page)
        with client.session_transaction() as session:
            secret = session["enrol_secret"]
        done = client.post("/login/two-factor/setup", data={"code": pyotp.TOTP(secret).now()})
        assert "你的恢复码" in text_of(done)
        assert client.get("/").status_code == 200
        off = client.post("/account/two-factor/off", follow_redirects=True)
        assert "不能关闭" in text_of(off)
        db.session.refresh(college.deputy)
        assert college.deputy.totp_secret == secret
        # a counsellor is not required to
        auth.logout()
        assert auth.login(college.counsellor).headers["Location"] == "/"
    finally:
        app.config["REQUIRE_TWO_FACTOR"] = False


def test_demo_accounts_skip_two_factor_unless_turned_on():
    from caretrack import create_app

    assert create_app("development", env={}).config["REQUIRE_TWO_FACTOR"] is False
    assert create_app("development", env={"CARETRACK_REQUIRE_2FA": "1"}).config[
        "REQUIRE_TWO_FACTOR"] is True
    assert create_app("production", env={"SECRET_KEY": "k" * 40}).config[
        "REQUIRE_TWO_FACTOR"] is True


# -- sessions ------------------------------------------------------------------------------------


def test_an_idle_session_ends_after_30_minutes(client, auth, college):
    auth.login(college.counsellor)
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session["seen_at"] -= 31 * 60
    response = client.get("/students/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/").status_code == 302


def test_a_session_ends_after_12_hours_however_busy(client, auth, college):
    auth.login(college.counsellor)
    with client.session_transaction() as session:
        session["signed_in_at"] -= 12 * 3600 + 1
    assert client.get("/").status_code == 302


def test_the_limits_are_configurable(app):
    from caretrack import create_app

    made = create_app("testing", env={"CARETRACK_SESSION_IDLE_MINUTES": "5",
                                      "CARETRACK_SESSION_MAX_HOURS": "2"})
    assert made.config["SESSION_IDLE"] == timedelta(minutes=5)
    assert made.config["SESSION_MAX_AGE"] == timedelta(hours=2)


def test_the_session_is_rotated_at_sign_in(client, auth, college):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["lang"] = "en"
    auth.login(college.counsellor)
    with client.session_transaction() as session:
        assert "planted" not in session and session["lang"] == "en"
        assert session["_user_id"].startswith(f"{college.counsellor.id}:")


def test_production_names_the_cookie_host_only():
    from caretrack import create_app

    app = create_app("production", env={"SECRET_KEY": "k" * 40})
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-caretrack"
    client = app.test_client()
    with app.app_context():
        response = client.get("/login?lang=en", base_url="https://example.edu.cn")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-caretrack=") and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie


# -- the production check -------------------------------------------------------------------------


@pytest.mark.parametrize(("env", "says"), [
    ({"SECRET_KEY": "k" * 40, "FLASK_DEBUG": "1"}, "FLASK_DEBUG"),
    ({"SECRET_KEY": "k" * 40, "WEB_CONCURRENCY": "4"}, "REDIS_URL"),
    ({"SECRET_KEY": "k" * 40, "GUNICORN_CMD_ARGS": "-w 4 -b 0.0.0.0:8000"}, "REDIS_URL"),
    ({"SECRET_KEY": "weak"}, "SECRET_KEY"),
])
def test_production_refuses_to_start_and_says_what_is_missing(env, says, capsys):
    from caretrack import create_app

    with pytest.raises(RuntimeError, match=says):
        create_app("production", env=env)
    assert says in capsys.readouterr().err


def test_production_starts_with_several_workers_and_redis():
    from caretrack import create_app

    app = create_app("production", env={"SECRET_KEY": "k" * 40, "WEB_CONCURRENCY": "4",
                                        "REDIS_URL": "redis://127.0.0.1:6379/3"})
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"
