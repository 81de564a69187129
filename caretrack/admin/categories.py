"""The admin's care categories: names in both languages, colour, re-check cadence, isolation
window. Routes on the admin blueprint."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caretrack.admin.forms import CategoryForm
from caretrack.admin.views import bp
from caretrack.extensions import db
from caretrack.models import CareCategory
from caretrack.services.audit import record_event
from caretrack.services.categories import CategoryCodeTaken, all_categories, save_category

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
        try:
            saved = save_category(category, **{name: form[name].data for name in FIELDS})
        except CategoryCodeTaken:
            form.code.errors.append(_("Another category has this code."))
        else:
            record_event("category.save", current_user, detail=f"category:{saved.id}")
            db.session.commit()
            flash(_("Care category saved."), "success")
            return redirect(url_for("admin.categories"))
    return render_template("admin/category_form.html", form=form, category=category)
