"""The colleges: the list, adding one, changing one."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caretrack.colleges import bp
from caretrack.colleges.forms import CollegeForm
from caretrack.extensions import db
from caretrack.models import College, now_utc
from caretrack.services.colleges import college_rows, save_college
from caretrack.services.errors import RuleError
from caretrack.web import client_address, commit_write, show_rule_error


@bp.get("/")
def index():
    """List the colleges with their students and their admins."""
    return render_template("colleges/index.html", rows=college_rows())


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:college_id>", methods=["GET", "POST"])
def edit(college_id: int | None = None):
    """Add a college, or change its code and names."""
    college = db.get_or_404(College, college_id) if college_id else None
    form = CollegeForm(obj=college)
    if form.validate_on_submit():
        try:
            commit_write(lambda: save_college(
                current_user, college, code=form.code.data, name_zh=form.name_zh.data,
                name_en=form.name_en.data or "", now=now_utc(), ip=client_address()))
        except RuleError as error:
            show_rule_error(form, error)
        else:
            flash(_("College %(code)s saved.", code=form.code.data), "success")
            return redirect(url_for("colleges.index"))
    return render_template("colleges/form.html", form=form, college=college)
