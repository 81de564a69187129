"""The admin's pages: accounts and the roster. The admin never reads case timelines."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from caretrack.access import can_manage_roster, roster_students
from caretrack.admin.forms import UserForm
from caretrack.extensions import db
from caretrack.models import Student, User
from caretrack.services.audit import record_event
from caretrack.services.users import UsernameTaken, create_user, reset_password, update_user

bp = Blueprint("admin", __name__)


@bp.before_request
@login_required
def require_admin():
    if not can_manage_roster(current_user):
        abort(404)


@bp.get("/users")
def users():
    query = select(User).order_by(User.role, User.username)
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("admin/users.html", page=page)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = UserForm()
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors.append(_("A new account needs a password."))
        else:
            try:
                user = create_user(
                    form.username.data, form.display_name.data, form.role.data,
                    form.password.data, form.email.data or None,
                )
            except UsernameTaken:
                form.username.errors.append(_("This username is taken."))
            else:
                user.active = form.active.data
                record_event("user.create", current_user, detail=f"user:{user.id}")
                db.session.commit()
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
        if user.id == current_user.id and not form.active.data:
            form.active.errors.append(_("You cannot deactivate your own account."))
        else:
            update_user(
                user, display_name=form.display_name.data, role=form.role.data,
                active=form.active.data, email=form.email.data,
            )
            if form.password.data:
                reset_password(user, form.password.data)
            record_event("user.update", current_user, detail=f"user:{user.id}")
            db.session.commit()
            flash(_("Account %(name)s saved.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user)


@bp.get("/roster")
def roster():
    q = request.args.get("q", "").strip()[:100]
    query = roster_students(current_user).order_by(Student.student_number)
    if q:
        pattern = f"%{q}%"
        query = query.where(or_(Student.name.ilike(pattern), Student.student_number.ilike(pattern)))
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("admin/roster.html", page=page, q=q)
