"""The admin's care categories: names in both languages, colour, re-check cadence, isolation
window."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caretrack.admin import bp
from caretrack.admin.forms import CategoryForm
from caretrack.extensions import db
from caretrack.models import CareCategory, now_utc
from caretrack.services.categories import all_categories, save_category
from caretrack.services.errors import RuleError
from caretrack.web import client_address, commit_write, show_rule_error

FIELDS = ("code", "name_zh", "name_en", "colour", "cadence_days", "isolation_days", "active")


@bp.get("/categories")
def categories():
    return render_template("admin/categories.html", categories=all_categories())


@bp.route("/categories/new", methods=["GET", "POST"])
@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
def edit_category(category_id: int | None = None):
    category = db.get_or_404(CareCategory, category_id) if category_id else None
    form = CategoryForm(obj=category)
    if form.validate_on_submit():
        fields = {name: form[name].data for name in FIELDS}
        try:
            commit_write(lambda: save_category(
                category, current_user, now=now_utc(), ip=client_address(), **fields
            ))
        except RuleError as error:
            show_rule_error(form, error)
        else:
            flash(_("Care category saved."), "success")
            return redirect(url_for("admin.categories"))
    return render_template("admin/category_form.html", form=form, category=category)
