"""The college's sign-off of a day: each stage's state and deadline, what the current stage
signs (exactly what the stage before passed on), and its two steps: pass on, or return."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Length, Optional, Regexp

from caretrack.access import requires, signs_stage, takes_part_in_sign_off
from caretrack.reports import bp
from caretrack.reports.pages import current_time, day_asked, flash_refusal
from caretrack.services.clock import local_today
from caretrack.services.daily import sign_off
from caretrack.services.errors import RuleError
from caretrack.web import client_address, commit_write


class SignOffForm(FlaskForm):
    """A step of the current stage, on the version of the chain the page showed."""

    day = HiddenField(validators=[Regexp(r"^\d{4}-\d{2}-\d{2}$")])
    version = HiddenField(validators=[Regexp(r"^\d{1,9}$")])
    comment = TextAreaField(validators=[Optional(), Length(max=2000)])


@bp.get("/sign-off/")
@requires(takes_part_in_sign_off)
def sign_off_page():
    """Show the day's chain of the user's college and what its current stage signs."""
    now = current_time()
    today = local_today(now)
    day = day_asked(today)
    chain = sign_off.chain(current_user.college, day, now)
    form = SignOffForm(formdata=None, day=day.isoformat(), version=str(chain.version))
    return render_template("reports/sign_off.html", chain=chain, day=day, today=today,
                           form=form, my_turn=not chain.done and signs_stage(
                               current_user, chain.current))


def _step(verb, success: str):
    form = SignOffForm()
    day = request.form.get("day", "")
    if not form.validate_on_submit():
        return redirect(url_for("reports.sign_off_page", date=day or None))
    from datetime import date

    the_day = date.fromisoformat(form.day.data)
    try:
        commit_write(lambda: verb(current_user, the_day, current_time(),
                                  version=int(form.version.data), comment=form.comment.data or "",
                                  ip=client_address()))
    except RuleError as error:
        flash_refusal(error)
    else:
        flash(success, "success")
    return redirect(url_for("reports.sign_off_page", date=the_day.isoformat()))


@bp.post("/sign-off/pass")
@requires(takes_part_in_sign_off)
def sign_off_pass():
    """Approve the college's report at the user's stage and pass it on (the last stage: send
    it to the university office)."""
    return _step(sign_off.pass_on, _("The college's report is passed on."))


@bp.post("/sign-off/return")
@requires(takes_part_in_sign_off)
def sign_off_return():
    """Return the college's report to the stage before, saying why."""
    return _step(sign_off.return_to_previous, _("The college's report is returned."))
