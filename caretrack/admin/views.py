"""The admin's accounts: the list, opening one, changing one."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from caretrack.access import (
    assignable_roles,
    get_account_or_404,
    manageable_accounts,
    manages_colleges,
)
from caretrack.admin import bp
from caretrack.admin.forms import UserForm
from caretrack.extensions import db
from caretrack.models import College, User, now_utc
from caretrack.services.errors import RuleError
from caretrack.services.retention import upcoming_warning
from caretrack.services.users import change_account, open_account
from caretrack.web import client_address, commit_write, show_rule_error
from caretrack.work.views import landing_jobs


def _user_form(**kwargs) -> UserForm:
    form = UserForm(**kwargs)
    colleges = list(db.session.scalars(select(College).order_by(College.code))) \
        if manages_colleges(current_user) else None
    form.offer(assignable_roles(current_user), colleges)
    return form


def _college_posted(form: UserForm) -> int | None:
    return form.college_id.data or None if "college_id" in form else None


@bp.get("/users")
def users():
    query = manageable_accounts(current_user).order_by(User.role, User.username)
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("admin/users.html", page=page,
                           retention_warning=upcoming_warning(current_user, now_utc()),
                           recent_jobs=landing_jobs(current_user))


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = _user_form()
    if form.validate_on_submit():
        try:
            user = commit_write(lambda: open_account(
                current_user, username=form.username.data, display_name=form.display_name.data,
                role=form.role.data, password=form.password.data, email=form.email.data,
                active=form.active.data, college_id=_college_posted(form), now=now_utc(),
                ip=client_address(),
            )).result
        except RuleError as error:
            show_rule_error(form, error)
        else:
            flash(_("Account %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = get_account_or_404(user_id, current_user)
    form = _user_form(obj=user)
    form.username.render_kw = {"readonly": True}
    if request.method == "POST":
        form.username.data = user.username
    if form.validate_on_submit():
        try:
            commit_write(lambda: change_account(
                current_user, user, display_name=form.display_name.data, role=form.role.data,
                active=form.active.data, email=form.email.data, password=form.password.data,
                college_id=_college_posted(form), now=now_utc(), ip=client_address(),
            ))
        except RuleError as error:
            show_rule_error(form, error)
        else:
            flash(_("Account %(name)s saved.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user)
