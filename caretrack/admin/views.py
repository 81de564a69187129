"""The admin's accounts: the list, opening one, changing one."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from caretrack.admin import bp
from caretrack.admin.forms import UserForm
from caretrack.extensions import db
from caretrack.models import User, now_utc
from caretrack.services.errors import RuleError
from caretrack.services.retention import upcoming_warning
from caretrack.services.users import change_account, open_account
from caretrack.web import client_address, commit_write, show_rule_error
from caretrack.work.views import landing_jobs


@bp.get("/users")
def users():
    query = select(User).order_by(User.role, User.username)
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("admin/users.html", page=page,
                           retention_warning=upcoming_warning(current_user, now_utc()),
                           recent_jobs=landing_jobs(current_user))


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = commit_write(lambda: open_account(
                current_user, username=form.username.data, display_name=form.display_name.data,
                role=form.role.data, password=form.password.data, email=form.email.data,
                active=form.active.data, now=now_utc(), ip=client_address(),
            )).result
        except RuleError as error:
            show_rule_error(form, error)
        else:
            flash(_("Account %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    form.username.render_kw = {"readonly": True}
    if request.method == "POST":
        form.username.data = user.username
    if form.validate_on_submit():
        try:
            commit_write(lambda: change_account(
                current_user, user, display_name=form.display_name.data, role=form.role.data,
                active=form.active.data, email=form.email.data, password=form.password.data,
                now=now_utc(), ip=client_address(),
            ))
        except RuleError as error:
            show_rule_error(form, error)
        else:
            flash(_("Account %(name)s saved.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user)
