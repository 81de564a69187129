"""The admin's status rules (what a worrying daily status sets in motion) and the college's
risk-area list."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caretrack.admin import bp
from caretrack.admin.forms import RiskAreaForm, StatusRuleForm
from caretrack.extensions import db
from caretrack.models import RiskArea, StatusRule, now_utc
from caretrack.services.categories import all_categories
from caretrack.services.errors import RuleError
from caretrack.services.status_rules import (
    all_risk_areas,
    rule_table,
    save_risk_area,
    save_rule,
)
from caretrack.web import client_address, commit_write, show_rule_error


@bp.get("/status-rules")
def status_rules():
    categories = {c.code: c for c in all_categories()}
    return render_template("admin/status_rules.html", rules=rule_table(),
                           categories=categories, areas=all_risk_areas())


@bp.route("/status-rules/<int:rule_id>", methods=["GET", "POST"])
def edit_status_rule(rule_id: int):
    rule = db.get_or_404(StatusRule, rule_id)
    form = StatusRuleForm(obj=rule)
    form.category_code.choices = [("", _("None"))] + [
        (c.code, c.name_zh) for c in all_categories()]
    if form.validate_on_submit():
        try:
            commit_write(lambda: save_rule(
                rule, current_user, now=now_utc(), ip=client_address(),
                concern_level=form.concern_level.data, category_code=form.category_code.data,
                schedules_recheck=form.schedules_recheck.data, active=form.active.data))
        except RuleError as error:
            show_rule_error(form, error)
        else:
            flash(_("Status rule saved."), "success")
            return redirect(url_for("admin.status_rules"))
    return render_template("admin/status_rule_form.html", form=form, rule=rule)


@bp.route("/risk-areas/new", methods=["GET", "POST"])
@bp.route("/risk-areas/<int:area_id>", methods=["GET", "POST"])
def edit_risk_area(area_id: int | None = None):
    area = db.get_or_404(RiskArea, area_id) if area_id else None
    form = RiskAreaForm(obj=area)
    if form.validate_on_submit():
        fields = {name: form[name].data for name in (
            "province", "city", "from_date", "to_date", "note")}
        try:
            commit_write(lambda: save_risk_area(
                area, current_user, now=now_utc(), ip=client_address(), **fields))
        except RuleError as error:
            show_rule_error(form, error)
        else:
            flash(_("Risk area saved."), "success")
            return redirect(url_for("admin.status_rules"))
    return render_template("admin/risk_area_form.html", form=form, area=area)
