"""Sign in (with a second factor where one is set or required), sign out, and the user's own
account settings."""

import time

from flask import (
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from caretrack.access import needs_two_factor
from caretrack.auth import bp
from caretrack.auth.forms import (
    ChangePasswordForm,
    ConfirmForm,
    EnrolForm,
    LoginForm,
    PreferencesForm,
    SecondFactorForm,
)
from caretrack.auth.reminders import reminder_context
from caretrack.auth.services import (
    change_password,
    disable_two_factor,
    enable_two_factor,
    is_safe_next,
    load_user_from_cookie_id,
    new_recovery_codes,
    new_totp_secret,
    pass_second_factor,
    record_sign_in,
    record_throttled,
    save_preferences,
    sign_in,
    sign_out,
    totp_qr,
    unused_recovery_codes,
)
from caretrack.auth.tokens import token_context
from caretrack.extensions import limiter
from caretrack.messages import message
from caretrack.models import User, now_utc
from caretrack.security import (
    account_key,
    address_key,
    config_limit,
    failed,
    start_session,
    wait_minutes,
)
from caretrack.services.errors import RuleError
from caretrack.web import client_address, commit_write, show_rule_error

#: How long a right password waits for its second factor.
PENDING_SECONDS = 300


def two_factor_required(user: User) -> bool:
    """Whether this install makes ``user`` sign in with a second factor."""
    return current_app.config.get("REQUIRE_TWO_FACTOR", False) and needs_two_factor(user)


def refuse_sign_in(limit):
    """Flask-Limiter's answer once an account or an address has failed too often: the form
    again, with how long to wait, status 429; the refused try is audited."""
    commit_write(lambda: record_throttled(request.form.get("username", ""), now=now_utc(),
                                          ip=client_address()))
    text = message("sign-in-wait", minutes=wait_minutes(limit))
    if request.endpoint == "auth.login":
        form = LoginForm()
        form.password.errors = [text]
        return make_response(render_template("auth/login.html", form=form), 429)
    form = SecondFactorForm()
    form.code.errors = [text]
    return make_response(render_template("auth/two_factor.html", form=form), 429)


def throttled(view):
    """At most LOGIN_FAILURE_LIMIT failed tries per account and per address (POST only)."""
    for key in (account_key, address_key):
        view = limiter.limit(config_limit("LOGIN_FAILURE_LIMIT"), key_func=key,
                             methods=["POST"], deduct_when=lambda response: failed(),
                             on_breach=refuse_sign_in, scope=f"login-{key.__name__}")(view)
    return view


def pending_user() -> User | None:
    """The user whose password was right, while their second factor is awaited."""
    pending = session.get("pending_user")
    if not pending or time.time() - session.get("pending_at", 0) > PENDING_SECONDS:
        return None
    return load_user_from_cookie_id(pending)


def finish_sign_in(user: User, target: str | None):
    start_session(user)
    return redirect(target if is_safe_next(target) else url_for("main.index"))


@bp.route("/login", methods=["GET", "POST"])
@throttled
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        outcome = commit_write(lambda: sign_in(
            form.username.data, form.password.data, require_two_factor=two_factor_required,
            now=now_utc(), ip=client_address(),
        )).result
        if outcome.user is None:
            g.failed_try = True
            form.password.errors.append(_("Wrong username or password."))
        elif outcome.second_factor:
            language = session.get("lang")
            session.clear()
            if language:
                session["lang"] = language
            session.update(pending_user=outcome.user.get_id(), pending_at=int(time.time()),
                           pending_next=form.next.data or "")
            return redirect(url_for("auth.two_factor_setup" if outcome.enrol
                                    else "auth.two_factor"))
        else:
            return finish_sign_in(outcome.user, form.next.data)
    elif request.method == "POST":
        g.failed_try = True
    return render_template("auth/login.html", form=form)


@bp.route("/login/two-factor", methods=["GET", "POST"])
@throttled
def two_factor():
    user = pending_user()
    if user is None or not user.totp_secret:
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        passed = commit_write(lambda: pass_second_factor(
            user, form.code.data, now=now_utc(), ip=client_address())).result
        if passed:
            return finish_sign_in(user, session.get("pending_next"))
        g.failed_try = True
        form.code.errors.append(message("two-factor-wrong"))
    elif request.method == "POST":
        g.failed_try = True
    return render_template("auth/two_factor.html", form=form)


def enrol(user: User, *, signing_in: bool):
    """The enrolment page: a secret kept in the session until a code proves the app has it;
    then the recovery codes, shown once."""
    secret = session.get("enrol_secret") or new_totp_secret()
    session["enrol_secret"] = secret
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = commit_write(lambda: enable_two_factor(
                user, secret, form.code.data, now=now_utc(), ip=client_address())).result
        except RuleError as error:
            g.failed_try = True
            show_rule_error(form, error)
        else:
            session.pop("enrol_secret", None)
            if signing_in:
                target = session.get("pending_next")
                start_session(user)
                commit_write(lambda: record_sign_in(user, now=now_utc(), ip=client_address()))
                return render_template("auth/recovery_codes.html", codes=codes,
                                       next=target if is_safe_next(target) else None)
            return render_template("auth/recovery_codes.html", codes=codes, next=None)
    return render_template("auth/enrol.html", form=form, qr=totp_qr(user, secret, "CareTrack"),
                           secret=secret, signing_in=signing_in,
                           required=two_factor_required(user))


@bp.route("/login/two-factor/setup", methods=["GET", "POST"])
@throttled
def two_factor_setup():
    user = pending_user()
    if user is None or user.totp_secret:
        return redirect(url_for("auth.login"))
    return enrol(user, signing_in=True)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def account_two_factor():
    user = current_user._get_current_object()
    if not user.totp_secret:
        return enrol(user, signing_in=False)
    return render_template("auth/two_factor_account.html", form=ConfirmForm(),
                           required=two_factor_required(user),
                           remaining=unused_recovery_codes(user))


@bp.post("/account/two-factor/recovery-codes")
@login_required
def account_recovery_codes():
    user = current_user._get_current_object()
    if not user.totp_secret or not ConfirmForm().validate_on_submit():
        return redirect(url_for("auth.account_two_factor"))
    codes = commit_write(lambda: new_recovery_codes(user, now=now_utc(),
                                                    ip=client_address())).result
    return render_template("auth/recovery_codes.html", codes=codes, next=None)


@bp.post("/account/two-factor/off")
@login_required
def account_two_factor_off():
    user = current_user._get_current_object()
    if ConfirmForm().validate_on_submit():
        try:
            commit_write(lambda: disable_two_factor(
                user, required=two_factor_required(user), now=now_utc(), ip=client_address()))
        except RuleError as error:
            flash(message(error.code), "danger")
        else:
            flash(_("Two-factor sign-in is off."), "info")
    return redirect(url_for("auth.account_two_factor"))


@bp.post("/logout")
@login_required
def logout():
    user = current_user._get_current_object()
    commit_write(lambda: sign_out(user, now=now_utc(), ip=client_address()))
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = PreferencesForm(obj=current_user)
    if form.validate_on_submit():
        user = current_user._get_current_object()
        commit_write(lambda: save_preferences(user, locale=form.locale.data,
                                              email=form.email.data))
        session.pop("lang", None)
        flash(_("Your settings are saved."), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, **token_context(),
                           **reminder_context(current_user))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            commit_write(lambda: change_password(
                user, form.current_password.data, form.new_password.data, now=now_utc(),
                ip=client_address(),
            ))
        except RuleError as error:
            show_rule_error(form, error)
        else:
            start_session(user)  # this session continues with the new token
            flash(_("Your password is changed; other sessions are signed out."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form)
