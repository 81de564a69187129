"""Sign in, sign out, and the user's own account settings."""

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from caretrack.auth import bp
from caretrack.auth.forms import ChangePasswordForm, LoginForm, PreferencesForm
from caretrack.auth.services import (
    change_password,
    is_safe_next,
    save_preferences,
    sign_in,
    sign_out,
)
from caretrack.auth.tokens import token_context
from caretrack.models import now_utc
from caretrack.services.errors import RuleError
from caretrack.web import client_address, commit_write, show_rule_error


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = commit_write(lambda: sign_in(
            form.username.data, form.password.data, now=now_utc(), ip=client_address()
        )).result
        if user is None:
            form.password.errors.append(_("Wrong username or password."))
        else:
            language = session.get("lang")
            session.clear()  # a fresh session at sign-in; the chosen language stays
            if language:
                session["lang"] = language
            login_user(user)
            target = form.next.data
            return redirect(target if is_safe_next(target) else url_for("main.index"))
    return render_template("auth/login.html", form=form)


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
    return render_template("auth/account.html", form=form, **token_context())


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
            login_user(user)  # this session continues with the new token
            flash(_("Your password is changed; other sessions are signed out."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form)
