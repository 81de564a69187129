"""Sign in, sign out, and the user's own account settings."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from caretrack.auth.forms import ChangePasswordForm, LoginForm, PreferencesForm
from caretrack.auth.services import authenticate, change_password, is_safe_next
from caretrack.extensions import db
from caretrack.services.audit import record_event

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = authenticate(form.username.data, form.password.data)
        if user is None:
            record_event("login.failed", None, detail=form.username.data[:64])
            db.session.commit()
            form.password.errors.append(_("Wrong username or password."))
        else:
            language = session.get("lang")
            session.clear()  # a fresh session at sign-in; the chosen language stays
            if language:
                session["lang"] = language
            login_user(user)
            record_event("login", user)
            db.session.commit()
            target = form.next.data
            return redirect(target if is_safe_next(target) else url_for("main.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    current_user.end_sessions()
    record_event("logout", current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = PreferencesForm(obj=current_user)
    if form.validate_on_submit():
        current_user.locale = form.locale.data
        current_user.email = form.email.data.strip() or None
        session.pop("lang", None)
        db.session.commit()
        flash(_("Your settings are saved."), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            user = current_user._get_current_object()
            change_password(user, form.new_password.data)
            record_event("password.change", user)
            db.session.commit()
            login_user(user)  # this session continues with the new token
            flash(_("Your password is changed; other sessions are signed out."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form)
