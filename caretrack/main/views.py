"""The landing page of each role."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from caretrack.models import Role
from caretrack.services.students import category_counts

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def index():
    if current_user.role == Role.ADMIN:
        return redirect(url_for("admin.users"))
    return render_template("main/index.html", counts=category_counts(current_user))
