"""The retention policy page: the policy, what will be purged on which day, what was."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caretrack.access import manages_retention, requires, sees_retention
from caretrack.models import DataClass, now_utc
from caretrack.retention import bp
from caretrack.retention.forms import PolicyForm
from caretrack.services import retention
from caretrack.services.errors import RuleError
from caretrack.web import client_address, commit_write, show_rule_error, status_of


def _page(form: PolicyForm, status: int = 200):
    now = now_utc()
    policy = retention.policy_or_default(current_user)
    return render_template(
        "retention/policy.html", form=form, policy=policy, classes=[c.value for c in DataClass],
        schedule=retention.schedule(now, policy),
        purges=retention.past_purges(current_user),
        can_edit=manages_retention(current_user),
    ), status


@bp.get("/")
@requires(sees_retention)
def policy():
    """The college's policy, the next purges with their counts, and the purges that ran."""
    current = retention.policy_or_default(current_user)
    form = PolicyForm(data={
        "version": current.version_id, "emergency_ended_on": current.emergency_ended_on,
        "retention_days": current.retention_days,
        **{f"days_{c}": d for c, d in (current.class_days or {}).items()},
    })
    return _page(form)


@bp.post("/")
@requires(manages_retention)
def save():
    """The deputy or the admin records when the college's emergency ended and the
    periods."""
    form = PolicyForm()
    if not form.validate():
        return _page(form, 200)
    try:
        commit_write(lambda: retention.save_policy(
            current_user, emergency_ended_on=form.emergency_ended_on.data,
            retention_days=form.retention_days.data,
            class_days={c: f.data for c, f in form.class_fields()}, now=now_utc(),
            version=form.version_number(), ip=client_address()), show_conflicts=True)
    except RuleError as error:
        show_rule_error(form, error)
        return _page(form, status_of(error))
    flash(_("Retention policy saved."), "success")
    return redirect(url_for("retention.policy"))
